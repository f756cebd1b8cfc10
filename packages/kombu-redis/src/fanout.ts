/**
 * Fanout over Redis pub/sub, as Kombu does it: a queue bound to a fanout exchange is not a list
 * but a PSUBSCRIBE to the exchange's channel (`/<db>.<exchange>[/<binding key>]`). One subscriber
 * connection per Connection serves every such queue of every channel.
 *
 * A queue is subscribed when it is bound, not when it is consumed, so that a consumer that has
 * declared its queue does not miss what is published right after `consume()` resolves. Messages
 * that arrive before a consumer attaches are kept for a short while, then dropped with the
 * subscription: pub/sub keeps nothing for absent subscribers.
 */
import type { Logger } from '@q/kombu'
import type { Redis } from 'ioredis'

/** Receives the raw envelopes of one fanout queue. */
export type FanoutSink = (raw: string) => void

interface Subscription {
  readonly pattern: string
  readonly sinks: FanoutSink[]
  /** Messages that came before any sink attached. */
  early: string[]
  next: number
  expiry: NodeJS.Timeout | undefined
}

/** How long a bound queue stays subscribed waiting for its consumer. */
const GRACE_MS = 60_000

/** The subscriber connection of one Connection and the fanout queues it serves. */
export class FanoutHub {
  private client: Promise<Redis> | undefined
  private readonly byQueue = new Map<string, Subscription>()
  private readonly byPattern = new Map<string, Set<string>>()
  /** PSUBSCRIBE confirmations, by pattern. */
  private readonly ready = new Map<string, Promise<unknown>>()
  private closed = false
  private dropped = 0

  /**
   * @param connect opens the subscriber connection.
   * @param onLost called when that connection is lost.
   */
  constructor(
    private readonly connect: () => Promise<Redis>,
    private readonly onLost: (err: Error) => void,
    private readonly limit: number,
    private readonly logger: Logger,
  ) {}

  /** Subscribes `queue` to `pattern` (idempotent); resolves once Redis has confirmed it. */
  async expect(queue: string, pattern: string): Promise<void> {
    const current = this.byQueue.get(queue)
    if (current?.pattern === pattern) return
    if (current) await this.drop(queue)
    const sub: Subscription = { pattern, sinks: [], early: [], next: 0, expiry: undefined }
    this.byQueue.set(queue, sub)
    this.arm(queue, sub)
    let queues = this.byPattern.get(pattern)
    if (!queues) {
      queues = new Set()
      this.byPattern.set(pattern, queues)
      this.ready.set(
        pattern,
        this.subscriber().then((c) => c.psubscribe(pattern)),
      )
    }
    queues.add(queue)
    await this.ready.get(pattern)
  }

  /** Whether `queue` is served by a subscription. */
  has(queue: string): boolean {
    return this.byQueue.has(queue)
  }

  /** Attaches a consumer's sink to a subscribed queue; hands it what arrived early. */
  attach(queue: string, sink: FanoutSink): void {
    const sub = this.byQueue.get(queue)
    if (!sub) return
    clearTimeout(sub.expiry)
    sub.expiry = undefined
    sub.sinks.push(sink)
    for (const raw of sub.early.splice(0)) sink(raw)
  }

  /** Detaches a sink; the subscription lingers a while for another consumer, then goes. */
  detach(queue: string, sink: FanoutSink): void {
    const sub = this.byQueue.get(queue)
    if (!sub) return
    const i = sub.sinks.indexOf(sink)
    if (i >= 0) sub.sinks.splice(i, 1)
    if (sub.sinks.length === 0) this.arm(queue, sub)
  }

  /** Unsubscribes a queue (it was unbound or deleted). */
  async drop(queue: string): Promise<void> {
    const sub = this.byQueue.get(queue)
    if (!sub) return
    clearTimeout(sub.expiry)
    this.byQueue.delete(queue)
    const queues = this.byPattern.get(sub.pattern)
    queues?.delete(queue)
    if (queues?.size === 0) {
      this.byPattern.delete(sub.pattern)
      this.ready.delete(sub.pattern)
      if (this.client && !this.closed) await (await this.client).punsubscribe(sub.pattern).catch(() => {})
    }
  }

  /** Closes the subscriber connection. */
  close(): void {
    this.closed = true
    for (const sub of this.byQueue.values()) clearTimeout(sub.expiry)
    this.byQueue.clear()
    this.byPattern.clear()
    void this.client?.then((c) => c.disconnect()).catch(() => {})
  }

  private arm(queue: string, sub: Subscription): void {
    clearTimeout(sub.expiry)
    sub.expiry = setTimeout(() => void this.drop(queue), GRACE_MS)
    sub.expiry.unref()
  }

  private subscriber(): Promise<Redis> {
    this.client ??= this.connect().then((c) => {
      c.on('pmessage', (pattern: string, _channel: string, message: string) => this.receive(pattern, message))
      c.on('end', () => {
        if (!this.closed) this.onLost(new Error('the Redis subscriber connection was lost'))
      })
      return c
    })
    return this.client
  }

  private receive(pattern: string, raw: string): void {
    for (const queue of this.byPattern.get(pattern) ?? []) {
      const sub = this.byQueue.get(queue)
      if (!sub) continue
      if (sub.sinks.length) {
        sub.sinks[sub.next++ % sub.sinks.length]!(raw)
      } else if (sub.early.length < this.limit) {
        sub.early.push(raw)
      } else if (this.dropped++ % 1000 === 0) {
        this.logger.warn(
          `fanout queue '${queue}' has no consumer: dropping its messages (${this.dropped} so far)`,
        )
      }
    }
  }
}
