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
import type { Channel, ChannelPublishOptions, Headers, MessageProperties, OutgoingMessage } from './types.js'

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

/** What may differ from one message of a `publishMany` batch to the next. */
export type MessageOptions = Pick<
  PublishOptions,
  | 'headers'
  | 'priority'
  | 'expiration'
  | 'correlationId'
  | 'replyTo'
  | 'messageId'
  | 'type'
  | 'appId'
  | 'userId'
  | 'timestamp'
  | 'properties'
>

/** Options of `publishMany`: the batch's options, and what each message sets over them. */
export interface PublishManyOptions extends PublishOptions {
  /**
   * Per-message options by index (`each[i]` goes with `bodies[i]`), over the batch's: headers
   * and properties are merged, the other fields replace the batch's.
   */
  each?: readonly (MessageOptions | undefined)[]
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

/** Shared by every publish that asks for no channel option: nothing reads it but the channel. */
const NO_CHANNEL_OPTIONS: ChannelPublishOptions = Object.freeze({})
const NO_OPTIONS: PublishOptions = Object.freeze({})
const NO_ITEM: MessageOptions = Object.freeze({})

/** Publishes messages on a connection. */
export class Producer {
  readonly exchange: Exchange
  readonly routingKey: string
  readonly serializer: string | undefined
  readonly compression: string | undefined
  private readonly autoDeclare: boolean
  /** The connection's default channel as last seen, so a publish need not wait for it again. */
  private lastChannel: Channel | undefined
  /**
   * The channel each entity was last declared on by this producer. A reconnect brings a new
   * channel (and clears the connection's record), so an entry for another channel is stale.
   */
  private readonly declaredOn = new WeakMap<Entity, Channel>()

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

  /**
   * Publishes `body`. Resolves when written (or confirmed, with `confirm`). Once the channel is
   * open and everything to declare has been declared, the message goes to the channel at once,
   * without waiting for a microtask first.
   */
  publish(body: unknown, options: PublishOptions = NO_OPTIONS): Promise<void> {
    try {
      const message = this.build(body, options, undefined)
      const ex = options.exchange ?? this.exchange
      const exchange = typeof ex === 'string' ? ex : ex.name
      const routingKey = options.routingKey ?? this.routingKey
      const channelOptions = toChannelOptions(options)
      const channel = this.readyChannel(options)
      if (!channel) {
        const send = () => this.sendSlow([message], exchange, routingKey, channelOptions, options)
        return options.retry ? this.connection.ensure(send, options.retryPolicy) : send()
      }
      // A channel that throws rather than rejects still gets the retry (no closure on this path).
      let sent: Promise<void>
      try {
        sent = channel.publish(message, exchange, routingKey, channelOptions)
      } catch (err) {
        sent = Promise.reject(err)
      }
      if (!options.retry) return sent
      return sent.catch((err: unknown) =>
        this.retryAfter(err, [message], exchange, routingKey, channelOptions, options),
      )
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /**
   * Publishes many bodies to one exchange and routing key, in order: each is encoded as
   * `publish` would, entities are declared once, and the batch goes to the channel's
   * `publishMany` (one Redis LPUSH per queue and priority bucket) or, on channels without one,
   * as a run of publishes. With `retry`, a connection error retries the whole batch: on a retry
   * some messages may be delivered twice (at least once, as any retried publish).
   *
   * @example
   * await producer.publishMany([{ n: 1 }, { n: 2 }], { routingKey: 'tasks', declare: [queue] })
   */
  publishMany(bodies: readonly unknown[], options: PublishManyOptions = NO_OPTIONS): Promise<void> {
    try {
      const each = options.each
      if (each && each.length !== bodies.length)
        throw new InvalidOptionError(`each has ${each.length} entries for ${bodies.length} bodies`)
      const messages: OutgoingMessage[] = new Array(bodies.length)
      for (let i = 0; i < bodies.length; i++)
        messages[i] = this.build(bodies[i], options, each?.[i] ?? NO_ITEM)
      if (messages.length === 0) return Promise.resolve()
      const ex = options.exchange ?? this.exchange
      const exchange = typeof ex === 'string' ? ex : ex.name
      const routingKey = options.routingKey ?? this.routingKey
      const channelOptions = toChannelOptions(options)
      const channel = this.readyChannel(options)
      if (!channel) {
        const send = () => this.sendSlow(messages, exchange, routingKey, channelOptions, options)
        return options.retry ? this.connection.ensure(send, options.retryPolicy) : send()
      }
      const sent = attempt(() => writeMany(channel, messages, exchange, routingKey, channelOptions))
      if (!options.retry) return sent
      return sent.catch((err: unknown) =>
        this.retryAfter(err, messages, exchange, routingKey, channelOptions, options),
      )
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /** Builds the message `publish` sends: encoded, compressed, with headers and properties. */
  prepare(body: unknown, options: PublishOptions = NO_OPTIONS): OutgoingMessage {
    return this.build(body, options, undefined)
  }

  /** A producer holds no resources of its own; provided for symmetry and `await using`. */
  async close(): Promise<void> {}

  async [Symbol.asyncDispose](): Promise<void> {}

  /**
   * The channel to publish on now, when nothing has to be awaited first: it is open and every
   * entity of this publish was declared on it. Otherwise undefined (the slow path declares).
   */
  private readyChannel(options: PublishOptions): Channel | undefined {
    const channel = this.options.channel ?? this.lastChannel
    if (!channel?.isOpen || !this.connection.connected) return undefined
    const seen = this.declaredOn
    if (this.autoDeclare && this.exchange.name && seen.get(this.exchange) !== channel) return undefined
    const ex = options.exchange
    if (ex && typeof ex !== 'string' && ex !== this.exchange && ex.name && seen.get(ex) !== channel)
      return undefined
    const declare = options.declare
    if (declare)
      for (let i = 0; i < declare.length; i++) if (seen.get(declare[i]!) !== channel) return undefined
    return channel
  }

  /** Gets the channel, declares what is needed (once per connection), then writes. */
  private async sendSlow(
    messages: readonly OutgoingMessage[],
    exchange: string,
    routingKey: string,
    channelOptions: ChannelPublishOptions,
    options: PublishOptions,
  ): Promise<void> {
    let channel = this.options.channel
    if (!channel) {
      channel = await this.connection.defaultChannel()
      this.lastChannel = channel
    }
    if (this.autoDeclare && this.exchange.name) await this.declareOnce(channel, this.exchange)
    const ex = options.exchange
    if (ex && typeof ex !== 'string' && ex !== this.exchange && ex.name) await this.declareOnce(channel, ex)
    for (const entity of options.declare ?? []) await this.declareOnce(channel, entity)
    if (messages.length === 1) await channel.publish(messages[0]!, exchange, routingKey, channelOptions)
    else await writeMany(channel, messages, exchange, routingKey, channelOptions)
  }

  private async declareOnce(channel: Channel, entity: Entity): Promise<void> {
    await maybeDeclare(channel, entity, this.connection.declared)
    // A server-named queue is declared anew each time: never taken for done.
    if (entity instanceof Exchange || entity.name) this.declaredOn.set(entity, channel)
  }

  /**
   * The direct attempt failed: go on as `connection.ensure` would after a first failure (same
   * count of retries, same waits), by handing it the error as its first attempt's outcome.
   */
  private retryAfter(
    err: unknown,
    messages: readonly OutgoingMessage[],
    exchange: string,
    routingKey: string,
    channelOptions: ChannelPublishOptions,
    options: PublishOptions,
  ): Promise<void> {
    let first = true
    return this.connection.ensure(() => {
      if (!first) return this.sendSlow(messages, exchange, routingKey, channelOptions, options)
      first = false
      return Promise.reject(err)
    }, options.retryPolicy)
  }

  /** Encodes one body; `each` holds what a batch item sets over the batch's options. */
  private build(body: unknown, options: PublishOptions, each: MessageOptions | undefined): OutgoingMessage {
    const { serializers, compressors } = this.connection
    let payload: Buffer
    let contentType: string
    let contentEncoding: string
    if (options.contentType) {
      contentType = options.contentType
      contentEncoding = options.contentEncoding ?? (Buffer.isBuffer(body) ? 'binary' : 'utf-8')
      if (typeof body === 'string') payload = Buffer.from(body, 'utf8')
      else if (body instanceof Uint8Array) payload = Buffer.from(body)
      else
        throw new EncodeError('With contentType set, the body must be a Buffer or a string (already encoded)')
    } else {
      const encoded = serializers.encode(body, options.serializer ?? this.serializer)
      payload = encoded.body
      contentType = encoded.contentType
      contentEncoding = encoded.contentEncoding
    }
    const own = each?.headers
    // A batch's shared headers are copied, so its messages do not share one object.
    let headers: Headers =
      own && options.headers
        ? { ...options.headers, ...own }
        : (own ?? (options.headers ? (each === undefined ? options.headers : { ...options.headers }) : {}))
    const compression = options.compression ?? this.compression
    if (compression) {
      const c = compressors.compress(payload, compression)
      payload = c.body
      // A copy: the caller's headers are not changed.
      headers = { ...headers, compression: c.contentType }
    }
    const properties = this.properties(options, each)
    return { body: payload, contentType, contentEncoding, headers, properties }
  }

  private properties(options: PublishOptions, each: MessageOptions | undefined): MessageProperties {
    // As Kombu's _delivery_details: an Exchange given to publish brings its own delivery mode.
    const target = options.exchange instanceof Exchange ? options.exchange : this.exchange
    const mode = options.deliveryMode ?? target.deliveryMode ?? 'persistent'
    const deliveryMode = MODES[mode]
    if (!deliveryMode)
      throw new InvalidOptionError(
        `deliveryMode must be 'persistent', 'transient', 1 or 2, got ${String(mode)}`,
      )
    const properties: MessageProperties =
      options.properties || each?.properties
        ? { ...options.properties, ...each?.properties, deliveryMode }
        : { deliveryMode }
    const priority = each?.priority ?? options.priority
    if (priority !== undefined) properties.priority = checkPriority(priority)
    const expiration = each?.expiration ?? options.expiration
    if (expiration !== undefined) properties.expiration = String(checkExpiration(expiration))
    // Written out rather than looped over names: this runs for every message.
    const correlationId = each?.correlationId ?? options.correlationId
    if (correlationId !== undefined) properties.correlationId = correlationId
    const replyTo = each?.replyTo ?? options.replyTo
    if (replyTo !== undefined) properties.replyTo = replyTo
    const messageId = each?.messageId ?? options.messageId
    if (messageId !== undefined) properties.messageId = messageId
    const type = each?.type ?? options.type
    if (type !== undefined) properties.type = type
    const appId = each?.appId ?? options.appId
    if (appId !== undefined) properties.appId = appId
    const userId = each?.userId ?? options.userId
    if (userId !== undefined) properties.userId = userId
    const timestamp = each?.timestamp ?? options.timestamp
    if (timestamp !== undefined) properties.timestamp = timestamp
    return properties
  }
}

/** A channel call as a promise, even when it throws instead of rejecting (so retry applies). */
function attempt(write: () => Promise<void>): Promise<void> {
  try {
    return write()
  } catch (err) {
    return Promise.reject(err)
  }
}

/** Writes a batch with the channel's publishMany, or one publish after another without waiting. */
function writeMany(
  channel: Channel,
  messages: readonly OutgoingMessage[],
  exchange: string,
  routingKey: string,
  options: ChannelPublishOptions,
): Promise<void> {
  if (channel.publishMany) return channel.publishMany(messages, exchange, routingKey, options)
  // In order on one channel; every write is started before any is awaited.
  const sent: Array<Promise<void>> = new Array(messages.length)
  for (let i = 0; i < messages.length; i++)
    sent[i] = channel.publish(messages[i]!, exchange, routingKey, options)
  return Promise.all(sent).then(() => undefined)
}

function toChannelOptions(options: PublishOptions): ChannelPublishOptions {
  const delay =
    options.delay ?? (options.deliverAt ? Math.max(0, options.deliverAt.getTime() - Date.now()) : undefined)
  if (options.mandatory === undefined && options.confirm === undefined && delay === undefined)
    return NO_CHANNEL_OPTIONS
  return { mandatory: options.mandatory, confirm: options.confirm, delay }
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
