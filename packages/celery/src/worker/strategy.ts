/**
 * The strategy: what a worker does with each task message it receives, before running it.
 * Unknown or malformed messages are logged and rejected; revoked and expired ones are stored as
 * REVOKED and discarded; future ETAs are deferred (through the transport's delayed delivery,
 * or held as Celery holds them); rate-limited tasks wait for a token; the rest go to the pool.
 */

import type { Message } from '@q/kombu'
import { InvalidTaskMessageError, readTaskMessage } from '../protocol/task-message.js'
import type { ActiveRequests } from './active-requests.js'
import { parseRate, TokenBucket } from './rate-limit.js'
import { Request, type RequestHost } from './request.js'
import type { RevokedSet } from './revoked.js'

/** What the strategy needs from its worker. */
export interface StrategyHost extends RequestHost {
  readonly revoked: RevokedSet
  /** Requests received and not yet finished, by id. */
  readonly requests: ActiveRequests<Request>
  submit(request: Request): void
  /** Defers a message until `eta`: republished with a delay, or held. */
  defer(request: Request, eta: Date): void
}

/** Turns received messages into requests for one worker. */
export class Strategy {
  private readonly buckets = new Map<string, TokenBucket | null>()

  constructor(private readonly host: StrategyHost) {}

  /** Handles one task message. Never throws. */
  handle(body: unknown, message: Message): void {
    const { app } = this.host
    let received: ReturnType<typeof readTaskMessage>
    try {
      received = readTaskMessage(message.headers, body)
    } catch (err) {
      const why = err instanceof InvalidTaskMessageError ? err.message : String(err)
      this.host.log('error', `Received invalid task message; rejecting it: ${why}`)
      app.signals.send('taskRejected', { id: undefined, reason: err })
      void message.reject().catch(() => {})
      return
    }
    const task = app.tasks.get(received.task)
    if (!task) {
      this.host.log(
        'error',
        `Received unregistered task of type '${received.task}'. The message has been ignored and discarded. id=${received.id}`,
      )
      app.signals.send('taskUnknown', { name: received.task, id: received.id })
      void message.reject().catch(() => {})
      // As Celery's on_unknown_task: FAILURE NotRegistered, so the caller does not wait for ever.
      const exc = { exc_type: 'NotRegistered', exc_message: [received.task], exc_module: 'celery.exceptions' }
      const { replyTo, correlationId } = message.properties
      void app
        .backend()
        .then((b) =>
          b?.storeResult(received.id, exc, 'FAILURE', {
            request: { id: received.id, replyTo, correlationId },
          }),
        )
        .catch((err) => this.host.log('warn', `could not store NotRegistered for ${received.id}: ${err}`))
      return
    }
    const request = new Request(this.host, message, received, task)
    if (this.host.logs('info')) this.host.log('info', `Task ${request.displayName}[${received.id}] received`)
    if (this.host.revoked.has(received.id)) void request.revoke('revoked')
    else if (received.expires && received.expires.getTime() <= Date.now()) void request.revoke('expired')
    else if (received.eta && received.eta.getTime() > Date.now()) this.host.defer(request, received.eta)
    else this.schedule(request)
  }

  /** Runs a request now, or when its rate limit allows. */
  schedule(request: Request): void {
    const bucket = this.bucket(request)
    if (!bucket || bucket.tryTake()) {
      this.host.submit(request)
      return
    }
    setTimeout(() => this.schedule(request), Math.max(1, bucket.waitTime()))
  }

  private bucket(request: Request): TokenBucket | null {
    const name = request.received.task
    if (this.host.settings.workerDisableRateLimits) return null
    let b = this.buckets.get(name)
    if (b === undefined) {
      const rate = parseRate(request.task.options.rateLimit ?? this.host.app.conf.taskDefaultRateLimit)
      b = rate > 0 ? new TokenBucket(rate) : null
      this.buckets.set(name, b)
    }
    return b
  }

  /** Changes a task's rate limit at run time (remote control `rate_limit`). */
  setRateLimit(taskName: string, rate: string | number | null): void {
    const r = parseRate(rate)
    this.buckets.set(taskName, r > 0 ? new TokenBucket(r) : null)
  }
}
