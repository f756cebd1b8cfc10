/**
 * The receive loop of one channel, behind `getMany`: one long poll per consumed queue at a time,
 * all queues polled together, and what arrives beyond the prefetch window kept (leased) for the
 * next call. A long poll is never aborted: SQS would still hand its messages to the dropped
 * request, hiding them for a whole visibility timeout. Instead, whatever a poll brings after its
 * consumer was cancelled, or its channel closed, is handed back at once, unseen.
 */
import { ChannelError, type Logger } from '@q/kombu'
import { sleep, type VirtualDelivery } from '@q/kombu/internal'
import type { QueueDirectory } from './queues.js'
import type { Receipt } from './receipts.js'
import type { Receiver } from './receive.js'

/** What the poller needs from the connection. */
export interface PollerDeps {
  readonly directory: QueueDirectory
  readonly receiver: Receiver
  /** ReceiveMessage's WaitTimeSeconds (0 = short polling, then a 1 s pause when empty). */
  readonly waitTimeSeconds: number
  readonly logger: Logger
}

/** Pause after an empty short poll (Kombu's `polling_interval`). */
const SHORT_POLL_PAUSE_MS = 1000

const LINGER_MS = 5

/** Polls SQS for the consumers of one channel. */
export class Poller {
  private readonly buffer: VirtualDelivery[] = []
  private readonly polls = new Map<string, Promise<void>>()
  private readonly listeners = new Set<() => void>()
  private readonly stopper = new AbortController()
  private failures = 0

  /**
   * @param consumes whether the channel still has a consumer on a queue.
   */
  constructor(
    private readonly deps: PollerDeps,
    private readonly consumes: (queue: string) => boolean,
  ) {}

  /** Up to `max` deliveries from `queues`, waiting for a poll to answer when none is ready. */
  async getMany(
    queues: readonly string[],
    max: number,
    options: { noAck: ReadonlySet<string>; signal: AbortSignal },
  ): Promise<VirtualDelivery[]> {
    const { signal } = options
    if (this.stopped) {
      // Closing: hold the delivery loop still until its channel stops it.
      if (!signal.aborted) await new Promise((r) => signal.addEventListener('abort', r, { once: true }))
      return []
    }
    const ready = this.take(queues, max)
    if (ready.length > 0 || signal.aborted) return ready
    for (const queue of queues) if (!this.polls.has(queue)) this.poll(queue, max)
    await this.change(signal)
    return this.take(queues, max)
  }

  /** A kept delivery of `queue`, if any (for basic.get). */
  takeOne(queue: string): VirtualDelivery | undefined {
    return this.take([queue], 1)[0]
  }

  /** Hands back what is kept for `queue` once it has no consumer left. */
  drop(queue: string): void {
    if (this.consumes(queue)) return
    for (let i = this.buffer.length - 1; i >= 0; i--) {
      const d = this.buffer[i]!
      if (d.queue !== queue) continue
      this.buffer.splice(i, 1)
      this.deps.receiver.returnUnseen(d.handle as Receipt)
    }
  }

  /** Stops polling for good: kept deliveries go back, and so will whatever polls in flight bring. */
  stop(): void {
    this.stopper.abort()
    for (const d of this.buffer.splice(0)) this.deps.receiver.returnUnseen(d.handle as Receipt)
    this.notify()
  }

  /** Resolves once no poll is in flight. */
  async idle(): Promise<void> {
    while (this.polls.size) await Promise.all([...this.polls.values()])
  }

  private get stopped(): boolean {
    return this.stopper.signal.aborted
  }

  /** Takes up to `max` kept deliveries of `queues`, in arrival order. */
  private take(queues: readonly string[], max: number): VirtualDelivery[] {
    const out: VirtualDelivery[] = []
    for (let i = 0; i < this.buffer.length && out.length < max; ) {
      if (queues.includes(this.buffer[i]!.queue)) out.push(this.buffer.splice(i, 1)[0]!)
      else i++
    }
    return out
  }

  /** Starts one ReceiveMessage on `queue`; its messages join the buffer, or go back unseen. */
  private poll(queue: string, max: number): void {
    const { directory, receiver, waitTimeSeconds, logger } = this.deps
    const p = (async () => {
      try {
        const ref = await directory.require(queue)
        const got = await receiver.receive(ref, max, waitTimeSeconds)
        this.failures = 0
        for (const d of got) {
          if (this.stopped || !this.consumes(queue)) receiver.returnUnseen(d.handle as Receipt)
          else this.buffer.push(d)
        }
        if (got.length === 0 && waitTimeSeconds === 0) await sleep(SHORT_POLL_PAUSE_MS, this.stopper.signal)
        // A part-filled answer means messages trickle in: let a few gather, fewer requests.
        else if (got.length > 0 && got.length < Math.min(10, max)) await sleep(LINGER_MS, this.stopper.signal)
      } catch (err) {
        // A poll left running by a closed channel: nobody waits for it any more.
        if (this.stopped)
          return void logger.debug(`SQS poll of '${queue}' after close failed: ${String(err)}`)
        if (err instanceof ChannelError && err.replyCode === 404) directory.forget(queue)
        this.failures++
        const delay = Math.min(10_000, 250 * 2 ** Math.min(this.failures, 6))
        logger.warn(`cannot receive from SQS queue '${queue}' (retrying in ${delay} ms): ${String(err)}`)
        await sleep(delay, this.stopper.signal)
      } finally {
        this.polls.delete(queue)
        this.notify()
      }
    })()
    this.polls.set(queue, p)
  }

  /** Resolves at the next notify() or when `signal` aborts. */
  private change(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.listeners.delete(done)
        signal.removeEventListener('abort', done)
        resolve()
      }
      this.listeners.add(done)
      signal.addEventListener('abort', done, { once: true })
    })
  }

  private notify(): void {
    for (const l of [...this.listeners]) l()
  }
}
