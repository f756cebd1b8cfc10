/**
 * Task states, as Celery names them. PENDING is never stored (an unknown id reads as PENDING);
 * RECEIVED and REJECTED exist as events only.
 */

/** Built-in task states. Custom states (e.g. `PROGRESS`) are any other string. */
export const states = Object.freeze({
  PENDING: 'PENDING',
  RECEIVED: 'RECEIVED',
  STARTED: 'STARTED',
  SUCCESS: 'SUCCESS',
  FAILURE: 'FAILURE',
  RETRY: 'RETRY',
  REVOKED: 'REVOKED',
  REJECTED: 'REJECTED',
  IGNORED: 'IGNORED',
} as const)

/** A task state: a built-in one or a custom one. */
export type TaskState = (typeof states)[keyof typeof states] | (string & {})

/** States after which nothing more happens. */
export const READY_STATES: ReadonlySet<string> = new Set([states.SUCCESS, states.FAILURE, states.REVOKED])
/** States whose result is an exception. */
export const EXCEPTION_STATES: ReadonlySet<string> = new Set([states.RETRY, states.FAILURE, states.REVOKED])
/** States that `get()` turns into a thrown error. */
export const PROPAGATE_STATES: ReadonlySet<string> = new Set([states.FAILURE, states.REVOKED])
