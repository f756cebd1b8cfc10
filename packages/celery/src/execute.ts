/**
 * Running one task call: the tracer. It builds the bound context, calls the function, applies
 * the time limits and autoretry rules, and says what happened as an Outcome. Storing results,
 * acking, retry messages and callbacks are the caller's (the worker's or `apply()`'s) business,
 * so this stays a pure function of the call.
 */
import {
  Ignore,
  MaxRetriesExceededError,
  Reject,
  Retry,
  SoftTimeLimitExceeded,
  TaskPredicate,
  TimeLimitExceeded,
} from './errors.js'
import { errorRepr, serializeError } from './result/exceptions.js'
import { states, type TaskState } from './states.js'
import type { ErrorMatcher, RetryOptions, TaskContext, TaskOptions, TaskRequest } from './task-types.js'

/** How a task run ended. */
export type Outcome =
  | { state: 'SUCCESS'; result: unknown; runtime: number }
  | { state: 'FAILURE'; error: unknown; runtime: number }
  | { state: 'RETRY'; retry: Retry; runtime: number }
  | { state: 'REJECTED'; requeue: boolean; reason: unknown; runtime: number }
  | { state: 'IGNORED'; runtime: number }

/** The function of a task, bound or not. */
export type TaskFunction = (...args: never[]) => unknown

/** A task definition as the tracer needs it. */
export interface Runnable {
  readonly name: string
  readonly fn: TaskFunction
  readonly options: Readonly<TaskOptions>
}

/** What the tracer needs from its surroundings. */
export interface RunEnvironment {
  /** Stores a custom state (`updateState`). */
  updateState(request: TaskRequest, state: TaskState, meta: unknown): Promise<void>
  /** Seconds: the hard and soft limits in force (task options, call headers, app defaults). */
  timeLimit: number | null
  softTimeLimit: number | null
  /** Ends the run from outside (revoke with terminate). */
  terminate?: Terminator
}

/**
 * A RunEnvironment made per run: a class rather than an object literal, so that V8 cannot
 * pretenure it. Measured on a worker storing results (one task at a time): V8 marked the
 * literal's allocation site "tenure" (415 objects made, 415 alive at a scavenge, early in the
 * run), and from then on ~1.5 MB, a tenth of what the worker allocated, survived every scavenge
 * (pauses 1.5-3 ms, the old generation growing until the next full collection); with this and
 * RunContext as classes, ~0 (pauses 0.3-0.5 ms). `--no-allocation-site-pretenuring` had the same
 * effect, which is how the cause was found.
 */
export class TaskEnvironment implements RunEnvironment {
  constructor(
    readonly updateState: RunEnvironment['updateState'],
    readonly timeLimit: number | null,
    readonly softTimeLimit: number | null,
    readonly terminate?: Terminator,
  ) {}
}

const DEFAULT_MAX_RETRIES = 3
const DEFAULT_RETRY_DELAY = 180

function matches(err: unknown, list: ReadonlyArray<ErrorMatcher> | undefined): boolean {
  if (!list?.length || !(err instanceof Error)) return false
  return list.some((m) =>
    typeof m === 'string' ? err.name === m || err.constructor?.name === m : err instanceof m,
  )
}

/**
 * Celery's `get_exponential_backoff_interval`: min(max, factor * 2^retries), then with full
 * jitter a uniform pick in [0, countdown].
 */
export function backoffCountdown(factor: number, retries: number, maximum: number, jitter: boolean): number {
  const countdown = Math.min(maximum, factor * 2 ** retries)
  return jitter ? Math.floor(Math.random() * (countdown + 1)) : Math.max(0, countdown)
}

/** Builds the Retry to throw for `retry(options)`, or the error when retries are exhausted. */
export function makeRetry(task: Runnable, request: TaskRequest, o: RetryOptions = {}): Retry {
  // null (on the call or the task) retries for ever, as Celery's max_retries=None.
  const own = task.options.maxRetries
  const max = o.maxRetries !== undefined ? o.maxRetries : own !== undefined ? own : DEFAULT_MAX_RETRIES
  if (max !== null && request.retries >= max) {
    if (o.exc !== undefined) throw o.exc
    throw new MaxRetriesExceededError(
      `Can't retry ${task.name}[${request.id}] args:${JSON.stringify(request.args)} kwargs:${JSON.stringify(request.kwargs)}`,
    )
  }
  const countdown = o.eta ? undefined : (o.countdown ?? task.options.defaultRetryDelay ?? DEFAULT_RETRY_DELAY)
  const when = o.eta ?? new Date(Date.now() + (countdown ?? 0) * 1000)
  // As Celery's Retry message: `Retry in 30s: KeyError('try again')`.
  const why = o.exc instanceof Error ? errorRepr(serializeError(o.exc)) : ''
  return new Retry(
    `Retry in ${countdown ?? `${(when.getTime() - Date.now()) / 1000}`}s${why ? `: ${why}` : ''}`,
    {
      exc: o.exc,
      when,
      call: { args: o.args, kwargs: o.kwargs, queue: o.queue, priority: o.priority },
    },
  )
}

/** The arguments the function is called with: positional args, then kwargs mapped by `params` or appended. */
export function callArguments(task: Runnable, request: TaskRequest): unknown[] {
  return argumentsOf(task, request.args, request.kwargs)
}

/**
 * {@link callArguments} from the args and kwargs themselves. The common call (no kwargs, no
 * `params`) gets `args` back as is: it is only ever spread into the call, never kept.
 */
export function argumentsOf(
  task: Runnable,
  argList: unknown[],
  kwargList: Record<string, unknown>,
): unknown[] {
  const params = task.options.params
  if (!params && isEmpty(kwargList)) return argList
  const args = [...argList]
  const kwargs = { ...kwargList }
  if (params) {
    params.forEach((p, i) => {
      if (p in kwargs && i >= args.length) {
        while (args.length < i) args.push(undefined)
        args[i] = kwargs[p]
        delete kwargs[p]
      }
    })
  }
  if (Object.keys(kwargs).length) args.push(kwargs)
  return args
}

function isEmpty(o: Record<string, unknown>): boolean {
  for (const _ in o) return false
  return true
}

/**
 * Ends a running task from outside (revoke with terminate). A plain callback list rather than an
 * AbortController: one is made per task, and AbortSignal's event machinery costs more than the
 * task itself on the hot path.
 */
export class Terminator {
  aborted = false
  reason: unknown
  private listener: ((reason: unknown) => void) | undefined

  /** Terminates; the running task (if any) is abandoned with `reason`. */
  terminate(reason: unknown): void {
    if (this.aborted) return
    this.aborted = true
    this.reason = reason
    this.listener?.(reason)
  }

  /** Calls `listener` on termination (at once if it already happened). */
  onTerminate(listener: (reason: unknown) => void): void {
    if (this.aborted) listener(this.reason)
    else this.listener = listener
  }
}

/**
 * The context a bound task gets. A class, not an object literal, as {@link TaskEnvironment}: V8
 * may decide to allocate a literal's objects straight in the old generation once it saw most of
 * them survive a young-generation collection, and each such object, dead, then keeps the young
 * objects it points to (the run's request, message and closures) alive until the next full
 * collection. A class instance carries no allocation site: V8 has nothing to pretenure it by.
 */
class RunContext implements TaskContext {
  /** Made only if the task asks for the signal: most tasks never do. */
  controller: AbortController | undefined = undefined
  /** Set when the soft time limit passed: a signal asked for later is aborted already. */
  softReason: unknown = undefined
  // Own properties, not methods: a task may take them off the context (`const { retry } = ctx`).
  readonly retry: (options?: RetryOptions) => never
  readonly updateState: (state: TaskState, meta?: unknown) => Promise<void>

  constructor(
    readonly request: TaskRequest,
    task: Runnable,
    env: RunEnvironment,
  ) {
    this.retry = (o) => {
      throw makeRetry(task, request, o)
    }
    this.updateState = (state, meta) => env.updateState(request, state, meta)
  }

  get signal(): AbortSignal {
    this.controller ??= new AbortController()
    if (this.softReason !== undefined && !this.controller.signal.aborted)
      this.controller.abort(this.softReason)
    return this.controller.signal
  }
}

/** Runs a task call to its Outcome. Never throws. */
export function runTask(task: Runnable, request: TaskRequest, env: RunEnvironment): Promise<Outcome> {
  const started = performance.now()
  const runtime = () => (performance.now() - started) / 1000
  const context = new RunContext(request, task, env)
  return new Promise<Outcome>((resolve) => {
    let settled = false
    let soft: NodeJS.Timeout | undefined
    let hard: NodeJS.Timeout | undefined
    const settle = (outcome: Outcome) => {
      if (settled) return
      settled = true
      clearTimeout(soft)
      clearTimeout(hard)
      // Release whatever the task still does with its signal (an abandoned call's I/O, say).
      const controller = context.controller
      if (controller && !controller.signal.aborted) {
        controller.abort(outcome.state === states.FAILURE ? outcome.error : new Error('task finished'))
      }
      resolve(outcome)
    }
    const fail = (err: unknown) => settle(classify(task, request, err, runtime()))
    if (env.softTimeLimit) {
      soft = setTimeout(() => {
        context.softReason = new SoftTimeLimitExceeded()
        context.controller?.abort(context.softReason)
      }, env.softTimeLimit * 1000)
    }
    if (env.timeLimit) {
      // The hard limit abandons the call: JS cannot kill it, but its slot and result are released.
      const limit = env.timeLimit
      hard = setTimeout(() => fail(new TimeLimitExceeded(limit)), limit * 1000)
    }
    env.terminate?.onTerminate((reason) => {
      context.controller?.abort(reason)
      fail(reason)
    })
    try {
      const args = argumentsOf(task, request.args, request.kwargs)
      const fn = task.fn as (...a: unknown[]) => unknown
      const r = task.options.bind ? fn(context, ...args) : fn(...args)
      if (r && typeof (r as PromiseLike<unknown>).then === 'function') {
        ;(r as PromiseLike<unknown>).then(
          (result) => settle({ state: states.SUCCESS, result, runtime: runtime() }),
          fail,
        )
      } else settle({ state: states.SUCCESS, result: r, runtime: runtime() })
    } catch (err) {
      fail(err)
    }
  })
}

/** What a plain run reads of its call, only if it fails or returns a promise (a worker's Request). */
export interface PlainCall {
  readonly request: TaskRequest
  readonly terminate: Terminator
}

/**
 * Runs a plain task: not bound, no time limits (the caller checked). No context, no timers, no
 * promise when the function returns a plain value: the Outcome comes back synchronously. A
 * function that returns a promise can still be terminated (revoke with terminate) until it
 * settles; `call.terminate` is read only then. `call.request` is read only if the run fails (to
 * classify the error: autoretry needs it); both are built on first read.
 */
export function runPlain(
  task: Runnable,
  args: unknown[],
  kwargs: Record<string, unknown>,
  call: PlainCall,
): Outcome | Promise<Outcome> {
  const started = performance.now()
  let r: unknown
  try {
    r = (task.fn as (...a: unknown[]) => unknown)(...argumentsOf(task, args, kwargs))
  } catch (err) {
    return classify(task, call.request, err, (performance.now() - started) / 1000)
  }
  if (!r || typeof (r as PromiseLike<unknown>).then !== 'function') {
    return { state: states.SUCCESS, result: r, runtime: (performance.now() - started) / 1000 }
  }
  return new Promise<Outcome>((resolve) => {
    let settled = false
    const fail = (err: unknown) => {
      if (settled) return
      settled = true
      resolve(classify(task, call.request, err, (performance.now() - started) / 1000))
    }
    call.terminate.onTerminate(fail)
    ;(r as PromiseLike<unknown>).then((result) => {
      if (settled) return
      settled = true
      resolve({ state: states.SUCCESS, result, runtime: (performance.now() - started) / 1000 })
    }, fail)
  })
}

function classify(task: Runnable, request: TaskRequest, err: unknown, runtime: number): Outcome {
  if (err instanceof Retry) return { state: states.RETRY, retry: err, runtime }
  if (err instanceof Reject) return { state: states.REJECTED, requeue: err.requeue, reason: err, runtime }
  if (err instanceof Ignore) return { state: states.IGNORED, runtime }
  const o = task.options
  if (!(err instanceof TaskPredicate) && matches(err, o.autoretryFor) && !matches(err, o.dontAutoretryFor)) {
    const factor = o.retryBackoff === true ? 1 : typeof o.retryBackoff === 'number' ? o.retryBackoff : 0
    const countdown = factor
      ? backoffCountdown(factor, request.retries, o.retryBackoffMax ?? 600, o.retryJitter ?? true)
      : undefined
    try {
      const retryOptions = { ...o.retryKwargs, exc: err, ...(countdown !== undefined ? { countdown } : {}) }
      return { state: states.RETRY, retry: makeRetry(task, request, retryOptions), runtime }
    } catch (final) {
      return { state: states.FAILURE, error: final, runtime }
    }
  }
  return { state: states.FAILURE, error: err, runtime }
}
