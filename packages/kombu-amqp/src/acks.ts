/**
 * Acknowledgements of one AMQP channel, batched. Kombu acks one message at a time; on a busy
 * consumer that is one frame per message. Acks asked for during one turn of the event loop are
 * sent together at its end: the longest run of the oldest unacknowledged deliveries that are all
 * being acked goes as a single `basic.ack(tag, multiple=true)`, the rest one by one. `multiple`
 * acks every delivery up to `tag`, so it is used only when every one of them is being acked:
 * a message still being handled, or being rejected, is never acked by accident.
 */
import { TagWindow } from './tag-window.js'

/** Where acks and rejects go: the amqplib channel. */
export interface AckSink {
  ack(deliveryTag: number, multiple: boolean): void
  reject(deliveryTag: number, requeue: boolean): void
}

interface Batch {
  readonly promise: Promise<void>
  readonly resolve: () => void
  readonly reject: (err: unknown) => void
}

function newBatch(): Batch {
  let resolve!: () => void
  let reject!: (err: unknown) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** Tracks a channel's unacknowledged deliveries and coalesces their acks. */
export class AckBatcher {
  /** Delivery tags the broker holds for us (tags only grow on a channel), and which are being acked. */
  private readonly window = new TagWindow()
  /** Tags being acked this turn, in the order asked. */
  private pending: number[] = []
  private batch: Batch | undefined
  private timer: NodeJS.Immediate | undefined
  private failure: Error | undefined

  constructor(
    private readonly sink: AckSink,
    private readonly mapError: (err: unknown) => Error,
  ) {}

  /** Records a delivery that must be acknowledged (not one consumed with noAck). */
  delivered(deliveryTag: number): void {
    this.window.add(deliveryTag)
  }

  /** Whether `deliveryTag` is delivered and not yet settled (or about to be). */
  holds(deliveryTag: number): boolean {
    return this.window.isHeld(deliveryTag)
  }

  /** Deliveries not yet acknowledged. */
  get size(): number {
    return this.window.size
  }

  /** Acks `deliveryTag` (and every older one with `multiple`); resolves once the ack is written. */
  ack(deliveryTag: number, multiple = false): Promise<void> {
    if (this.failure) return Promise.reject(this.failure)
    if (multiple) {
      // The caller settles everything up to the tag: send the batch first, then this one.
      this.flush()
      return this.now(() => {
        this.sink.ack(deliveryTag, true)
        this.window.settleUpTo(deliveryTag)
      })
    }
    if (this.window.markPending(deliveryTag)) this.pending.push(deliveryTag)
    if (!this.batch) {
      this.batch = newBatch()
      this.timer = setImmediate(() => this.flush())
    }
    return this.batch.promise
  }

  /** Rejects one delivery now (dropped, dead-lettered, or requeued). */
  reject(deliveryTag: number, requeue: boolean): Promise<void> {
    if (this.failure) return Promise.reject(this.failure)
    return this.now(() => {
      this.sink.reject(deliveryTag, requeue)
      this.window.settle(deliveryTag)
    })
  }

  /** Sends the acks asked for so far. Called at the end of the turn, and before closing or recovering. */
  flush(): void {
    const batch = this.batch
    if (!batch) return
    clearImmediate(this.timer)
    this.batch = undefined
    const pending = this.pending
    this.pending = []
    try {
      // The oldest deliveries, all being acked: one frame for them all.
      const { last, count } = this.window.pendingPrefix()
      if (count >= 2) {
        this.sink.ack(last, true)
        this.window.settleUpTo(last)
      }
      for (const tag of pending) {
        if (count >= 2 && tag <= last) continue
        this.sink.ack(tag, false)
        this.window.settle(tag)
      }
      batch.resolve()
    } catch (err) {
      batch.reject(this.mapError(err))
    }
  }

  /** Forgets every delivery, as the broker does after basic.recover. */
  forgetAll(): void {
    this.window.clear()
  }

  /** The channel is gone: acks asked for and not sent fail with `error`; the broker requeues those messages. */
  fail(error: Error): void {
    this.failure = error
    clearImmediate(this.timer)
    this.batch?.reject(error)
    this.batch = undefined
    this.pending = []
    this.window.clear()
  }

  private now(op: () => void): Promise<void> {
    try {
      op()
      return Promise.resolve()
    } catch (err) {
      return Promise.reject(this.mapError(err))
    }
  }
}
