/**
 * The worker: consumes task messages from its queues and runs them in an async pool of
 * `concurrency` slots, with prefetch = concurrency x multiplier. Consumer (kombu), strategy
 * (what to do with a message) and tracer (running it) are separate pieces; this wires them and
 * owns the lifecycle: start, warm shutdown (finish running tasks, give prefetched ones back),
 * cold shutdown.
 */

import { hostname as osHostname } from 'node:os'
import { Consumer, type Message, Producer, type Queue } from '@q/kombu'
import type { Celery } from '../app.js'
import { WorkerControl } from '../control/worker-control.js'
import { ConfigurationError } from '../errors.js'
import { ActiveRequests } from './active-requests.js'
import { AsyncPool, type PoolResult } from './pool.js'
import { type HotSettings, hotSettings, type Request } from './request.js'
import { RevokedSet } from './revoked.js'
import { Strategy } from './strategy.js'
import { type LogFormat, type LogLevel, WorkerLog } from './worker-log.js'

/** Options of a worker; defaults come from the app's configuration. */
export interface WorkerOptions {
  /** Queue names (or Queue objects) to consume from; default: the app's taskQueues or 'celery'. */
  queues?: ReadonlyArray<string | Queue>
  /** Tasks in flight at once; default workerConcurrency. */
  concurrency?: number
  /** Prefetch = concurrency x this; default workerPrefetchMultiplier. */
  prefetchMultiplier?: number
  /** Node name, `name@host`; `%h` is the host name, `%n` its first label, `%d` the domain. Default `celery@%h`. */
  hostname?: string
  /** Seconds a warm shutdown waits for running tasks; default workerShutdownTimeout. */
  shutdownTimeout?: number
  logLevel?: LogLevel
  logFormat?: LogFormat
  /**
   * Exchange revoked ids and clocks with the other workers at start (Celery's mingle: waits up to
   * 1 s). Default true where the broker has fanout; false is Celery's `--without-mingle`.
   */
  mingle?: boolean
}

/** Expands `%h`, `%n` and `%d` in a node name, as Celery's `-n`. */
export function expandNodeName(pattern: string, host = osHostname()): string {
  const [n, ...d] = host.split('.')
  const name = pattern
    .replace(/%h/g, host)
    .replace(/%n/g, n ?? host)
    .replace(/%d/g, d.join('.'))
  return name.includes('@') ? name : `${name}@${host}`
}

/** A worker of one app. */
export class Worker implements AsyncDisposable {
  readonly hostname: string
  readonly concurrency: number
  readonly prefetchCount: number
  readonly queues: Queue[]
  readonly revoked: RevokedSet
  /** Requests received and not finished, by task id. */
  readonly requests = new ActiveRequests<Request>()
  readonly pool: AsyncPool<Request>
  readonly strategy: Strategy
  /** The settings read for every task, copied once from the (frozen) configuration. */
  readonly settings: HotSettings
  private readonly logger: WorkerLog
  private consumer: Consumer | undefined
  private remote: WorkerControl | undefined
  private held = 0
  private readonly timers = new Set<NodeJS.Timeout>()
  private stopping: Promise<void> | undefined
  private readonly shutdownTimeout: number
  private readonly mingle: boolean | undefined
  /** Tasks finished, by name (for `stats`). */
  readonly totals = new Map<string, number>()

  constructor(
    readonly app: Celery,
    options: WorkerOptions = {},
  ) {
    const conf = app.conf
    this.settings = hotSettings(app)
    this.hostname = expandNodeName(options.hostname ?? 'celery@%h')
    this.concurrency = options.concurrency ?? conf.workerConcurrency
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) {
      throw new ConfigurationError(`concurrency must be an integer >= 1, got ${options.concurrency}`)
    }
    const multiplier = options.prefetchMultiplier ?? conf.workerPrefetchMultiplier
    this.prefetchCount = this.concurrency * multiplier
    this.queues = (options.queues ?? [...app.router.queues.values()]).map((q) => app.router.queue(q))
    this.revoked = new RevokedSet(50_000, conf.workerRevokedExpires)
    this.pool = new AsyncPool<Request>(this.concurrency, (request) => this.run(request))
    this.strategy = new Strategy(this)
    this.shutdownTimeout = options.shutdownTimeout ?? conf.workerShutdownTimeout
    this.mingle = options.mingle
    this.logger = new WorkerLog(options.logLevel ?? 'info', options.logFormat ?? 'text', this.hostname)
  }

  /** Logs as the worker, in Celery's format or as JSON lines. */
  logs(level: 'info' | 'warn' | 'error' | 'debug'): boolean {
    return this.logger.enabled(level)
  }

  log(level: 'info' | 'warn' | 'error' | 'debug', message: string, fields?: Record<string, unknown>): void {
    this.logger.log(level, message, fields)
  }

  /** Connects, loads remembered revocations, and starts consuming. */
  async start(): Promise<this> {
    const backend = await this.app.backend()
    for (const id of (await backend?.loadRevoked?.()) ?? []) this.revoked.add(id)
    const connection = this.app.createConnection()
    await connection.connect()
    // Remote control first, as Celery's mingle: revokes known to other workers apply from the start.
    this.remote = new WorkerControl(
      this,
      connection,
      this.mingle === undefined ? {} : { mingle: this.mingle },
    )
    await this.remote.start()
    this.consumer = new Consumer(connection, {
      queues: this.queues,
      accept: this.app.conf.acceptContent,
      prefetchCount: this.prefetchCount,
      tag: this.hostname,
      onMessage: (body, message) => this.strategy.handle(body, message),
      onDecodeError: async (message, error) => {
        this.log(
          'error',
          `Can't decode message body: ${error.name}: ${error.message} (type:${message.contentType} encoding:${message.contentEncoding}); rejecting it`,
        )
        this.app.signals.send('taskRejected', { id: message.headers.id as string | undefined, reason: error })
        await message.reject()
      },
    })
    await this.consumer.consume()
    this.app.signals.send('workerReady', { hostname: this.hostname })
    this.log('info', `${this.hostname} ready.`)
    return this
  }

  /** The connection the worker consumes on (after start). */
  get connection() {
    return this.consumer?.connection
  }

  /** Hands a request to the pool; checks revocation and expiry again just before it runs. */
  submit(request: Request): void {
    // A rate-limit timer may fire after a warm shutdown began: its message goes back unacked.
    if (this.stopping) return
    this.requests.add(request)
    this.pool.submit(request.id, request)
  }

  /** Runs one request in its pool slot: synchronously when it can (see Request.execute). */
  private run(request: Request): PoolResult {
    const r = request.received
    let p: Promise<void> | undefined
    if (this.revoked.has(r.id)) p = request.revoke('revoked')
    else if (r.expires && r.expires.getTime() <= Date.now()) p = request.revoke('expired')
    else p = request.execute()
    if (!p) return this.ran(request, true)
    return p.then(
      () => this.ran(request, true),
      () => this.ran(request, false),
    )
  }

  private ran(request: Request, ok: boolean): void {
    if (ok) {
      const name = request.received.task
      this.totals.set(name, (this.totals.get(name) ?? 0) + 1)
    }
    this.requests.remove(request)
  }

  /**
   * Defers a task until its ETA. With delayed delivery, it is published again with a delay and
   * the original acked: nothing is held. Without it, held unacked as Celery does, with the
   * prefetch window raised by one so other work still flows.
   */
  defer(request: Request, eta: Date): void {
    const connection = this.consumer?.connection
    const wait = eta.getTime() - Date.now()
    if (connection?.capabilities.delayedDelivery) {
      void this.republishDelayed(request.message, wait).catch((err) => {
        this.log('warn', `could not defer task ${request.id}; holding it: ${(err as Error).message}`)
        this.hold(request, wait)
      })
      return
    }
    this.hold(request, wait)
  }

  private async republishDelayed(message: Message, delay: number): Promise<void> {
    const producer = new Producer(this.consumer!.connection)
    const { exchange, routingKey } = message.deliveryInfo
    await producer.publish(message.rawBody, {
      exchange,
      routingKey,
      contentType: message.contentType,
      contentEncoding: message.contentEncoding,
      headers: message.headers,
      properties: message.properties,
      delay,
    })
    await message.ack()
  }

  private hold(request: Request, wait: number): void {
    this.held++
    void this.consumer?.qos({ prefetchCount: this.prefetchCount ? this.prefetchCount + this.held : 0 })
    this.requests.add(request)
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      this.held--
      void this.consumer?.qos({ prefetchCount: this.prefetchCount ? this.prefetchCount + this.held : 0 })
      this.strategy.schedule(request)
    }, wait)
    this.timers.add(timer)
  }

  /** Revokes ids here: later messages are discarded; with `terminate`, running ones are aborted. */
  revoke(ids: readonly string[], terminate = false): void {
    for (const id of ids) {
      this.revoked.add(id)
      if (terminate)
        for (const r of this.requests.values())
          if (r.id === id) r.terminate.terminate(new Error('terminated'))
    }
  }

  /**
   * Warm shutdown: stop consuming, let running tasks finish (up to the shutdown timeout), give
   * prefetched and held messages back. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.log('info', 'worker: Warm shutdown')
      await this.consumer?.cancel()
      await this.remote?.stop()
      for (const t of this.timers) clearTimeout(t)
      this.timers.clear()
      const dropped = this.pool.drop()
      for (const r of dropped) this.requests.delete(r)
      const idle = this.pool.idle()
      const timeout = new Promise<void>((r) => setTimeout(r, this.shutdownTimeout * 1000).unref())
      await Promise.race([idle, timeout])
      // Closing the consumer requeues every unacked message: prefetched, held, and late-acked.
      await this.consumer?.close()
      await this.consumer?.connection.close()
      this.app.signals.send('workerShutdown', { hostname: this.hostname })
    })()
    return this.stopping
  }

  /** Cold shutdown: stop at once; unacked messages go back to their queues. */
  async terminate(): Promise<void> {
    this.log('warn', 'worker: Cold shutdown')
    await this.remote?.stop()
    for (const t of this.timers) clearTimeout(t)
    await this.consumer?.close()
    await this.consumer?.connection.close()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop()
  }
}
