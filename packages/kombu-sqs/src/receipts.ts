/**
 * Received messages as this transport holds them: the receipt (SQS's `ReceiptHandle`, which
 * replaces Kombu's delivery tag), the lease that keeps a held message invisible to other
 * consumers, and the ledger of receives handed back unseen, which `redelivered` discounts.
 */
import type { MessageAttributeValue } from '@aws-sdk/client-sqs'
import type { QueueRef } from './queues.js'

/** One received message, until it is deleted or made visible again. */
export interface Receipt {
  readonly queue: QueueRef
  readonly receiptHandle: string
  readonly messageId: string
  /** Receive order on this connection: requeues are sent oldest first. */
  readonly seq: number
  /** The raw SQS message, for forwarding to a dead-letter queue or re-publishing. */
  readonly body: string
  readonly attributes: Record<string, MessageAttributeValue> | undefined
  readonly groupId: string | undefined
  /** When the visibility timeout was last (re)started, ms since the epoch. */
  leasedAt: number
  /** `settled` once deleted or released; `lost` when SQS no longer accepts the handle. */
  state: 'held' | 'settled' | 'lost'
}

/**
 * How many receives of a message were handed back without reaching a consumer (a long poll that
 * answered after its consumer was cancelled or its channel closed), by MessageId. SQS counts
 * those receives in ApproximateReceiveCount; `redelivered` should not. Bounded, oldest first out.
 */
export class ReturnLedger {
  private readonly counts = new Map<string, number>()

  constructor(private readonly max = 10_000) {}

  /** Records one receive of `messageId` that no consumer saw. */
  add(messageId: string): void {
    const n = (this.counts.get(messageId) ?? 0) + 1
    this.counts.delete(messageId)
    this.counts.set(messageId, n)
    if (this.counts.size > this.max) this.counts.delete(this.counts.keys().next().value!)
  }

  /** Receives of `messageId` that no consumer saw. */
  count(messageId: string): number {
    return this.counts.get(messageId) ?? 0
  }
}

/**
 * Keeps held messages invisible: every receipt not yet settled has its visibility timeout
 * restarted (ChangeMessageVisibility) once two thirds of it have passed, so a long task is not
 * delivered a second time meanwhile (unlike Kombu, whose SQS leases simply run out).
 */
export class Leases {
  private readonly held = new Set<Receipt>()
  private timer: NodeJS.Timeout | undefined

  /**
   * @param visibilityTimeout seconds; 0 disables renewal.
   * @param renew restarts the visibility timeout of these receipts.
   */
  constructor(
    private readonly visibilityTimeout: number,
    private readonly renew: (receipts: Receipt[]) => void,
  ) {}

  /** Starts renewing `receipt` until it is released with `delete`. */
  add(receipt: Receipt): void {
    if (this.visibilityTimeout <= 0) return
    this.held.add(receipt)
    if (!this.timer) {
      // Checking six times per timeout renews each lease between 2/3 and 5/6 of it.
      const every = Math.max(100, (this.visibilityTimeout * 1000) / 6)
      this.timer = setInterval(() => this.tick(), every)
      // A held message must not keep the process alive by itself.
      this.timer.unref()
    }
  }

  /** Stops renewing `receipt`. */
  delete(receipt: Receipt): void {
    this.held.delete(receipt)
    if (this.held.size === 0) this.stop()
  }

  /** Stops renewing everything. */
  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  private tick(): void {
    const now = Date.now()
    const due: Receipt[] = []
    for (const r of this.held) {
      if (r.state !== 'held') this.held.delete(r)
      else if (now - r.leasedAt >= (this.visibilityTimeout * 1000 * 2) / 3) {
        r.leasedAt = now
        due.push(r)
      }
    }
    if (due.length) this.renew(due)
    if (this.held.size === 0) this.stop()
  }
}
