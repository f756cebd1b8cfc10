/**
 * The consumers of one AmqpChannel, kept so that they can be moved to a new amqplib channel when
 * the broker closes the old one, and the numbering of its deliveries: tags keep growing across
 * those replacements (each Link adds its offset), so a tag from a closed Link is told apart.
 */
import type { Delivery, Logger } from '@q/kombu'
import type { ConsumeOptions, DeliveryHandler } from '@q/kombu/internal'
import type { Message as AmqplibMessage, ConsumeMessage } from 'amqplib'
import { toDelivery } from './delivery.js'
import { toWireTable } from './headers.js'
import type { Link } from './link.js'

/** One basic.consume, as asked for. */
export interface ConsumerRecord {
  /** The consumer tag: the one asked for, or the one the broker gave. */
  tag: string
  readonly queue: string
  readonly options: ConsumeOptions
  readonly onDelivery: DeliveryHandler
}

/** The consumers of a channel. */
export class ConsumerSet {
  private readonly records = new Map<string, ConsumerRecord>()
  /** Highest delivery tag handed out; the next Link's tags start above it. */
  maxTag = 0

  constructor(private readonly logger: Logger) {}

  get size(): number {
    return this.records.size
  }

  has(tag: string): boolean {
    return this.records.has(tag)
  }

  add(record: ConsumerRecord): void {
    this.records.set(record.tag, record)
  }

  delete(tag: string): void {
    this.records.delete(tag)
  }

  clear(): void {
    this.records.clear()
  }

  /** The queues consumed. */
  queues(): string[] {
    return [...this.records.values()].map((r) => r.queue)
  }

  /** Sends basic.consume for `record` on `link`; deliveries go to its handler, numbered for this channel. */
  async start(link: Link, record: ConsumerRecord): Promise<void> {
    const { noAck = false, exclusive = false } = record.options
    const args = record.options.arguments
    const r = await link.ch.consume(record.queue, (m) => this.onMessage(link, record, m), {
      consumerTag: record.tag || undefined,
      noAck,
      exclusive,
      arguments: args ? toWireTable(args) : undefined,
    })
    record.tag = r.consumerTag
  }

  /**
   * Starts every consumer on a new Link. One that cannot be moved (its queue is gone) is dropped,
   * and its error thrown: the failed consume closed the Link, so the caller opens another.
   */
  async moveAll(link: Link): Promise<void> {
    for (const record of [...this.records.values()]) {
      try {
        await this.start(link, record)
      } catch (err) {
        this.records.delete(record.tag)
        this.logger.error(
          `consumer '${record.tag}' of queue '${record.queue}' could not be moved to a new channel; dropped`,
          err,
        )
        throw err
      }
    }
  }

  /** A Delivery for `message` of `link`, tracked for acknowledgement unless `noAck`. */
  delivery(link: Link, message: AmqplibMessage, queue: string, noAck: boolean): Delivery {
    const amqpTag = message.fields.deliveryTag
    const tag = link.offset + amqpTag
    if (tag > this.maxTag) this.maxTag = tag
    if (!noAck) link.acks.delivered(amqpTag)
    return toDelivery(message, tag, queue)
  }

  private onMessage(link: Link, record: ConsumerRecord, message: ConsumeMessage | null): void {
    if (message === null) {
      // basic.cancel from the broker: the queue was deleted, or its node went away.
      this.records.delete(record.tag)
      this.logger.warn(`consumer '${record.tag}' of queue '${record.queue}' was cancelled by the broker`)
      return
    }
    const delivery = this.delivery(link, message, record.queue, record.options.noAck ?? false)
    try {
      record.onDelivery(delivery)
    } catch (err) {
      // Thrown into amqplib, it would close the channel.
      this.logger.error(`delivery handler of consumer '${record.tag}' threw`, err)
    }
  }
}
