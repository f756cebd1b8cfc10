/**
 * The result backend contract. Backends are chosen by URL (memory://, rpc://, redis://...) and
 * store Celery's result meta, so a Python client reads what a q worker stored and the reverse.
 */
import type { TaskState } from '../states.js'

/** Celery's stored result meta (`celery-task-meta-<id>`), key order as Celery writes it. */
export interface TaskMeta {
  status: TaskState
  result: unknown
  traceback: string | null
  children: unknown[]
  /** Naive UTC ISO time, null until ready. */
  date_done: string | null
  group_id?: string
  parent_id?: string
  /** With resultExtended. */
  name?: string
  args?: unknown[]
  kwargs?: Record<string, unknown>
  worker?: string
  retries?: number
  queue?: string
  task_id: string
}

/** What the worker knows about the task whose result it stores. */
export interface StoreRequest {
  id: string
  task?: string
  args?: unknown[]
  kwargs?: Record<string, unknown>
  hostname?: string
  retries?: number
  group?: string | null
  parentId?: string | null
  /** The routing key it was delivered with (`queue` in extended results). */
  routingKey?: string
  /** rpc:// replies go here. */
  replyTo?: string
  correlationId?: string
}

/** Options of a wait for a result. */
export interface WaitOptions {
  /** Milliseconds; undefined waits for ever. */
  timeout?: number
  signal?: AbortSignal
  /** Polling interval, ms, for backends that cannot push. */
  interval?: number
  /** Called with every intermediate meta (STARTED, RETRY, PROGRESS...). */
  onUpdate?: (meta: TaskMeta) => void
}

/** A result backend. */
export interface ResultBackend {
  /** The backend URL, password masked. */
  readonly url: string
  /** Stores a task's state; a stored SUCCESS is never overwritten (as Celery). */
  storeResult(
    taskId: string,
    result: unknown,
    state: TaskState,
    options?: { traceback?: string | null; request?: StoreRequest; children?: unknown[] },
  ): Promise<void>
  /** The current meta; PENDING when the backend knows nothing of the id. */
  getTaskMeta(taskId: string): Promise<TaskMeta>
  /** Resolves with the meta once the task is ready (SUCCESS, FAILURE, REVOKED); pushed, not polled, where the backend can. */
  waitForReady(taskId: string, options?: WaitOptions): Promise<TaskMeta>
  /** Deletes a task's result. */
  forget(taskId: string): Promise<void>
  /** Called when a task is sent, before it can finish (rpc:// declares its reply queue here). */
  onTaskCall?(taskId: string): void | Promise<void>
  /** Remembers revoked ids for `expiresSeconds`, so a restarted worker honours them. */
  saveRevoked?(ids: readonly string[], expiresSeconds: number): Promise<void>
  /** The revoked ids still remembered. */
  loadRevoked?(): Promise<string[]>
  close(): Promise<void>
}
