/**
 * One amqplib confirm channel and what lives and dies with it: its acks, its publisher, the QoS
 * applied on it. An AmqpChannel replaces its Link when the broker closes it for a channel error.
 */
import { ChannelError } from '@q/kombu'
import type { Message as AmqplibMessage, ConfirmChannel } from 'amqplib'
import { AckBatcher } from './acks.js'
import { Publisher } from './publisher.js'

/** What a Link tells its owner. */
export interface LinkHost {
  /** Maps an amqplib failure to a QError (see AmqpChannel.mapError). */
  mapError(err: unknown): Error
  /** The amqplib channel closed, for whatever reason. */
  linkClosed(link: Link): void
}

/** A prefetch as applied with basic.qos. */
export interface AppliedQos {
  readonly count: number
  readonly global: boolean
}

const tagged = (deliveryTag: number) => ({ fields: { deliveryTag } }) as AmqplibMessage

/** An open amqplib confirm channel. */
export class Link {
  readonly acks: AckBatcher
  readonly publisher: Publisher
  /** The error the broker closed it with (channel.close), if it did. */
  failure: Error | undefined
  closed = false
  closedByUs = false
  /** The basic.qos in force on this channel. */
  qos: AppliedQos | undefined
  /** A global prefetch was asked for but waits for the first consume (quorum queues refuse it). */
  qosPending = false

  /**
   * @param offset added to amqplib's delivery tags, so tags never repeat across the Links of one
   * AmqpChannel: a tag from a closed Link can be told apart and refused.
   */
  constructor(
    readonly ch: ConfirmChannel,
    readonly offset: number,
    host: LinkHost,
  ) {
    const mapError = (err: unknown) => host.mapError(err)
    this.acks = new AckBatcher(
      {
        ack: (tag, multiple) => ch.ack(tagged(tag), multiple),
        reject: (tag, requeue) => ch.reject(tagged(tag), requeue),
      },
      mapError,
    )
    this.publisher = new Publisher(ch, mapError)
    // Without an 'error' listener, amqplib's emitter would throw the broker's channel.close.
    ch.on('error', (err: Error) => {
      this.failure ??= err
    })
    ch.on('return', (message: AmqplibMessage) => this.publisher.onReturn(message))
    ch.on('drain', () => this.publisher.onDrain())
    ch.on('close', () => {
      this.closed = true
      this.publisher.onClose()
      this.acks.fail(
        new ChannelError(
          'the channel closed before this acknowledgement was sent; the broker has requeued the message',
        ),
      )
      host.linkClosed(this)
    })
  }

  /** Sends the acks asked for so far, then closes the channel (the broker requeues the rest). */
  async close(): Promise<void> {
    if (this.closed) return
    this.closedByUs = true
    this.acks.flush()
    await this.ch.close().catch(() => {})
  }
}
