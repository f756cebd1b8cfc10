/**
 * The virtual-transport primitives on SQS, one set per channel: put = SendMessage (in order and
 * batched, see publisher.ts), getMany = the channel's poller (long polling), ack = DeleteMessage
 * (batched), reject with requeue = ChangeMessageVisibility 0, reject without requeue =
 * DeleteMessage (after a copy to the queue's dead-letter queue, when its redrive policy names one).
 */
import { ChannelError, type Logger, type OutgoingMessage, type Queue } from '@q/kombu'
import {
  type GetOptions,
  type PutOptions,
  uuid,
  type VirtualDelivery,
  type VirtualPrimitives,
} from '@q/kombu/internal'
import type { Poller } from './poller.js'
import type { Publisher } from './publisher.js'
import type { QueueDirectory } from './queues.js'
import type { Leases, Receipt } from './receipts.js'
import type { Receiver } from './receive.js'
import { DELIVER_AT, send, sendInput } from './send.js'
import type { Settler } from './settle.js'

/** The parts of a connection the primitives use. */
export interface SqsParts {
  readonly directory: QueueDirectory
  readonly publisher: Publisher
  readonly receiver: Receiver
  readonly settler: Settler
  readonly leases: Leases
  readonly base64: boolean
  readonly logger: Logger
}

const receiptOf = (d: VirtualDelivery) => d.handle as Receipt

/** VirtualPrimitives over SQS for one channel. */
export class SqsPrimitives implements VirtualPrimitives {
  /** Receipts handed to the channel that it may still ack or reject. */
  private readonly outstanding = new Set<Receipt>()

  constructor(
    private readonly parts: SqsParts,
    private readonly poller: Poller,
  ) {}

  async put(queue: string, message: OutgoingMessage, options: PutOptions): Promise<void> {
    const ref = await this.parts.directory.require(queue)
    const input = sendInput(ref, message, options, this.parts.base64)
    try {
      // Confirmed unless the channel says otherwise (it says so since @q/kombu passes `confirm`).
      await this.parts.publisher.send(ref, input, options.confirm !== false)
    } catch (err) {
      // Deleted behind our back: look it up again next time rather than trust the cached URL.
      if (err instanceof ChannelError && err.replyCode === 404) this.parts.directory.forget(queue)
      throw err
    }
  }

  async get(queue: string, options: GetOptions): Promise<VirtualDelivery | null> {
    const kept = this.poller.takeOne(queue)
    const d =
      kept ?? (await this.parts.receiver.receive(await this.parts.directory.require(queue), 1, 0))[0] ?? null
    if (d) this.handOut(d, options.noAck)
    return d
  }

  async getMany(
    queues: readonly string[],
    max: number,
    options: { noAck: ReadonlySet<string>; timeoutMs: number; signal: AbortSignal },
  ): Promise<VirtualDelivery[]> {
    const got = await this.poller.getMany(queues, max, options)
    for (const d of got) this.handOut(d, options.noAck.has(d.queue))
    return got
  }

  ack(delivery: VirtualDelivery): void {
    const r = this.finish(delivery)
    if (r) this.parts.settler.delete(r)
  }

  reject(delivery: VirtualDelivery, requeue: boolean): void | Promise<void> {
    const r = this.finish(delivery)
    if (!r) return
    if (requeue) return this.parts.settler.release(r)
    return this.deadLetter(r)
  }

  purge(queue: string): Promise<number> {
    return this.parts.directory.purge(queue)
  }

  size(queue: string): Promise<number> {
    return this.parts.directory.size(queue)
  }

  async declareQueue(queue: Queue): Promise<void> {
    await this.parts.directory.declare(queue)
  }

  deleteQueue(queue: string): Promise<void> {
    return this.parts.directory.delete(queue)
  }

  hasQueue(queue: string): Promise<boolean> {
    return this.parts.directory.has(queue)
  }

  /** True while the channel holds messages it has not settled. */
  holding(): boolean {
    return this.outstanding.size > 0
  }

  /** Sends every message in line, pending settlement and re-publish, and waits for them. */
  async flush(): Promise<void> {
    await Promise.all([
      this.parts.publisher.flush(),
      this.parts.settler.flush(),
      this.parts.receiver.settled(),
    ])
  }

  /** Stops tracking a delivery; its receipt, unless it was settled already. */
  private finish(delivery: VirtualDelivery): Receipt | undefined {
    const r = receiptOf(delivery)
    this.outstanding.delete(r)
    this.parts.leases.delete(r)
    return r.state === 'settled' ? undefined : r
  }

  /** A delivery leaves the transport: noAck ones are deleted now (as Kombu), others tracked. */
  private handOut(d: VirtualDelivery, noAck: boolean): void {
    const r = receiptOf(d)
    if (noAck) {
      this.parts.leases.delete(r)
      this.parts.settler.delete(r)
    } else this.outstanding.add(r)
  }

  /** Reject without requeue: a copy to the dead-letter queue if there is one, then delete. */
  private async deadLetter(r: Receipt): Promise<void> {
    const dlq = await this.parts.directory.deadLetterOf(r.queue)
    if (dlq) {
      const { [DELIVER_AT]: _dropped, ...attributes } = r.attributes ?? {}
      try {
        await send(dlq, {
          QueueUrl: dlq.url,
          MessageBody: r.body,
          ...(Object.keys(attributes).length ? { MessageAttributes: attributes } : {}),
          ...(dlq.fifo ? { MessageGroupId: r.groupId ?? 'default', MessageDeduplicationId: uuid() } : {}),
        })
      } catch (err) {
        // Not deleted: SQS makes it visible again after its visibility timeout.
        this.parts.logger.error(
          `cannot move a rejected message to the dead-letter queue '${dlq.physical}'; it stays in '${r.queue.physical}'`,
          err,
        )
        return
      }
    }
    this.parts.settler.delete(r)
  }
}
