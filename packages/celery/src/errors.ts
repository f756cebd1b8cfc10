/**
 * Every error @q/celery throws, and the control-flow signals a task raises. Each carries a
 * stable `code`, a `name` equal to its class name (or, for errors from a remote task, the
 * remote exception's type), and `cause` where there is one.
 *
 * ```
 * CeleryError
 * ├── ConfigurationError         a bad setting or option, found at construction
 * ├── NotRegisteredError          a task name nobody registered here
 * ├── TimeoutError                AsyncResult.get() waited longer than its timeout
 * ├── TaskError                   a task failed; `excType`, `excModule`, `excArgs`, `traceback`
 * │   │                           as Celery puts them on the wire (exc_type, exc_module, exc_message)
 * │   ├── TaskRevokedError        revoked, expired or terminated
 * │   ├── TimeLimitExceeded       the hard time limit: the task was abandoned
 * │   ├── SoftTimeLimitExceeded   the soft time limit: the task's AbortSignal fired
 * │   ├── MaxRetriesExceededError retry() past maxRetries
 * │   └── ChordError              a chord member failed
 * └── TaskPredicate               raised by a task to steer the worker, not a failure
 *     ├── Retry                   retry later (task.retry() throws it)
 *     ├── Reject                  reject the message (requeue or drop)
 *     └── Ignore                  store nothing, do nothing more
 * ```
 */

/** Stable machine-readable codes. */
export type CeleryErrorCode =
  | 'ERR_CELERY'
  | 'ERR_CONFIGURATION'
  | 'ERR_NOT_REGISTERED'
  | 'ERR_TIMEOUT'
  | 'ERR_TASK'
  | 'ERR_TASK_REVOKED'
  | 'ERR_TIME_LIMIT'
  | 'ERR_SOFT_TIME_LIMIT'
  | 'ERR_MAX_RETRIES'
  | 'ERR_CHORD'
  | 'ERR_RETRY'
  | 'ERR_REJECT'
  | 'ERR_IGNORE'

/** Root of @q/celery's errors. */
export class CeleryError extends Error {
  readonly code: CeleryErrorCode = 'ERR_CELERY'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }
}

/** A bad setting or option. */
export class ConfigurationError extends CeleryError {
  override readonly code: CeleryErrorCode = 'ERR_CONFIGURATION'
}

/** A task name that is not registered in this app. */
export class NotRegisteredError extends CeleryError {
  override readonly code: CeleryErrorCode = 'ERR_NOT_REGISTERED'
}

/** Waiting for a result took longer than allowed. */
export class TimeoutError extends CeleryError {
  override readonly code: CeleryErrorCode = 'ERR_TIMEOUT'
}

/** How a task failure is described on the wire (Celery's exception dict). */
export interface TaskErrorDetails {
  /** Exception class name (`exc_type`), e.g. `ValueError`. */
  excType?: string
  /** Exception module (`exc_module`), e.g. `builtins`. */
  excModule?: string
  /** Exception arguments (`exc_message`), e.g. `['boom', 42]`. */
  excArgs?: unknown[]
  /** The traceback text, when the worker sent one. */
  traceback?: string | null
  cause?: unknown
}

/**
 * A task failed. Errors that came from another worker (Python or q) keep the remote type in
 * `name` and `excType`, so `err.name === 'ValueError'` for a Python ValueError.
 */
export class TaskError extends CeleryError {
  override readonly code: CeleryErrorCode = 'ERR_TASK'
  readonly excType: string
  readonly excModule: string
  readonly excArgs: unknown[]
  readonly traceback: string | null
  constructor(message: string, details: TaskErrorDetails = {}) {
    super(message, { cause: details.cause })
    this.excType = details.excType ?? new.target.name
    this.excModule = details.excModule ?? 'celery.exceptions'
    this.excArgs = details.excArgs ?? [message]
    this.traceback = details.traceback ?? null
    if (details.excType) this.name = details.excType
  }
}

/** The task was revoked (`revoked`), expired (`expired`) or terminated (`terminated`). */
export class TaskRevokedError extends TaskError {
  override readonly code: CeleryErrorCode = 'ERR_TASK_REVOKED'
  constructor(reason = 'revoked', details: TaskErrorDetails = {}) {
    super(reason, {
      excType: 'TaskRevokedError',
      excModule: 'celery.exceptions',
      excArgs: [reason],
      ...details,
    })
  }
}

/** The hard time limit passed: the task was abandoned and its slot freed. */
export class TimeLimitExceeded extends TaskError {
  override readonly code: CeleryErrorCode = 'ERR_TIME_LIMIT'
  constructor(seconds: number, details: TaskErrorDetails = {}) {
    super(`TimeLimitExceeded(${seconds},)`, {
      excType: 'TimeLimitExceeded',
      excModule: 'billiard.exceptions',
      excArgs: [seconds],
      ...details,
    })
  }
}

/** The soft time limit passed: the task's AbortSignal fired with this as its reason. */
export class SoftTimeLimitExceeded extends TaskError {
  override readonly code: CeleryErrorCode = 'ERR_SOFT_TIME_LIMIT'
  constructor(details: TaskErrorDetails = {}) {
    super('SoftTimeLimitExceeded()', {
      excType: 'SoftTimeLimitExceeded',
      excModule: 'billiard.exceptions',
      excArgs: [],
      ...details,
    })
  }
}

/** `retry()` was called more often than `maxRetries` allows. */
export class MaxRetriesExceededError extends TaskError {
  override readonly code: CeleryErrorCode = 'ERR_MAX_RETRIES'
  constructor(message: string, details: TaskErrorDetails = {}) {
    super(message, { excType: 'MaxRetriesExceededError', excModule: 'celery.exceptions', ...details })
  }
}

/** A chord header member failed, so the body cannot run. */
export class ChordError extends TaskError {
  override readonly code: CeleryErrorCode = 'ERR_CHORD'
  constructor(message: string, details: TaskErrorDetails = {}) {
    super(message, { excType: 'ChordError', excModule: 'celery.exceptions', ...details })
  }
}

/** Base of the signals a task raises to steer the worker. Not failures. */
export class TaskPredicate extends CeleryError {}

/** Retry the task later. Thrown by `context.retry()`; the worker stores RETRY and acks. */
export class Retry extends TaskPredicate {
  override readonly code: CeleryErrorCode = 'ERR_RETRY'
  /** The error that caused the retry, if any. */
  readonly exc: unknown
  /** When the retry will run. */
  readonly when: Date | undefined
  /** How to send the retry: new args, kwargs, queue, priority (the worker sends it). */
  readonly call: Readonly<Record<string, unknown>>
  constructor(message: string, options: { exc?: unknown; when?: Date; call?: Record<string, unknown> } = {}) {
    super(message, { cause: options.exc })
    this.exc = options.exc
    this.when = options.when
    this.call = options.call ?? {}
  }
}

/** Reject the task's message: dropped (or dead-lettered), or requeued with `requeue`. */
export class Reject extends TaskPredicate {
  override readonly code: CeleryErrorCode = 'ERR_REJECT'
  readonly requeue: boolean
  constructor(reason = 'rejected', options: { requeue?: boolean } = {}) {
    super(reason)
    this.requeue = options.requeue ?? false
  }
}

/** Ignore the task: store no result and send nothing more. */
export class Ignore extends TaskPredicate {
  override readonly code: CeleryErrorCode = 'ERR_IGNORE'
}
