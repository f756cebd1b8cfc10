/**
 * The delivery loop of a VirtualChannel: fetches messages for its consumers while the prefetch
 * window has room, round-robin over queues and over the consumers of each queue, and waits
 * when the broker is empty. One loop per channel; `kick()` restarts it after an ack, a new
 * consumer, a qos change or a broker notification.
 */
import { isThenable } from '../util.js'
import type { VirtualDelivery, VirtualPrimitives } from './primitives.js'

/** A consumer as the pump sees it. */
export interface PumpConsumer {
  readonly tag: string
  readonly queue: string
  readonly noAck: boolean
}

/** What the pump needs from its channel. */
export interface PumpHost<C extends PumpConsumer> {
  consumers(): Iterable<C>
  /** Deliveries the prefetch window still allows. */
  room(): number
  deliver(delivery: VirtualDelivery): void
  isOpen(): boolean
}

/** The two options of a `get`, shared: one is asked for per message. */
const NO_ACK = Object.freeze({ noAck: true })
const ACK = Object.freeze({ noAck: false })

/** Deliveries per turn before yielding to the event loop, so handlers and I/O get their share. */
const YIELD_EVERY = 256

/** Drives deliveries from the primitives to the consumers of one channel. */
export class DeliveryPump<C extends PumpConsumer = PumpConsumer> {
  private running = false
  /** Set by kick() so that a notification during a fetch is not lost. */
  private dirty = false
  private wake: (() => void) | undefined
  private readonly stopper = new AbortController()
  private unsubscribe: (() => void) | undefined
  private queueCursor = 0
  private readonly consumerCursor = new Map<string, number>()

  constructor(
    private readonly prim: VirtualPrimitives,
    private readonly pollInterval: number,
    private readonly host: PumpHost<C>,
  ) {}

  /** (Re)starts the loop if there is work it may do. */
  kick(): void {
    this.dirty = true
    this.wake?.()
    if (this.running || !this.host.isOpen()) return
    this.unsubscribe ??= this.prim.onReady?.(() => this.kick())
    this.running = true
    void this.loop()
  }

  /** Stops the loop for good. */
  stop(): void {
    this.stopper.abort()
    this.unsubscribe?.()
    this.wake?.()
  }

  /** The next consumer of `queue`, round-robin. */
  pickConsumer(queue: string): C | undefined {
    // Most queues have one consumer: found without building arrays, for every message.
    let only: C | undefined
    for (const c of this.host.consumers()) {
      if (c.queue !== queue) continue
      if (only) return this.roundRobin(queue)
      only = c
    }
    return only
  }

  private roundRobin(queue: string): C | undefined {
    const matching = [...this.host.consumers()].filter((c) => c.queue === queue)
    if (matching.length <= 1) return matching[0]
    const i = (this.consumerCursor.get(queue) ?? 0) % matching.length
    this.consumerCursor.set(queue, i + 1)
    return matching[i]
  }

  private async loop(): Promise<void> {
    try {
      let sinceYield = 0
      while (this.host.isOpen() && !this.stopper.signal.aborted) {
        this.dirty = false
        const queues = this.queues()
        const room = this.host.room()
        if (queues.length === 0 || room <= 0) return
        const got = await this.fetch(queues, room)
        sinceYield += got
        if (got === 0) {
          if (!this.prim.getMany) await this.idle()
        } else if (sinceYield >= YIELD_EVERY) {
          sinceYield = 0
          await new Promise<void>((r) => setImmediate(r))
        }
      }
    } finally {
      this.running = false
      // A kick that arrived while the loop was ending must not be lost.
      if (this.dirty && this.host.isOpen() && !this.stopper.signal.aborted) this.kick()
    }
  }

  /** Fetches at most `room` messages; returns how many were delivered. */
  private async fetch(queues: string[], room: number): Promise<number> {
    const noAck = new Set(queues.filter((q) => this.onlyNoAck(q)))
    if (this.prim.getMany) {
      const batch = await this.prim.getMany(queues, Math.min(room, 1000), {
        noAck,
        timeoutMs: this.pollInterval,
        signal: this.stopper.signal,
      })
      for (const d of batch) this.host.deliver(d)
      return batch.length
    }
    let delivered = 0
    let progress = true
    // One message per queue per round, so a busy queue does not starve the others.
    while (progress && delivered < room && this.host.isOpen()) {
      progress = false
      for (let n = 0; n < queues.length && delivered < room; n++) {
        const queue = queues[(this.queueCursor + n) % queues.length]!
        const r = this.prim.get(queue, noAck.has(queue) ? NO_ACK : ACK)
        const d = isThenable(r) ? await r : r
        if (!d) continue
        this.host.deliver(d)
        delivered++
        progress = true
      }
      this.queueCursor = (this.queueCursor + 1) % queues.length
      if (delivered >= YIELD_EVERY) break
    }
    return delivered
  }

  /**
   * Waits for a notification from the broker, a kick, or the poll interval. A bare timer and
   * callback: this runs whenever a queue empties, often once per message, where an
   * AbortController would cost more than the delivery itself.
   */
  private idle(): Promise<void> {
    if (this.dirty || this.stopper.signal.aborted) return Promise.resolve()
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.wake = undefined
        resolve()
      }
      const timer = setTimeout(done, this.pollInterval)
      this.wake = done
    })
  }

  private queues(): string[] {
    const seen = new Set<string>()
    for (const c of this.host.consumers()) seen.add(c.queue)
    return [...seen]
  }

  private onlyNoAck(queue: string): boolean {
    for (const c of this.host.consumers()) if (c.queue === queue && !c.noAck) return false
    return true
  }
}
