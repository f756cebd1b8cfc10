/**
 * One task request on a worker, from accepted to settled: ack policy (early by default, late
 * with acksLate), the STARTED state, running through the tracer, storing the outcome, retries,
 * callbacks, and Celery's log lines. The strategy decides whether it runs; this runs it.
 */

import type { Message } from '@q/kombu'
import type { Celery } from '../app.js'
import type { StoreRequest } from '../backends/types.js'
import { TaskRevokedError } from '../errors.js'
import { type Outcome, runPlain, runTask, TaskEnvironment, Terminator } from '../execute.js'
import { saferepr } from '../protocol/python-repr.js'
import type { ReceivedTask } from '../protocol/task-message.js'
import { errorRepr, serializeError } from '../result/exceptions.js'
import { states } from '../states.js'
import type { Task } from '../task.js'
import type { TaskRequest } from '../task-types.js'
import type { Listed } from './active-requests.js'
import { sendCallbacks, sendErrbacks, sendRetry } from './follow-up.js'

/**
 * The settings the hot path reads for every task, copied once from the app's configuration
 * (frozen, so they cannot change; with its ~60 keys it is a dictionary-mode object, where each
 * read is a hash lookup).
 */
export interface HotSettings {
  readonly hasBackend: boolean
  readonly taskIgnoreResult: boolean
  readonly taskAcksLate: boolean
  readonly taskTimeLimit: number | null
  readonly taskSoftTimeLimit: number | null
  readonly workerDisableRateLimits: boolean
}

/** The {@link HotSettings} of an app. */
export function hotSettings(app: Celery): HotSettings {
  const c = app.conf
  return Object.freeze({
    hasBackend: !!c.resultBackend,
    taskIgnoreResult: c.taskIgnoreResult,
    taskAcksLate: c.taskAcksLate,
    taskTimeLimit: c.taskTimeLimit,
    taskSoftTimeLimit: c.taskSoftTimeLimit,
    workerDisableRateLimits: c.workerDisableRateLimits,
  })
}

/** What a request needs from its worker. */
export interface RequestHost {
  readonly app: Celery
  readonly settings: HotSettings
  readonly hostname: string
  log(level: 'info' | 'warn' | 'error' | 'debug', message: string, fields?: Record<string, unknown>): void
  /** True when lines at `level` are written: hot paths skip building the ones that are not. */
  logs(level: 'info' | 'warn' | 'error' | 'debug'): boolean
}

/** The result as Celery logs it: saferepr, at most 1024 characters (resultrepr_maxsize). */
function fmt(value: unknown): string {
  try {
    return saferepr(value, 1024)
  } catch {
    return String(value)
  }
}

/** Settled already: what a settlement that had nothing to wait for returns. */
const DONE: Promise<void> = Promise.resolve()

/** A task message accepted by a worker. */
export class Request implements Listed<Request> {
  private built: TaskRequest | undefined
  private terminator: Terminator | undefined
  timeStart: number | undefined
  /** @internal the worker's ActiveRequests links */
  listPrev: Request | undefined = undefined
  /** @internal */
  listNext: Request | undefined = undefined
  /** @internal */
  listed = false

  constructor(
    private readonly host: RequestHost,
    readonly message: Message,
    readonly received: ReceivedTask,
    readonly task: Task<never[], unknown>,
  ) {}

  /** The task id. */
  get id(): string {
    return this.received.id
  }

  /**
   * Celery's `self.request`: what the task, signals and the result backend see of the call.
   * Built on first use: a plain task whose result is not stored never needs it.
   */
  get request(): TaskRequest {
    this.built ??= this.buildRequest()
    return this.built
  }

  /** Ended by a revoke with terminate. Made on first use: most requests are never terminated. */
  get terminate(): Terminator {
    this.terminator ??= new Terminator()
    return this.terminator
  }

  /** The name shown in logs: the shadow name when set. */
  get displayName(): string {
    return this.received.shadow ?? this.received.task
  }

  private buildRequest(): TaskRequest {
    const r = this.received
    const { message } = this
    return {
      id: r.id,
      task: r.task,
      args: r.args,
      kwargs: r.kwargs,
      retries: r.retries,
      eta: r.eta,
      expires: r.expires,
      headers: r.headers,
      parentId: r.parentId,
      rootId: r.rootId,
      groupId: r.group,
      groupIndex: r.groupIndex,
      hostname: this.host.hostname,
      deliveryInfo: message.deliveryInfo,
      replyTo: message.properties.replyTo,
      correlationId: message.properties.correlationId ?? r.id,
      timeLimit: r.timeLimit,
      softTimeLimit: r.softTimeLimit,
      ignoreResult: r.ignoreResult,
      isEager: false,
      callbacks: r.embed.callbacks,
      errbacks: r.embed.errbacks,
      chain: r.embed.chain,
      chord: r.embed.chord,
    }
  }

  private get acksLate(): boolean {
    return this.task.options.acksLate ?? this.host.settings.taskAcksLate
  }

  private storeRequest(): StoreRequest {
    const r = this.request
    return {
      id: r.id,
      task: r.task,
      args: r.args,
      kwargs: r.kwargs,
      hostname: r.hostname,
      retries: r.retries,
      group: r.groupId,
      parentId: r.parentId,
      routingKey: this.message.deliveryInfo.routingKey,
      replyTo: r.replyTo,
      correlationId: r.correlationId,
    }
  }

  private ignoresResult(): boolean {
    return (
      this.received.ignoreResult || (this.task.options.ignoreResult ?? this.host.settings.taskIgnoreResult)
    )
  }

  /**
   * A plain run: not bound, no time limit, nothing to store on success, not terminated yet. It
   * needs no context, timers, backend or `request` object, and a synchronous task completes
   * without a single promise.
   */
  private plain(): boolean {
    const { options } = this.task
    const hot = this.host.settings
    const r = this.received
    return (
      !options.bind &&
      !this.terminator?.aborted &&
      (!hot.hasBackend || this.ignoresResult()) &&
      !(r.timeLimit ?? options.timeLimit ?? hot.taskTimeLimit) &&
      !(r.softTimeLimit ?? options.softTimeLimit ?? hot.taskSoftTimeLimit)
    )
  }

  /**
   * Runs the task and settles the message. Never throws, never rejects. Returns nothing when it
   * completed synchronously (a plain task returning a plain value), else a promise of its end.
   */
  execute(): Promise<void> | undefined {
    this.timeStart = Date.now()
    // The early ack does not wait for its round trip: the message is settled here at once.
    if (!this.acksLate) void this.settle('ack')
    if (!this.plain()) return this.executeFull()
    const { signals } = this.host.app
    if (signals.listenerCount('taskPrerun')) signals.send('taskPrerun', { request: this.request })
    const r = this.received
    const outcome = runPlain(this.task, r.args, r.kwargs, this)
    return isOutcome(outcome) ? this.conclude(outcome) : outcome.then((o) => this.conclude(o))
  }

  /** After a plain run: a success with nothing to send is settled synchronously. */
  private conclude(outcome: Outcome): Promise<void> | undefined {
    const e = this.received.embed
    if (outcome.state !== 'SUCCESS' || e.callbacks || e.chain) return this.settleOutcome(outcome)
    this.succeeded(outcome.result, outcome.runtime)
    if (this.message.acknowledged) {
      this.postrun(outcome)
      return undefined
    }
    return this.settle('ack').then(() => this.postrun(outcome))
  }

  /** The general run: STARTED state, result storing, time limits, bound context. */
  private async executeFull(): Promise<void> {
    const { app } = this.host
    const conf = app.conf
    const backend = await app.backend().catch(() => undefined)
    const store = !this.ignoresResult() ? backend : undefined
    if (store && (this.task.options.trackStarted ?? conf.taskTrackStarted)) {
      await store.storeResult(
        this.request.id,
        { pid: process.pid, hostname: this.host.hostname },
        states.STARTED,
        { request: this.storeRequest() },
      )
    }
    app.signals.sendLazy('taskPrerun', () => ({ request: this.request }))
    const outcome = await runTask(
      this.task,
      this.request,
      new TaskEnvironment(
        (req, state, meta) =>
          backend
            ? backend.storeResult(req.id, meta, state, { request: this.storeRequest() })
            : Promise.resolve(),
        this.received.timeLimit ?? this.task.options.timeLimit ?? conf.taskTimeLimit,
        this.received.softTimeLimit ?? this.task.options.softTimeLimit ?? conf.taskSoftTimeLimit,
        this.terminate,
      ),
    )
    await this.settleOutcome(outcome)
  }

  /** Stores, logs, signals and settles an outcome, then sends taskPostrun. Never rejects. */
  private async settleOutcome(outcome: Outcome): Promise<void> {
    try {
      await this.finish(outcome)
    } catch (err) {
      this.host.log(
        'error',
        `Task ${this.displayName}[${this.received.id}] could not be settled: ${(err as Error).message}`,
      )
      if (!this.message.acknowledged) await this.settle('requeue')
    }
    this.postrun(outcome)
  }

  private postrun(outcome: Outcome): void {
    // Nothing is built per task when nobody listens (the plain path's common case).
    const { signals } = this.host.app
    if (signals.listenerCount('taskPostrun') === 0) return
    signals.send('taskPostrun', {
      request: this.request,
      state: outcome.state,
      result: 'result' in outcome ? outcome.result : undefined,
    })
  }

  /** Logs a success and sends taskSuccess (both only when someone reads them). */
  private succeeded(result: unknown, runtime: number): void {
    if (this.host.logs('info')) {
      this.host.log(
        'info',
        `Task ${this.displayName}[${this.received.id}] succeeded in ${runtime.toFixed(3)}s: ${fmt(result)}`,
        { state: 'SUCCESS', runtime },
      )
    }
    const { signals } = this.host.app
    if (signals.listenerCount('taskSuccess') > 0)
      signals.send('taskSuccess', { request: this.request, result, runtime })
  }

  private async finish(outcome: Outcome): Promise<void> {
    const { app } = this.host
    const backend = await app.backend().catch(() => undefined)
    const id = this.received.id
    const name = this.displayName
    if (this.terminate.aborted && outcome.state !== 'SUCCESS') return this.revoke('terminated')
    switch (outcome.state) {
      case 'SUCCESS': {
        if (!this.ignoresResult())
          await backend?.storeResult(id, outcome.result, states.SUCCESS, { request: this.storeRequest() })
        this.succeeded(outcome.result, outcome.runtime)
        await sendCallbacks(app, this.received, outcome.result)
        await this.settle('ack')
        return
      }
      case 'RETRY': {
        const retry = outcome.retry
        await sendRetry(
          app,
          this.received,
          retry,
          this.request.replyTo,
          this.message.deliveryInfo,
          this.message.properties.priority,
        )
        const exc = serializeError(retry.exc ?? retry)
        if (backend && !this.ignoresResult()) {
          await backend.storeResult(id, exc, states.RETRY, {
            request: this.storeRequest(),
            traceback: traceOf(retry.exc),
            children: [[[id, null], null]], // as Celery: the retried task itself
          })
        }
        this.host.log('info', `Task ${name}[${id}] retry: ${retry.message}`, { state: 'RETRY' })
        app.signals.send('taskRetry', { request: this.request, reason: retry.exc, when: retry.when })
        await this.settle('ack')
        return
      }
      case 'FAILURE': {
        const err = outcome.error
        const storeErrors =
          !this.ignoresResult() ||
          (this.task.options.storeErrorsEvenIfIgnored ?? app.conf.taskStoreErrorsEvenIfIgnored)
        if (storeErrors)
          await backend?.storeResult(id, serializeError(err), states.FAILURE, {
            request: this.storeRequest(),
            traceback: traceOf(err),
          })
        this.host.log('error', `Task ${name}[${id}] raised unexpected: ${errorRepr(serializeError(err))}`, {
          state: 'FAILURE',
        })
        app.signals.send('taskFailure', { request: this.request, error: err, traceback: traceOf(err) })
        await sendErrbacks(app, this.received)
        const ackFailed = this.task.options.acksOnFailureOrTimeout ?? app.conf.taskAcksOnFailureOrTimeout
        await this.settle(ackFailed ? 'ack' : 'reject')
        return
      }
      case 'REJECTED':
        this.host.log('warn', `Task ${name}[${id}] rejected (requeue: ${outcome.requeue})`)
        app.signals.send('taskRejected', { id, reason: outcome.reason })
        await this.settle(outcome.requeue ? 'requeue' : 'reject')
        return
      case 'IGNORED':
        await this.settle('ack')
        return
    }
  }

  /** Stores REVOKED (revoked, expired or terminated) and discards the message. */
  async revoke(reason: 'revoked' | 'expired' | 'terminated'): Promise<void> {
    const { app } = this.host
    const backend = await app.backend().catch(() => undefined)
    await backend?.storeResult(
      this.request.id,
      serializeError(new TaskRevokedError(reason)),
      states.REVOKED,
      { request: this.storeRequest() },
    )
    this.host.log('info', `Discarding revoked task: ${this.displayName}[${this.request.id}] (${reason})`)
    app.signals.send('taskRevoked', {
      id: this.request.id,
      name: this.received.task,
      terminated: reason === 'terminated',
      expired: reason === 'expired',
    })
    await this.settle('ack')
  }

  /** Acks, rejects or requeues the message, once. Never rejects: a failure is logged. */
  settle(how: 'ack' | 'reject' | 'requeue'): Promise<void> {
    const m = this.message
    if (m.acknowledged) return DONE
    try {
      const p = how === 'ack' ? m.ack() : how === 'reject' ? m.reject() : m.requeue()
      return p.then(undefined, (err: unknown) => this.settleFailed(how, err))
    } catch (err) {
      this.settleFailed(how, err)
      return DONE
    }
  }

  private settleFailed(how: string, err: unknown): void {
    this.host.log('warn', `could not ${how} task ${this.received.id}: ${(err as Error).message}`)
  }
}

/** A synchronous outcome (as opposed to the promise of one). */
function isOutcome(o: Outcome | Promise<Outcome>): o is Outcome {
  return typeof (o as Promise<Outcome>).then !== 'function'
}

function traceOf(err: unknown): string | null {
  return err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : null
}
