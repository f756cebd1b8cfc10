/**
 * One task request on a worker, from accepted to settled: ack policy (early by default, late
 * with acksLate), the STARTED state, running through the tracer, storing the outcome, retries,
 * callbacks, and Celery's log lines. The strategy decides whether it runs; this runs it.
 */
import type { Message } from '@q/kombu'
import type { Celery } from '../app.js'
import type { StoreRequest } from '../backends/types.js'
import { TaskRevokedError } from '../errors.js'
import { type Outcome, runTask, Terminator } from '../execute.js'
import { saferepr } from '../protocol/python-repr.js'
import type { ReceivedTask } from '../protocol/task-message.js'
import { errorRepr, serializeError } from '../result/exceptions.js'
import { states } from '../states.js'
import type { Task } from '../task.js'
import type { TaskRequest } from '../task-types.js'
import { sendCallbacks, sendErrbacks, sendRetry } from './follow-up.js'

/** What a request needs from its worker. */
export interface RequestHost {
  readonly app: Celery
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

/** A task message accepted by a worker. */
export class Request {
  readonly request: TaskRequest
  /** Ended by a revoke with terminate. */
  readonly terminate = new Terminator()
  timeStart: number | undefined

  constructor(
    private readonly host: RequestHost,
    readonly message: Message,
    readonly received: ReceivedTask,
    readonly task: Task<never[], unknown>,
  ) {
    const r = received
    this.request = {
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
      hostname: host.hostname,
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

  /** The name shown in logs: the shadow name when set. */
  get displayName(): string {
    return this.received.shadow ?? this.received.task
  }

  private get acksLate(): boolean {
    return this.task.options.acksLate ?? this.host.app.conf.taskAcksLate
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
      this.request.ignoreResult || (this.task.options.ignoreResult ?? this.host.app.conf.taskIgnoreResult)
    )
  }

  /** Runs the task and settles the message. Never throws. */
  async execute(): Promise<void> {
    const { app } = this.host
    const conf = app.conf
    this.timeStart = Date.now()
    if (!this.acksLate) void this.settle('ack')
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
    const outcome = await runTask(this.task, this.request, {
      updateState: (req, state, meta) =>
        backend
          ? backend.storeResult(req.id, meta, state, { request: this.storeRequest() })
          : Promise.resolve(),
      timeLimit: this.received.timeLimit ?? this.task.options.timeLimit ?? conf.taskTimeLimit,
      softTimeLimit: this.received.softTimeLimit ?? this.task.options.softTimeLimit ?? conf.taskSoftTimeLimit,
      terminate: this.terminate,
    })
    try {
      await this.finish(outcome)
    } catch (err) {
      this.host.log(
        'error',
        `Task ${this.displayName}[${this.request.id}] could not be settled: ${(err as Error).message}`,
      )
      if (!this.message.acknowledged) await this.settle('requeue')
    }
    app.signals.sendLazy('taskPostrun', () => ({
      request: this.request,
      state: outcome.state,
      result: 'result' in outcome ? outcome.result : undefined,
    }))
  }

  private async finish(outcome: Outcome): Promise<void> {
    const { app } = this.host
    const backend = await app.backend().catch(() => undefined)
    const id = this.request.id
    const name = this.displayName
    if (this.terminate.aborted && outcome.state !== 'SUCCESS') return this.revoke('terminated')
    switch (outcome.state) {
      case 'SUCCESS': {
        if (!this.ignoresResult())
          await backend?.storeResult(id, outcome.result, states.SUCCESS, { request: this.storeRequest() })
        if (this.host.logs('info')) {
          this.host.log(
            'info',
            `Task ${name}[${id}] succeeded in ${outcome.runtime.toFixed(3)}s: ${fmt(outcome.result)}`,
            {
              state: 'SUCCESS',
              runtime: outcome.runtime,
            },
          )
        }
        app.signals.sendLazy('taskSuccess', () => ({
          request: this.request,
          result: outcome.result,
          runtime: outcome.runtime,
        }))
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

  /** Acks, rejects or requeues the message, once. */
  async settle(how: 'ack' | 'reject' | 'requeue'): Promise<void> {
    if (this.message.acknowledged) return
    try {
      if (how === 'ack') await this.message.ack()
      else if (how === 'reject') await this.message.reject()
      else await this.message.requeue()
    } catch (err) {
      this.host.log('warn', `could not ${how} task ${this.request.id}: ${(err as Error).message}`)
    }
  }
}

function traceOf(err: unknown): string | null {
  return err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : null
}
