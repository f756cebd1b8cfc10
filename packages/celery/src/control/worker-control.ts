/**
 * WorkerControl: the worker side of remote control. It runs a mailbox node named after the
 * worker on the worker's connection, answering Celery's commands (handlers.ts), and at start
 * "mingles": broadcasts `hello` with the ids it knows to be revoked, and takes in the other
 * workers' revoked ids and clocks, so a task revoked before this worker started stays revoked.
 */
import { type Connection, Consumer, Exchange, type ExchangeType, type MailboxNode, Queue } from '@q/kombu'
import { WORKER_COMMANDS } from './handlers.js'
import type { ControlledWorker, ControlResult } from './types.js'

/** Options of a {@link WorkerControl}. */
export interface WorkerControlOptions {
  /**
   * Sync revoked ids and clocks with the other workers at start. Default: on AMQP and Redis
   * (the transports Celery mingles on), where the broker has fanout.
   */
  mingle?: boolean
  /** How long mingle waits for the other workers, in ms. Default 1000, as Celery. */
  mingleTimeout?: number
}

/** Transports Celery runs mingle on. */
const MINGLE_TRANSPORTS = new Set(['amqp', 'redis'])

/** Seconds of the monotonic clock Python's `time.monotonic()` reads on Linux (CLOCK_MONOTONIC). */
function monotonic(): number {
  return Number(process.hrtime.bigint()) / 1e9
}

/** A worker's remote-control node and the state its commands change. */
export class WorkerControl {
  /** When the worker started (for `stats` uptime). */
  readonly startedAt = Date.now()
  /** Whether task events are on (`enable_events` / `disable_events`). */
  taskEvents: boolean
  readonly node: MailboxNode<WorkerControl>
  /** Consumers started by `add_consumer`, by queue name. */
  private readonly added = new Map<string, { queue: Queue; consumer: Consumer; active: boolean }>()
  private readonly mingleOption: boolean | undefined
  private readonly mingleTimeout: number
  private stopping: Promise<void> | undefined

  constructor(
    readonly worker: ControlledWorker,
    readonly connection: Connection,
    options: WorkerControlOptions = {},
  ) {
    this.taskEvents = worker.app.conf.workerSendTaskEvents
    this.mingleOption = options.mingle
    this.mingleTimeout = options.mingleTimeout ?? 1000
    const mailbox = worker.app.control.mailboxFor(connection)
    this.node = mailbox.node<WorkerControl>(worker.hostname, WORKER_COMMANDS, this)
  }

  /** The app's remote-control clock. */
  get clock() {
    return this.worker.app.control.clock
  }

  /**
   * Mingles (where enabled), then listens for commands. Without fanout (SQS) there is no remote
   * control, as Celery leaves out its Control bootstep: nothing is started.
   */
  async start(): Promise<void> {
    await this.connection.connect()
    if (!this.connection.capabilities.fanout) {
      this.worker.log(
        'debug',
        `remote control disabled: the ${this.connection.transportName} transport has no fanout`,
      )
      return
    }
    if (this.shouldMingle()) await this.mingle()
    await this.node.listen()
  }

  private shouldMingle(): boolean {
    if (this.mingleOption !== undefined) return this.mingleOption
    return this.connection.capabilities.fanout && MINGLE_TRANSPORTS.has(this.connection.transportName)
  }

  /**
   * Broadcasts `hello` with our revoked ids and merges the replies (revoked ids, clocks) of the
   * other workers. Resolves with the names of the workers that answered.
   */
  async mingle(): Promise<string[]> {
    if (!this.connection.capabilities.fanout) return []
    const { worker } = this
    worker.log('info', 'mingle: searching for neighbors')
    const replies = await this.node.mailbox.multicall(
      'hello',
      { from_node: worker.hostname, revoked: this.revokedData() },
      { timeout: this.mingleTimeout },
    )
    const synced: string[] = []
    for (const reply of replies) {
      for (const [node, value] of Object.entries(reply ?? {})) {
        if (node === worker.hostname || !value || typeof value !== 'object' || 'error' in value) continue
        const { clock, revoked } = value as { clock?: unknown; revoked?: unknown }
        if (typeof clock === 'number' && clock > 0) this.clock.adjust(clock)
        else this.clock.forward()
        this.mergeRevoked(revoked)
        synced.push(node)
      }
    }
    if (synced.length === 0) worker.log('info', 'mingle: all alone')
    else worker.log('info', `mingle: sync with ${synced.length} nodes`)
    return synced
  }

  /**
   * Our revoked ids as Celery's `LimitedSet._data`: `{ id: [timestamp, id] }`. Python checks the
   * timestamp is a float, so it never goes out as a whole number (JSON would drop the fraction).
   */
  revokedData(): Record<string, [number, string]> {
    let t = monotonic()
    if (Number.isInteger(t)) t += 1e-6
    return Object.fromEntries(this.worker.revoked.list().map((id) => [id, [t, id]]))
  }

  /** Takes in revoked ids sent by another worker (a `{ id: ... }` record or a list of ids). */
  mergeRevoked(revoked: unknown): void {
    if (!revoked || typeof revoked !== 'object') return
    const list = Array.isArray(revoked) ? revoked : Object.keys(revoked)
    for (const id of list) if (typeof id === 'string' && id) this.worker.revoked.add(id)
  }

  /** The queues the worker consumes from, with the ones added by `add_consumer`. */
  activeQueues(): Queue[] {
    const added = [...this.added.values()].filter((a) => a.active).map((a) => a.queue)
    return [...this.worker.queues, ...added]
  }

  /**
   * Starts consuming from one more queue (`add_consumer`), with a consumer of its own that hands
   * messages to the worker's strategy. Runs in the background, as Celery's `call_soon`.
   */
  addConsumer(
    name: string,
    spec: { exchange: string; exchangeType: string; routingKey: string; options?: Record<string, unknown> },
  ): void {
    if (this.stopping || this.activeQueues().some((q) => q.name === name)) return
    const { worker } = this
    const exchange = new Exchange(spec.exchange, { type: spec.exchangeType as ExchangeType })
    const durable = typeof spec.options?.durable === 'boolean' ? spec.options.durable : true
    const queue = new Queue(name, { exchange, routingKey: spec.routingKey, durable })
    const consumer = new Consumer(this.connection, {
      queues: [queue],
      accept: worker.app.conf.acceptContent,
      prefetchCount: worker.prefetchCount,
      tag: `${worker.hostname}.${name}`,
      onMessage: (body, message) => worker.strategy.handle(body, message),
    })
    const entry = { queue, consumer, active: true }
    this.added.set(name, entry)
    consumer.consume().then(
      () => worker.log('info', `Started consuming from ${name}`),
      (err) => {
        entry.active = false
        this.added.delete(name)
        worker.log('error', `add_consumer ${name} failed: ${(err as Error).message}`)
      },
    )
  }

  /**
   * Stops consuming from a queue added by `add_consumer`. Messages already received still run.
   * The worker's own queues share one consumer that cannot drop a single queue: for those the
   * reply is an error.
   */
  async cancelConsumer(name: string): Promise<ControlResult> {
    const entry = this.added.get(name)
    if (entry) {
      entry.active = false
      this.added.delete(name)
      // Cancel, not close: unacked messages of running tasks are acked on this channel later.
      await entry.consumer.cancel()
      this.worker.log('info', `Canceling queue ${name}`)
      return { ok: `no longer consuming from ${name}` }
    }
    if (this.worker.queues.some((q) => q.name === name)) {
      return {
        error: `cannot stop consuming from ${name}: it is one of the queues the worker started with`,
      }
    }
    return { ok: `no longer consuming from ${name}` }
  }

  /**
   * Stops answering commands and stops the added consumers (their channels close with the
   * worker's connection, after running tasks are settled). Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const { consumer } of this.added.values()) await consumer.cancel().catch(() => {})
      this.added.clear()
      await this.node.close()
    })()
    return this.stopping
  }
}
