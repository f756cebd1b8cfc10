/**
 * Receiving: ReceiveMessage (long polling, up to 10 at a time), then for each message either a
 * delivery for the channel (envelope decoded, receipt leased) or, for a chained delay that is not
 * due yet, a re-publish that no consumer sees.
 */
import { type Message, ReceiveMessageCommand, type SendMessageCommandInput } from '@aws-sdk/client-sqs'
import type { Logger } from '@q/kombu'
import type { VirtualDelivery } from '@q/kombu/internal'
import { wrapError } from './errors.js'
import { fromMessageBody } from './message-body.js'
import type { QueueRef } from './queues.js'
import type { Leases, Receipt, ReturnLedger } from './receipts.js'
import { DELIVER_AT, MAX_DELAY_SECONDS, send } from './send.js'
import type { Settler } from './settle.js'

/** What a Receiver works with (shared by the channels of a connection). */
export interface ReceiverDeps {
  readonly settler: Settler
  readonly leases: Leases
  readonly ledger: ReturnLedger
  /** Seconds a received message stays invisible (sent on every ReceiveMessage). */
  readonly visibilityTimeout: number
  readonly logger: Logger
}

/** Receives messages for the channels of one connection. */
export class Receiver {
  private seq = 0
  private readonly chaining = new Set<Promise<void>>()

  constructor(private readonly deps: ReceiverDeps) {}

  /**
   * One ReceiveMessage on `ref`: at most `max` (1-10) messages, waiting up to `waitSeconds` for
   * the first. Returns the deliveries, each holding its receipt (leased until settled).
   */
  async receive(ref: QueueRef, max: number, waitSeconds: number): Promise<VirtualDelivery[]> {
    let messages: Message[]
    try {
      const out = await ref.client.send(
        new ReceiveMessageCommand({
          QueueUrl: ref.url,
          MaxNumberOfMessages: Math.max(1, Math.min(10, max)),
          WaitTimeSeconds: waitSeconds,
          // The lease is explicit: the renewal timer knows exactly when it runs out.
          VisibilityTimeout: this.deps.visibilityTimeout,
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'MessageGroupId'],
          // All of them: a dead-lettered or re-published copy keeps what the producer set.
          MessageAttributeNames: ['All'],
        }),
      )
      messages = out.Messages ?? []
    } catch (err) {
      throw wrapError(err, ref.name)
    }
    const now = Date.now()
    const deliveries: VirtualDelivery[] = []
    for (const m of messages) {
      const receipt: Receipt = {
        queue: ref,
        receiptHandle: m.ReceiptHandle!,
        messageId: m.MessageId ?? '',
        seq: ++this.seq,
        body: m.Body ?? '',
        attributes: m.MessageAttributes,
        groupId: m.Attributes?.MessageGroupId,
        leasedAt: now,
        state: 'held',
      }
      const due = Number(m.MessageAttributes?.[DELIVER_AT]?.StringValue)
      if (due > now) {
        this.chain(receipt, due - now)
        continue
      }
      const { message, exchange, routingKey, redelivered } = fromMessageBody(receipt.body)
      const receives = Number(m.Attributes?.ApproximateReceiveCount ?? 1)
      this.deps.leases.add(receipt)
      deliveries.push({
        message,
        queue: ref.name,
        exchange,
        routingKey,
        redelivered: redelivered || receives - this.deps.ledger.count(receipt.messageId) > 1,
        handle: receipt,
      })
    }
    return deliveries
  }

  /** Hands back a receipt no consumer has seen: visible again, and not counted as a redelivery. */
  returnUnseen(receipt: Receipt): void {
    if (receipt.state !== 'held') return
    this.deps.ledger.add(receipt.messageId)
    this.deps.leases.delete(receipt)
    this.deps.settler.release(receipt)
  }

  /** Waits for the re-publishes of chained delays in flight. */
  async settled(): Promise<void> {
    while (this.chaining.size) await Promise.all([...this.chaining])
  }

  /** Sends a not-yet-due message on with the rest of its delay, then deletes this copy. */
  private chain(receipt: Receipt, remainingMs: number): void {
    const input: SendMessageCommandInput = {
      QueueUrl: receipt.queue.url,
      MessageBody: receipt.body,
      MessageAttributes: receipt.attributes,
      DelaySeconds: Math.min(MAX_DELAY_SECONDS, Math.ceil(remainingMs / 1000)),
    }
    const p = send(receipt.queue, input)
      .then(() => this.deps.settler.delete(receipt))
      .catch((err) =>
        // Left invisible: it comes back after the visibility timeout and is chained again then.
        this.deps.logger.error(
          `cannot re-publish a delayed message to SQS queue '${receipt.queue.physical}'`,
          err,
        ),
      )
      .finally(() => this.chaining.delete(p))
    this.chaining.add(p)
  }
}
