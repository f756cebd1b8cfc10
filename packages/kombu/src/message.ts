/**
 * Message: a delivery as the application sees it: the decoded body, the raw bytes, headers,
 * properties and where it came from, with ack, reject and requeue. Each message is settled at
 * most once; a second settlement is a MessageStateError.
 */
import type { CompressionRegistry } from './compression/index.js'
import { MessageStateError } from './errors.js'
import type { SerializerRegistry } from './serialization/index.js'
import type { Channel, Delivery, DeliveryInfo, Headers, MessageProperties } from './types.js'

/** The life of a message: received, then settled exactly once. */
export type MessageState = 'RECEIVED' | 'ACK' | 'REJECTED' | 'REQUEUED'

/** A message delivered to a consumer. */
export class Message<T = unknown> {
  /** The decoded body. */
  readonly body: T
  /** The body as received, before decompression and decoding. */
  readonly rawBody: Buffer
  readonly contentType: string
  readonly contentEncoding: string
  readonly headers: Headers
  readonly properties: MessageProperties
  readonly deliveryInfo: DeliveryInfo
  readonly deliveryTag: number
  private _state: MessageState = 'RECEIVED'

  /**
   * @param noAck the consumer does not acknowledge: settling is then a no-op, as in Kombu.
   */
  constructor(
    private readonly channel: Channel,
    delivery: Delivery,
    body: T,
    private readonly noAck = false,
  ) {
    this.body = body
    this.rawBody = delivery.body
    this.contentType = delivery.contentType
    this.contentEncoding = delivery.contentEncoding
    this.headers = delivery.headers
    this.properties = delivery.properties
    this.deliveryInfo = delivery.deliveryInfo
    this.deliveryTag = delivery.deliveryTag
  }

  /** RECEIVED until settled, then how it was settled. */
  get state(): MessageState {
    return this._state
  }

  /** True once acked, rejected or requeued. */
  get acknowledged(): boolean {
    return this._state !== 'RECEIVED'
  }

  /** True when the broker delivered it before. */
  get redelivered(): boolean {
    return this.deliveryInfo.redelivered
  }

  /** Acknowledges: the broker forgets the message. */
  ack(): Promise<void> {
    return this.settle('ACK')
  }

  /** Rejects without requeue: the message is dropped (or dead-lettered where configured). */
  reject(): Promise<void> {
    return this.settle('REJECTED')
  }

  /** Rejects with requeue: the message is delivered again. */
  requeue(): Promise<void> {
    return this.settle('REQUEUED')
  }

  /** Not an async function: the channel's promise is handed back as is (one per ack, not three). */
  private settle(state: MessageState): Promise<void> {
    if (this._state !== 'RECEIVED') {
      return Promise.reject(
        new MessageStateError(
          `Message ${this.deliveryTag} was already settled (${this._state}); cannot ${state.toLowerCase()} it`,
        ),
      )
    }
    this._state = state
    if (this.noAck) return SETTLED
    try {
      return state === 'ACK'
        ? this.channel.ack(this.deliveryTag)
        : this.channel.reject(this.deliveryTag, state === 'REQUEUED')
    } catch (err) {
      return Promise.reject(err)
    }
  }
}

/** What a settlement that had nothing to wait for returns. */
const SETTLED: Promise<void> = Promise.resolve()

/** Decoding options of a consumer. */
export interface DecodeOptions {
  readonly serializers: SerializerRegistry
  readonly compressors: CompressionRegistry
  /** Allowed content types; undefined accepts every registered serializer. */
  readonly accept: ReadonlySet<string> | undefined
}

/** Decompresses (when the `compression` header says so) and decodes a delivery's body. */
export function decodeBody(delivery: Delivery, options: DecodeOptions): unknown {
  const compression = delivery.headers.compression
  const body =
    typeof compression === 'string' && compression
      ? options.compressors.decompress(delivery.body, compression)
      : delivery.body
  return options.serializers.decode(body, delivery.contentType, delivery.contentEncoding, options.accept)
}
