/**
 * Producer: serializes, compresses and publishes messages, declaring what it needs on the way.
 * Preparing a message is synchronous and separate from sending it, so a failed send can be
 * retried without encoding twice.
 */
import type { Connection } from './connection.js'
import { type Entity, maybeDeclare } from './declare.js'
import { EncodeError, InvalidOptionError } from './errors.js'
import { Exchange } from './exchange.js'
import type { RetryPolicy } from './retry.js'
import type { Channel, Headers, MessageProperties, OutgoingMessage } from './types.js'

/** Options of one publish (Kombu's `Producer.publish` keywords, in camelCase). */
export interface PublishOptions {
  /** Exchange to publish to; default: the producer's, else the default exchange. */
  exchange?: Exchange | string
  routingKey?: string
  /** Serializer name (`json`, `msgpack`, `raw`, `text`, or registered); default: the producer's. */
  serializer?: string
  /** Compression name (`gzip`/`zlib`, `deflate`, `brotli`, `zstd`). */
  compression?: string
  /** With a pre-encoded body (Buffer or string): its content type; the serializer is skipped. */
  contentType?: string
  contentEncoding?: string
  headers?: Headers
  /** Message priority (0-255; queues honour up to their maxPriority). */
  priority?: number
  /** Time to live in milliseconds. */
  expiration?: number
  /** 'persistent' (2, default) or 'transient' (1). */
  deliveryMode?: 1 | 2 | 'persistent' | 'transient'
  correlationId?: string
  replyTo?: string
  messageId?: string
  type?: string
  appId?: string
  userId?: string
  /** Seconds since the epoch. */
  timestamp?: number
  /** Further properties, carried as is (e.g. SQS's MessageGroupId). */
  properties?: MessageProperties
  /** Entities to declare (once per connection) before publishing. */
  declare?: readonly Entity[]
  /** Retry the publish on connection errors; default false. */
  retry?: boolean
  retryPolicy?: RetryPolicy
  /** Fail with UnroutableError when no queue receives it. */
  mandatory?: boolean
  /** Wait for the broker's confirmation. */
  confirm?: boolean
  /** Deliver no sooner than this many ms from now (transports with delayedDelivery). */
  delay?: number
  /** Deliver no sooner than this time: `delay` given as an absolute time. */
  deliverAt?: Date
}

/** Defaults of a {@link Producer}. */
export interface ProducerOptions {
  exchange?: Exchange | string
  routingKey?: string
  /** Default serializer; `json` unless set. */
  serializer?: string
  compression?: string
  /** Declare the producer's exchange before the first publish; default true. */
  autoDeclare?: boolean
  /** Publish on this channel instead of the connection's default channel. */
  channel?: Channel
}

const MODES = { persistent: 2, transient: 1, 1: 1, 2: 2 } as const

/** Publishes messages on a connection. */
export class Producer {
  readonly exchange: Exchange
  readonly routingKey: string
  readonly serializer: string | undefined
  readonly compression: string | undefined
  private readonly autoDeclare: boolean

  constructor(
    readonly connection: Connection,
    private readonly options: ProducerOptions = {},
  ) {
    const ex = options.exchange
    this.exchange = typeof ex === 'string' ? new Exchange(ex) : (ex ?? new Exchange(''))
    this.routingKey = options.routingKey ?? ''
    this.serializer = options.serializer
    this.compression = options.compression
    this.autoDeclare = options.autoDeclare ?? true
  }

  /** Publishes `body`. Resolves when written (or confirmed, with `confirm`). */
  async publish(body: unknown, options: PublishOptions = {}): Promise<void> {
    const message = this.prepare(body, options)
    const ex = options.exchange ?? this.exchange
    const exchange = typeof ex === 'string' ? ex : ex.name
    const routingKey = options.routingKey ?? this.routingKey
    const send = async () => {
      const channel = this.options.channel ?? (await this.connection.defaultChannel())
      const seen = this.connection.declared
      if (this.autoDeclare && this.exchange.name) await maybeDeclare(channel, this.exchange, seen)
      if (typeof ex !== 'string' && ex !== this.exchange && ex.name) await maybeDeclare(channel, ex, seen)
      for (const entity of options.declare ?? []) await maybeDeclare(channel, entity, seen)
      await channel.publish(message, exchange, routingKey, {
        mandatory: options.mandatory,
        confirm: options.confirm,
        delay:
          options.delay ??
          (options.deliverAt ? Math.max(0, options.deliverAt.getTime() - Date.now()) : undefined),
      })
    }
    await (options.retry ? this.connection.ensure(send, options.retryPolicy) : send())
  }

  /** Builds the message `publish` sends: encoded, compressed, with headers and properties. */
  prepare(body: unknown, options: PublishOptions = {}): OutgoingMessage {
    const { serializers, compressors } = this.connection
    let encoded: { body: Buffer; contentType: string; contentEncoding: string }
    if (options.contentType) {
      const contentEncoding = options.contentEncoding ?? (Buffer.isBuffer(body) ? 'binary' : 'utf-8')
      if (typeof body === 'string')
        encoded = { body: Buffer.from(body, 'utf8'), contentType: options.contentType, contentEncoding }
      else if (body instanceof Uint8Array)
        encoded = { body: Buffer.from(body), contentType: options.contentType, contentEncoding }
      else
        throw new EncodeError('With contentType set, the body must be a Buffer or a string (already encoded)')
    } else {
      encoded = serializers.encode(body, options.serializer ?? this.serializer)
    }
    const headers: Headers = { ...options.headers }
    const compression = options.compression ?? this.compression
    if (compression) {
      const c = compressors.compress(encoded.body, compression)
      encoded = { ...encoded, body: c.body }
      headers.compression = c.contentType
    }
    // As Kombu's _delivery_details: an Exchange given to publish brings its own delivery mode.
    const target = options.exchange instanceof Exchange ? options.exchange : this.exchange
    const mode = options.deliveryMode ?? target.deliveryMode ?? 'persistent'
    const deliveryMode = MODES[mode]
    if (!deliveryMode)
      throw new InvalidOptionError(
        `deliveryMode must be 'persistent', 'transient', 1 or 2, got ${String(mode)}`,
      )
    const properties: MessageProperties = { ...options.properties, deliveryMode }
    if (options.priority !== undefined) properties.priority = checkPriority(options.priority)
    if (options.expiration !== undefined) properties.expiration = String(checkExpiration(options.expiration))
    for (const k of [
      'correlationId',
      'replyTo',
      'messageId',
      'type',
      'appId',
      'userId',
      'timestamp',
    ] as const) {
      if (options[k] !== undefined) (properties as Record<string, unknown>)[k] = options[k]
    }
    return { ...encoded, headers, properties }
  }

  /** A producer holds no resources of its own; provided for symmetry and `await using`. */
  async close(): Promise<void> {}

  async [Symbol.asyncDispose](): Promise<void> {}
}

function checkPriority(p: number): number {
  if (!Number.isInteger(p) || p < 0 || p > 255)
    throw new InvalidOptionError(`priority must be an integer in 0..255, got ${p}`)
  return p
}

function checkExpiration(ms: number): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new InvalidOptionError(`expiration must be a number of milliseconds >= 0, got ${String(ms)}`)
  }
  return Math.round(ms)
}
