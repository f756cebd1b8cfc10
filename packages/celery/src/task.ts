/**
 * Task: a named function registered with an app. `delay`/`applyAsync` send it to a worker,
 * `apply` runs it here and now, `s`/`si` make signatures (plain JSON data) for links and
 * canvases. The argument and result types come from the function.
 */
import { uuid } from '@q/kombu/internal'
import { type Outcome, type Runnable, runTask, type TaskFunction } from './execute.js'
import type { Signature } from './protocol/task-message.js'
import type { AsyncResult } from './result/async-result.js'
import { states, type TaskState } from './states.js'
import type { CallOptions, TaskCall, TaskOptions, TaskRequest } from './task-types.js'

/** What a Task needs from its app. */
export interface TaskHost {
  sendTask<R>(
    name: string,
    args?: unknown[],
    kwargs?: Record<string, unknown>,
    options?: CallOptions,
  ): Promise<AsyncResult<R>>
  sendTasks<R>(
    name: string,
    calls: ReadonlyArray<unknown[] | TaskCall>,
    options?: CallOptions,
  ): Promise<AsyncResult<R>[]>
  readonly hostname: string
}

/** The result of `apply()`: known at once. */
export class EagerResult<T = unknown> {
  constructor(
    readonly id: string,
    readonly state: TaskState,
    private readonly value: unknown,
    readonly traceback: string | null = null,
  ) {}

  /** The return value; throws the task's error when it failed (unless propagate: false). */
  get(options: { propagate?: boolean } = {}): T {
    if (this.state === states.FAILURE && (options.propagate ?? true)) throw this.value
    return this.value as T
  }

  get result(): unknown {
    return this.value
  }

  successful(): boolean {
    return this.state === states.SUCCESS
  }

  failed(): boolean {
    return this.state === states.FAILURE
  }

  ready(): boolean {
    return true
  }
}

/** A registered task. `A` are its arguments, `R` its (awaited) result. */
export class Task<A extends unknown[] = unknown[], R = unknown> implements Runnable {
  constructor(
    readonly name: string,
    readonly fn: TaskFunction,
    readonly options: Readonly<TaskOptions>,
    private readonly host: TaskHost,
  ) {}

  /** Sends the task with positional arguments. */
  delay(...args: A): Promise<AsyncResult<R>> {
    return this.applyAsync(args)
  }

  /** Sends the task with arguments, keyword arguments and call options. */
  applyAsync(args?: A, kwargs?: Record<string, unknown>, options?: CallOptions): Promise<AsyncResult<R>> {
    return this.host.sendTask<R>(this.name, args ?? [], kwargs ?? {}, this.callOptions(options))
  }

  /**
   * Sends many calls of this task at once; resolves with their results, in order. Each call is
   * an args array or `{ args, kwargs, options }`; `options` apply to all of them (under each
   * call's own). Calls to the same queue are published as one batch (one LPUSH on Redis).
   *
   * @example
   * const results = await add.applyMany([[1, 2], [3, 4]], { queue: 'math' })
   */
  applyMany(calls: ReadonlyArray<A | TaskCall<A>>, options?: CallOptions): Promise<AsyncResult<R>[]> {
    return this.host.sendTasks<R>(
      this.name,
      calls as ReadonlyArray<unknown[] | TaskCall>,
      this.callOptions(options),
    )
  }

  /** The task's own defaults as call options, made once; `hasDefaults` when it sets any. */
  private defaults: CallOptions | undefined
  private hasDefaults = false

  /** The call options of a send: the task's defaults under the call's, merged only when both have some. */
  private callOptions(options: CallOptions | undefined): CallOptions {
    const o = this.options
    if (!this.defaults) {
      this.defaults = Object.freeze({
        ...(o.queue !== undefined ? { queue: o.queue } : {}),
        ...(o.priority != null ? { priority: o.priority } : {}),
        ...(o.serializer ? { serializer: o.serializer } : {}),
        ...(o.compression ? { compression: o.compression } : {}),
        ...(o.expires != null ? { expires: o.expires } : {}),
        ...(o.timeLimit != null ? { timeLimit: o.timeLimit } : {}),
        ...(o.softTimeLimit != null ? { softTimeLimit: o.softTimeLimit } : {}),
        ...(o.ignoreResult ? { ignoreResult: true } : {}),
      })
      this.hasDefaults = Object.keys(this.defaults).length > 0
    }
    if (!options) return this.defaults
    return this.hasDefaults ? { ...this.defaults, ...options } : options
  }

  /**
   * Runs the task here and now (Celery's `apply`): retries run again at once, ignoring their
   * countdown, up to maxRetries.
   */
  async apply(
    args?: A,
    kwargs: Record<string, unknown> = {},
    options: { taskId?: string } = {},
  ): Promise<EagerResult<R>> {
    const id = options.taskId ?? uuid()
    let request = eagerRequest(id, this.name, (args ?? []) as unknown[], kwargs, this.host.hostname)
    for (;;) {
      const outcome: Outcome = await runTask(this, request, {
        updateState: async () => {},
        timeLimit: this.options.timeLimit ?? null,
        softTimeLimit: this.options.softTimeLimit ?? null,
      })
      if (outcome.state === states.SUCCESS) return new EagerResult<R>(id, states.SUCCESS, outcome.result)
      if (outcome.state === states.RETRY) {
        const call = outcome.retry.call as { args?: unknown[]; kwargs?: Record<string, unknown> }
        request = {
          ...request,
          retries: request.retries + 1,
          args: call.args ?? request.args,
          kwargs: call.kwargs ?? request.kwargs,
        }
        continue
      }
      if (outcome.state === states.FAILURE) {
        const err = outcome.error
        return new EagerResult<R>(id, states.FAILURE, err, err instanceof Error ? (err.stack ?? null) : null)
      }
      return new EagerResult<R>(id, outcome.state, null)
    }
  }

  /** A signature of this task (Celery's `.s()`): the parent's result is prepended when linked. */
  s(...args: unknown[]): Signature {
    return signature(this.name, args)
  }

  /** An immutable signature (Celery's `.si()`): called with exactly these arguments. */
  si(...args: unknown[]): Signature {
    return { ...signature(this.name, args), immutable: true }
  }
}

/** A signature by task name: plain JSON data, as Celery's Signature dict. */
export function signature(
  task: string,
  args: unknown[] = [],
  kwargs: Record<string, unknown> = {},
  options: Record<string, unknown> = {},
): Signature {
  return { task, args, kwargs, options, subtask_type: null, immutable: false }
}

function eagerRequest(
  id: string,
  task: string,
  args: unknown[],
  kwargs: Record<string, unknown>,
  hostname: string,
): TaskRequest {
  return {
    id,
    task,
    args,
    kwargs,
    retries: 0,
    eta: undefined,
    expires: undefined,
    headers: {},
    parentId: null,
    rootId: id,
    groupId: null,
    groupIndex: null,
    hostname,
    deliveryInfo: undefined,
    replyTo: undefined,
    correlationId: id,
    timeLimit: null,
    softTimeLimit: null,
    ignoreResult: false,
    isEager: true,
    callbacks: null,
    errbacks: null,
    chain: null,
    chord: null,
  }
}
