/**
 * The shapes of tasks: options a task is declared with, options of one call, and the context a
 * bound task receives while it runs.
 */
import type { DeliveryInfo, Queue, RetryPolicy } from '@q/kombu'
import type { Signature } from './protocol/task-message.js'
import type { TaskState } from './states.js'

/** Options of a task definition (Celery's task attributes, camelCase). Durations in seconds. */
export interface TaskOptions {
  /** The function's first parameter is the task context. */
  bind?: boolean
  /** Names of the positional parameters, so keyword arguments from Python land in place. */
  params?: readonly string[]
  maxRetries?: number | null
  /** Seconds before a retry without countdown/eta; default 180. */
  defaultRetryDelay?: number
  /** Error classes (or names) that retry the task by themselves. */
  autoretryFor?: ReadonlyArray<ErrorMatcher>
  /** Error classes (or names) that never auto-retry, even when autoretryFor matches. */
  dontAutoretryFor?: ReadonlyArray<ErrorMatcher>
  /** Exponential backoff for autoretries: true (factor 1) or the factor in seconds. */
  retryBackoff?: boolean | number
  /** Longest backoff, seconds; default 600. */
  retryBackoffMax?: number
  /** Randomize the backoff (full jitter); default true. */
  retryJitter?: boolean
  /** Options given to retry() by autoretries (e.g. maxRetries, queue). */
  retryKwargs?: RetryOptions
  /** Rate limit per worker: '10/s', '100/m', '1000/h', or a number per second. */
  rateLimit?: string | number | null
  timeLimit?: number | null
  softTimeLimit?: number | null
  ignoreResult?: boolean
  storeErrorsEvenIfIgnored?: boolean
  acksLate?: boolean
  acksOnFailureOrTimeout?: boolean
  rejectOnWorkerLost?: boolean
  trackStarted?: boolean
  /** Default expiry of calls, seconds or a date. */
  expires?: number | Date | null
  priority?: number | null
  serializer?: string
  compression?: string
  /** Default queue of the task's calls. */
  queue?: string
}

/** An error class, or an error name, to match thrown errors against. */
export type ErrorMatcher = (abstract new (...args: never[]) => Error) | string

/** Options of one call (`applyAsync`, `sendTask`). Durations in seconds, as in Celery. */
export interface CallOptions {
  /** Seconds from now before it may run. */
  countdown?: number
  /** When it may run. */
  eta?: Date
  /** Seconds from now, or a date, after which it is revoked instead of run. */
  expires?: number | Date
  queue?: string | Queue
  exchange?: string
  routingKey?: string
  priority?: number
  taskId?: string
  /** Extra message headers. */
  headers?: Record<string, unknown>
  serializer?: string
  compression?: string
  /** Signatures to call with the result on success. */
  link?: Signature | readonly Signature[]
  /** Signatures to call with the task id on failure. */
  linkError?: Signature | readonly Signature[]
  ignoreResult?: boolean
  timeLimit?: number
  softTimeLimit?: number
  /** Name shown instead of the task's in logs and monitors. */
  shadow?: string
  /** Retry the publish on connection errors (default: taskPublishRetry). */
  retry?: boolean
  retryPolicy?: RetryPolicy
  /** Message properties carried as is (SQS MessageGroupId, ...). */
  properties?: Record<string, unknown>
  /** Workflow ids, set when a task is sent from another task. */
  parentId?: string
  rootId?: string
  groupId?: string
  groupIndex?: number
  retries?: number
  /** Where rpc:// results of this call go (default: this app). Carried over by retries. */
  replyTo?: string
  /** Chain and chord embedding (canvas). */
  chain?: readonly Signature[]
  chord?: Signature
}

/**
 * One call of a batch (`task.applyMany`, `app.sendTasks`): its arguments, and the options it
 * sets over the batch's. A bare array is the same as `{ args }`.
 */
export interface TaskCall<A extends unknown[] = unknown[]> {
  args?: A
  kwargs?: Record<string, unknown>
  options?: CallOptions
}

/** Options of `context.retry()`. */
export interface RetryOptions {
  /** Seconds before the retry runs; default the task's defaultRetryDelay. */
  countdown?: number
  eta?: Date
  /** The error that caused the retry (re-thrown when retries run out). */
  exc?: unknown
  maxRetries?: number | null
  args?: unknown[]
  kwargs?: Record<string, unknown>
  queue?: string
  priority?: number
}

/** What a running task knows about its call (Celery's `self.request`). */
export interface TaskRequest {
  id: string
  task: string
  args: unknown[]
  kwargs: Record<string, unknown>
  retries: number
  eta: Date | undefined
  expires: Date | undefined
  headers: Record<string, unknown>
  parentId: string | null
  rootId: string
  groupId: string | null
  groupIndex: number | null
  /** The worker's node name. */
  hostname: string
  deliveryInfo: DeliveryInfo | undefined
  replyTo: string | undefined
  correlationId: string | undefined
  timeLimit: number | null
  softTimeLimit: number | null
  ignoreResult: boolean
  /** True when run by `apply()` in the caller's process. */
  isEager: boolean
  callbacks: Signature[] | null
  errbacks: Signature[] | null
  chain: Signature[] | null
  chord: Signature | null
}

/** The context of a bound task. */
export interface TaskContext {
  readonly request: TaskRequest
  /** Fires when the soft time limit passes or the task is revoked with terminate. */
  readonly signal: AbortSignal
  /** Schedules a retry and throws Retry (or the error, once retries run out). */
  retry(options?: RetryOptions): never
  /** Stores a custom state with meta, e.g. `updateState('PROGRESS', { done: 3, total: 10 })`. */
  updateState(state: TaskState, meta?: unknown): Promise<void>
}
