/**
 * AsyncResult: a handle on a task's result, read from the app's result backend. Waiting is
 * pushed by the backend where it can (Redis pub/sub, rpc reply queues, memory), not polled.
 */
import type { ResultBackend, TaskMeta } from '../backends/types.js'
import { CeleryError } from '../errors.js'
import { PROPAGATE_STATES, READY_STATES, states, type TaskState } from '../states.js'
import { deserializeError } from './exceptions.js'

/** What an AsyncResult needs from its app. */
export interface ResultHost {
  /** The app's result backend, loaded on first use; undefined when none is configured. */
  backend(): Promise<ResultBackend | undefined>
  revoke(taskIds: string | string[], options?: { terminate?: boolean; signal?: string }): Promise<void>
}

/** Options of `get()`. */
export interface GetOptions {
  /** Milliseconds to wait; default for ever. */
  timeout?: number
  /** Throw the task's error when it failed (default true). */
  propagate?: boolean
  /** Polling interval (ms) for backends that cannot push. */
  interval?: number
  /** Called with intermediate states (STARTED, PROGRESS...). */
  onUpdate?: (meta: TaskMeta) => void
  signal?: AbortSignal
}

/** The result of one task call. */
export class AsyncResult<T = unknown> {
  constructor(
    readonly id: string,
    private readonly host: ResultHost,
    /** The result this one came after, in a chain. */
    readonly parent?: AsyncResult,
  ) {}

  private async backend(): Promise<ResultBackend> {
    const b = await this.host.backend()
    if (!b)
      throw new CeleryError(
        'No result backend is configured: set resultBackend (e.g. redis://, rpc://, memory://)',
      )
    return b
  }

  /** The stored meta, as Celery stores it. */
  async meta(): Promise<TaskMeta> {
    return (await this.backend()).getTaskMeta(this.id)
  }

  /** Waits for the task and returns its result; throws its error when it failed (unless propagate: false). */
  async get(options: GetOptions = {}): Promise<T> {
    const meta = await (await this.backend()).waitForReady(this.id, options)
    return this.unwrap(meta, options.propagate ?? true) as T
  }

  async state(): Promise<TaskState> {
    return (await this.meta()).status
  }

  /** True once SUCCESS, FAILURE or REVOKED. */
  async ready(): Promise<boolean> {
    return READY_STATES.has(await this.state())
  }

  async successful(): Promise<boolean> {
    return (await this.state()) === states.SUCCESS
  }

  async failed(): Promise<boolean> {
    return (await this.state()) === states.FAILURE
  }

  /** The result, the error (as a typed error) or the custom-state meta. */
  async info(): Promise<unknown> {
    const meta = await this.meta()
    return this.unwrap(meta, false)
  }

  /** Same as info(), as Celery's `result`. */
  result(): Promise<unknown> {
    return this.info()
  }

  async traceback(): Promise<string | null> {
    return (await this.meta()).traceback
  }

  /** When the task finished (UTC), or undefined. */
  async dateDone(): Promise<Date | undefined> {
    const d = (await this.meta()).date_done
    return d ? new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(d) ? d : `${d}Z`) : undefined
  }

  /** The results of the tasks this one started (chains, groups), as far as the backend knows. */
  async children(): Promise<AsyncResult[]> {
    const out: AsyncResult[] = []
    const walk = (node: unknown) => {
      // Celery's result tuples: [[id, parent], null] for a task, [[gid, parent], [...]] for a group.
      if (!Array.isArray(node)) return
      const [head, members] = node as [unknown, unknown]
      if (Array.isArray(members)) for (const m of members) walk(m)
      else if (Array.isArray(head) && typeof head[0] === 'string')
        out.push(new AsyncResult(head[0], this.host))
    }
    for (const c of (await this.meta()).children ?? []) walk(c)
    return out
  }

  /** Deletes the stored result. */
  async forget(): Promise<void> {
    await (await this.backend()).forget(this.id)
  }

  /** Revokes the task on every worker (Python ones too). */
  revoke(options: { terminate?: boolean; signal?: string } = {}): Promise<void> {
    return this.host.revoke(this.id, options)
  }

  toString(): string {
    return this.id
  }

  private unwrap(meta: TaskMeta, propagate: boolean): unknown {
    if (meta.status === states.SUCCESS) return meta.result
    if (PROPAGATE_STATES.has(meta.status) || meta.status === states.RETRY) {
      const err = deserializeError(meta.result, meta.traceback)
      if (propagate && PROPAGATE_STATES.has(meta.status)) throw err
      return err
    }
    return meta.result
  }
}
