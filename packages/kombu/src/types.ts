/**
 * The contract between @q/kombu and its transports. A transport package (memory, AMQP, Redis, SQS)
 * exports one {@link TransportDriver}; everything user-facing (Connection, Producer, Consumer) talks
 * only to these interfaces.
 */
import type { ErrorClass } from './errors.js'
import type { Exchange } from './exchange.js'
import type { Queue } from './queue.js'

/** The four AMQP exchange types. */
export type ExchangeType = 'direct' | 'topic' | 'fanout' | 'headers'

/**
 * What a transport can do, as data: the contract suite and the Celery layer read it instead of
 * probing (after `Implements` in Kombu's transport base).
 */
export interface TransportCapabilities {
  /** Exchange types the transport routes. */
  readonly exchangeTypes: readonly ExchangeType[]
  /** Whether one publish can reach every bound queue or subscriber (pidbox, events). */
  readonly fanout: boolean
  /**
   * Message priority: `higher-first` as in AMQP (needs `maxPriority` on the queue), `lower-first`
   * as Kombu's Redis buckets (0 is delivered first), or `none`.
   */
  readonly priority: 'higher-first' | 'lower-first' | 'none'
  /** Per-message `expiration` and per-queue `messageTtl` are honoured. */
  readonly ttl: boolean
  /** `publish(..., { delay })` is supported without holding messages in a consumer. */
  readonly delayedDelivery: boolean
  /** `confirm: true` waits for the broker's acknowledgement (otherwise it waits for the write). */
  readonly publisherConfirms: boolean
  /** Unacked messages return to their queue when their holder goes away. */
  readonly acknowledgements: boolean
  /** Queue arguments such as `deadLetterExchange` are honoured. */
  readonly deadLettering: boolean
}

/** AMQP-style message properties. Unknown keys are kept and carried where the transport can. */
export interface MessageProperties {
  /** 1 = transient, 2 = persistent. */
  deliveryMode?: 1 | 2
  priority?: number
  correlationId?: string
  replyTo?: string
  /** Time to live in milliseconds, as a decimal string (AMQP's `expiration`). */
  expiration?: string
  messageId?: string
  /** Seconds since the epoch. */
  timestamp?: number
  type?: string
  userId?: string
  appId?: string
  [property: string]: unknown
}

/** Application headers: a JSON-like table (AMQP field table). */
export type Headers = Record<string, unknown>

/** A message as it travels to the broker: encoded body and metadata. */
export interface OutgoingMessage {
  body: Buffer
  contentType: string
  contentEncoding: string
  headers: Headers
  properties: MessageProperties
}

/** Where a delivered message came from. */
export interface DeliveryInfo {
  exchange: string
  routingKey: string
  /** The queue it was consumed from, where the transport knows it. */
  queue?: string
  consumerTag?: string
  /** True when the message was delivered before and not acknowledged. */
  redelivered: boolean
  [key: string]: unknown
}

/** A message delivered by a channel; acknowledged through the channel by `deliveryTag`. */
export interface Delivery extends OutgoingMessage {
  deliveryTag: number
  deliveryInfo: DeliveryInfo
}

/** Channel-level publish options (the Producer builds these from its own options). */
export interface ChannelPublishOptions {
  /** Fail with UnroutableError when no queue receives the message. */
  mandatory?: boolean
  /** Resolve only once the broker has confirmed the message. */
  confirm?: boolean
  /** Deliver no sooner than this many milliseconds from now (needs `delayedDelivery`). */
  delay?: number
}

/** Options for `Channel.consume`. */
export interface ConsumeOptions {
  noAck?: boolean
  consumerTag?: string
  exclusive?: boolean
  arguments?: Record<string, unknown>
}

/** What declaring a queue reports. */
export interface QueueDeclareResult {
  queue: string
  messageCount: number
  consumerCount: number
}

/** Called for every delivery of a consumer, synchronously, in delivery order. */
export type DeliveryHandler = (delivery: Delivery) => void

/**
 * A channel: the unit of work on a connection. AMQP implements it natively; every other broker
 * goes through `VirtualChannel`. Methods that talk to the broker are async.
 */
export interface Channel {
  readonly capabilities: TransportCapabilities
  /** True until the channel is closed (by us or by the broker). */
  readonly isOpen: boolean
  declareExchange(exchange: Exchange, options?: { passive?: boolean }): Promise<void>
  deleteExchange(name: string, options?: { ifUnused?: boolean }): Promise<void>
  declareQueue(queue: Queue, options?: { passive?: boolean }): Promise<QueueDeclareResult>
  bindQueue(
    queue: string,
    exchange: string,
    routingKey: string,
    args?: Record<string, unknown>,
  ): Promise<void>
  unbindQueue(
    queue: string,
    exchange: string,
    routingKey: string,
    args?: Record<string, unknown>,
  ): Promise<void>
  /** Deletes a queue; resolves with the number of messages it held. */
  deleteQueue(name: string, options?: { ifUnused?: boolean; ifEmpty?: boolean }): Promise<number>
  /** Removes every ready message; resolves with how many. */
  purgeQueue(name: string): Promise<number>
  /** Publishes; resolves when written, or confirmed when `confirm` is set. */
  publish(
    message: OutgoingMessage,
    exchange: string,
    routingKey: string,
    options?: ChannelPublishOptions,
  ): Promise<void>
  /**
   * Publishes many messages to one exchange and routing key, in order, in as few writes as the
   * broker allows (one Redis LPUSH per queue, one wait for AMQP's socket buffer). Resolves when
   * all are written, or confirmed when `confirm` is set. Optional: without it, callers publish
   * one at a time.
   */
  publishMany?(
    messages: readonly OutgoingMessage[],
    exchange: string,
    routingKey: string,
    options?: ChannelPublishOptions,
  ): Promise<void>
  /** Starts a consumer; resolves with its consumer tag. */
  consume(queue: string, onDelivery: DeliveryHandler, options?: ConsumeOptions): Promise<string>
  cancel(consumerTag: string): Promise<void>
  /** Fetches one message if there is one (AMQP basic.get). */
  get(queue: string, options?: { noAck?: boolean }): Promise<Delivery | null>
  ack(deliveryTag: number, multiple?: boolean): Promise<void>
  reject(deliveryTag: number, requeue: boolean): Promise<void>
  qos(options: { prefetchCount: number; global?: boolean }): Promise<void>
  /** Redelivers every unacknowledged message of this channel. */
  recover(requeue?: boolean): Promise<void>
  /** Closes; unacknowledged messages go back to their queues. Idempotent. */
  close(): Promise<void>
  /** Resolves when the channel closes: with the error that closed it, or undefined. Never rejects. */
  closed(): Promise<Error | undefined>
}

/** A broker URL, parsed as Kombu parses it. */
export interface BrokerUrl {
  /** The URL as given. */
  readonly href: string
  /** The scheme as written (`pyamqp`, `rediss`, ...). */
  readonly scheme: string
  readonly hostname: string
  readonly port: number | undefined
  readonly userid: string | undefined
  readonly password: string | undefined
  /** The path without its leading slash; `//` gives `/` (AMQP vhost, Redis db number). */
  readonly virtualHost: string
  /** Query-string options, as strings. */
  readonly query: Readonly<Record<string, string>>
}

/** Minimal logger; `console` fits. */
export interface Logger {
  debug(message: string, ...args: unknown[]): void
  info(message: string, ...args: unknown[]): void
  warn(message: string, ...args: unknown[]): void
  error(message: string, ...args: unknown[]): void
}

/** Everything a transport needs to open a connection. */
export interface TransportContext {
  /** Transport-specific options: the Connection's `transportOptions` merged over the URL's query. */
  readonly transportOptions: Readonly<Record<string, unknown>>
  /** Milliseconds to wait for the broker to answer. */
  readonly connectTimeout: number
  /** Heartbeat interval in seconds (0 = off), where the transport has heartbeats. */
  readonly heartbeat: number
  /** TLS: true for defaults, or options for `tls.connect`. */
  readonly ssl: boolean | Readonly<Record<string, unknown>>
  readonly logger: Logger
}

/** One open connection to a broker. */
export interface TransportConnection {
  createChannel(): Promise<Channel>
  /** Closes the connection; idempotent. */
  close(): Promise<void>
  /** Resolves when the connection ends: with the error that ended it, or undefined. Never rejects. */
  closed(): Promise<Error | undefined>
  /** Broker-side flow control, where the transport reports it (AMQP connection.blocked). */
  onBlocked?(listener: (blocked: boolean, reason?: string) => void): void
}

/** What a transport package exports: how to reach one kind of broker. */
export interface TransportDriver {
  /** Canonical name: `memory`, `amqp`, `redis`, `sqs`. */
  readonly name: string
  readonly capabilities: TransportCapabilities
  readonly defaultPort?: number
  /** Opens a connection to the broker at `url`. */
  connect(url: BrokerUrl, context: TransportContext): Promise<TransportConnection>
  /** Classifies a driver error: connection errors are retried, channel errors are not, fatal ones stop. */
  classifyError(err: unknown): ErrorClass
}
