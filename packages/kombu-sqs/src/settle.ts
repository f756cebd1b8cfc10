/**
 * Acks, requeues and lease renewals, batched: requeues and renewals asked within one turn of the
 * event loop, and acks asked within 10 ms, are sent together, up to 10 entries per call, as DeleteMessageBatch (ack) and
 * ChangeMessageVisibilityBatch (requeue with timeout 0, renewal with the full timeout).
 *
 * A receipt handle that SQS no longer accepts (the visibility timeout ran out and the message
 * went to another consumer, kombu#1391) is logged and skipped: it never fails the consumer.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  type ChangeMessageVisibilityBatchCommandOutput,
  DeleteMessageBatchCommand,
  type DeleteMessageBatchCommandOutput,
} from '@aws-sdk/client-sqs'
import type { Logger } from '@q/kombu'
import { classifyError, isLostHandle, isQueueMissing } from './errors.js'
import type { Receipt } from './receipts.js'

type Kind = 'delete' | 'release' | 'renew'

const WHAT: Record<Kind, string> = {
  delete: 'acknowledge (DeleteMessage)',
  release: 'requeue (ChangeMessageVisibility 0)',
  renew: 'extend the visibility of',
}

const BATCH = 10

/** How long an ack may wait for others to share its DeleteMessageBatch. */
const ACK_WINDOW_MS = 10

type BatchOutput = DeleteMessageBatchCommandOutput | ChangeMessageVisibilityBatchCommandOutput

/** Collects settlements and sends them in batches. */
export class Settler {
  private readonly pending = new Map<string, { kind: Kind; receipts: Receipt[] }>()
  private readonly inflight = new Set<Promise<void>>()
  private immediate: NodeJS.Immediate | undefined
  private ackTimer: NodeJS.Timeout | undefined

  /**
   * @param visibilityTimeout seconds a renewal sets.
   */
  constructor(
    private readonly visibilityTimeout: number,
    private readonly logger: Logger,
  ) {}

  /** Deletes the message (ack, reject without requeue, noAck receipt). */
  delete(receipt: Receipt): void {
    this.add('delete', receipt, true)
  }

  /** Makes the message visible again now (requeue). */
  release(receipt: Receipt): void {
    this.add('release', receipt, true)
  }

  /** Restarts the visibility timeout of held messages. */
  renew(receipts: readonly Receipt[]): void {
    for (const r of receipts) this.add('renew', r, false)
  }

  /** Sends everything asked so far and waits for every batch in flight. */
  async flush(): Promise<void> {
    this.send()
    while (this.inflight.size) await Promise.all([...this.inflight])
  }

  private add(kind: Kind, receipt: Receipt, settles: boolean): void {
    if (receipt.state === 'settled') return
    if (settles) receipt.state = 'settled'
    const key = `${kind} ${receipt.queue.url}`
    const entry = this.pending.get(key) ?? { kind, receipts: [] }
    entry.receipts.push(receipt)
    this.pending.set(key, entry)
    // Requeues and renewals go out at the next turn; acks wait a little for company (a consumer
    // that keeps up with its queue receives one message per poll), unless a batch is full.
    if (kind !== 'delete' || entry.receipts.length >= BATCH)
      this.immediate ??= setImmediate(() => this.send())
    else this.ackTimer ??= setTimeout(() => this.send(), ACK_WINDOW_MS)
  }

  private send(): void {
    clearImmediate(this.immediate)
    clearTimeout(this.ackTimer)
    this.immediate = undefined
    this.ackTimer = undefined
    const batches = [...this.pending.values()]
    this.pending.clear()
    for (const { kind, receipts: all } of batches) {
      // A renewal asked before the message was settled is moot now.
      const receipts = kind === 'renew' ? all.filter((r) => r.state === 'held') : all
      if (receipts.length === 0) continue
      // Requeued messages go back oldest first, so that they keep their order in the queue.
      if (kind === 'release') receipts.sort((a, b) => a.seq - b.seq)
      const chunks: Receipt[][] = []
      for (let i = 0; i < receipts.length; i += BATCH) chunks.push(receipts.slice(i, i + BATCH))
      const run =
        kind === 'release'
          ? chunks.reduce((prev, chunk) => prev.then(() => this.batch(kind, chunk)), Promise.resolve())
          : Promise.all(chunks.map((chunk) => this.batch(kind, chunk))).then(() => {})
      const tracked = run.finally(() => this.inflight.delete(tracked))
      this.inflight.add(tracked)
    }
  }

  /** Sends one batch of at most 10; never rejects. */
  private async batch(kind: Kind, receipts: Receipt[], attempt = 1): Promise<void> {
    const { url, client, physical } = receipts[0]!.queue
    const ids = receipts.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle }))
    let out: BatchOutput
    try {
      out = await client.send(
        kind === 'delete'
          ? new DeleteMessageBatchCommand({ QueueUrl: url, Entries: ids })
          : new ChangeMessageVisibilityBatchCommand({
              QueueUrl: url,
              Entries: ids.map((e) => ({
                ...e,
                VisibilityTimeout: kind === 'release' ? 0 : this.visibilityTimeout,
              })),
            }),
      )
    } catch (err) {
      if (attempt < 3 && classifyError(err) === 'connection') {
        await new Promise((r) => setTimeout(r, 100 * attempt))
        return this.batch(kind, receipts, attempt + 1)
      }
      const level = isQueueMissing(err) ? 'warn' : 'error'
      this.logger[level](
        `cannot ${WHAT[kind]} ${receipts.length} message(s) of SQS queue '${physical}': ${String(err)}`,
      )
      return
    }
    for (const failure of out.Failed ?? []) {
      const receipt = receipts[Number(failure.Id)]
      if (!receipt) continue
      if (isLostHandle(failure.Code, failure.Message)) {
        receipt.state = 'lost'
        this.logger.warn(
          `cannot ${WHAT[kind]} message ${receipt.messageId} of SQS queue '${physical}': its receipt handle has expired (${failure.Code}); SQS may deliver it again`,
        )
      } else {
        this.logger.error(
          `cannot ${WHAT[kind]} message ${receipt.messageId} of SQS queue '${physical}': ${failure.Code} ${failure.Message ?? ''}`,
        )
      }
    }
  }
}
