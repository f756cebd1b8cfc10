/**
 * AmqpChannel: @q/kombu's Channel, natively on an amqplib confirm channel (a Link). When the
 * broker closes the channel for an error (PRECONDITION_FAILED on a redeclare, NOT_FOUND...), the
 * operation fails with a ChannelError carrying the server's reply, and the next operation gets a
 * new amqplib channel, with the prefetch and every consumer moved over to it; the connection and
 * other channels never notice. Delivery tags keep growing across those replacements, so an ack for
 * a message of the old channel (which the broker has requeued) is refused instead of acking another.
 */
import {
  type Channel,
  ChannelError,
  ConnectionError,
  type Delivery,
  type Exchange,
  NotSupportedError,
  type OutgoingMessage,
  QError,
  type Queue,
} from '@q/kombu'
import type {
  ChannelPublishOptions,
  ConsumeOptions,
  DeliveryHandler,
  QueueDeclareResult,
} from '@q/kombu/internal'
import { amqpCapabilities } from './capabilities.js'
import type { AmqpConnection } from './connection.js'
import { type ConsumerRecord, ConsumerSet } from './consumers.js'
import { toAmqpQError } from './errors.js'
import { toWireTable } from './headers.js'
import { Link, type LinkHost } from './link.js'
import { NotSentError } from './publisher.js'
import { QosPolicy } from './qos.js'

const settled = (what: string, tag: number) =>
  new ChannelError(
    `cannot ${what} delivery ${tag}: the channel that delivered it has closed, and the broker has requeued the message`,
  )

/** A channel on a RabbitMQ connection. */
export class AmqpChannel implements Channel, LinkHost {
  readonly capabilities = amqpCapabilities
  private link: Link | undefined
  private opening: Promise<Link> | undefined
  private readonly consumers: ConsumerSet
  /** Queues declared on this channel: the prefetch policy looks at their types. */
  private readonly declared = new Set<string>()
  private readonly qosPolicy: QosPolicy
  private open = true
  private lostError: Error | undefined
  private closing: Promise<void> | undefined
  private resolveClosed!: (err: Error | undefined) => void
  private readonly closedPromise = new Promise<Error | undefined>((r) => {
    this.resolveClosed = r
  })

  constructor(private readonly conn: AmqpConnection) {
    this.qosPolicy = new QosPolicy(conn.queueTypes, conn.logger)
    this.consumers = new ConsumerSet(conn.logger)
  }

  get isOpen(): boolean {
    return this.open
  }

  /** Opens the first amqplib channel (so that a refused channel fails `createChannel`). */
  async start(): Promise<void> {
    await this.current()
  }

  async declareExchange(exchange: Exchange, options: { passive?: boolean } = {}): Promise<void> {
    const { name } = exchange
    if (!name) return // the default exchange always exists and cannot be declared
    await this.run(`declare exchange '${name}'`, (l) =>
      options.passive
        ? l.ch.checkExchange(name)
        : l.ch.assertExchange(name, exchange.type, {
            durable: exchange.durable,
            autoDelete: exchange.autoDelete,
            arguments: toWireTable(exchange.arguments),
          }),
    )
  }

  async deleteExchange(name: string, options: { ifUnused?: boolean } = {}): Promise<void> {
    await this.run(`delete exchange '${name}'`, (l) =>
      l.ch.deleteExchange(name, { ifUnused: options.ifUnused }),
    )
  }

  async declareQueue(queue: Queue, options: { passive?: boolean } = {}): Promise<QueueDeclareResult> {
    const r = await this.run(`declare queue '${queue.name}'`, (l) =>
      options.passive
        ? l.ch.checkQueue(queue.name)
        : l.ch.assertQueue(queue.name, {
            durable: queue.durable,
            exclusive: queue.exclusive,
            autoDelete: queue.autoDelete,
            arguments: toWireTable(queue.arguments),
          }),
    )
    this.declared.add(r.queue)
    if (!options.passive)
      this.conn.queueTypes.set(r.queue, String(queue.arguments['x-queue-type'] ?? 'classic'))
    return { queue: r.queue, messageCount: r.messageCount, consumerCount: r.consumerCount }
  }

  async bindQueue(
    queue: string,
    exchange: string,
    routingKey: string,
    args?: Record<string, unknown>,
  ): Promise<void> {
    await this.run(`bind queue '${queue}' to '${exchange}'`, (l) =>
      l.ch.bindQueue(queue, exchange, routingKey, toWireTable(args ?? {})),
    )
  }

  async unbindQueue(
    queue: string,
    exchange: string,
    routingKey: string,
    args?: Record<string, unknown>,
  ): Promise<void> {
    await this.run(`unbind queue '${queue}' from '${exchange}'`, (l) =>
      l.ch.unbindQueue(queue, exchange, routingKey, toWireTable(args ?? {})),
    )
  }

  async deleteQueue(name: string, options: { ifUnused?: boolean; ifEmpty?: boolean } = {}): Promise<number> {
    const r = await this.run(`delete queue '${name}'`, (l) => l.ch.deleteQueue(name, options))
    return r.messageCount
  }

  async purgeQueue(name: string): Promise<number> {
    return (await this.run(`purge queue '${name}'`, (l) => l.ch.purgeQueue(name))).messageCount
  }

  async publish(
    message: OutgoingMessage,
    exchange: string,
    routingKey: string,
    options: ChannelPublishOptions = {},
  ): Promise<void> {
    refuseDelay(options)
    for (let attempt = 0; ; attempt++) {
      const link = this.link && !this.link.closed ? this.link : await this.current()
      try {
        return await link.publisher.publish(message, exchange, routingKey, options)
      } catch (err) {
        // Nothing was sent: the channel had just closed. Send it on the next one.
        if (err instanceof NotSentError && this.open && attempt < 3) continue
        throw this.mapError(err, 'publish')
      }
    }
  }

  /**
   * Publishes `messages` in order to one exchange and routing key: one loop of writes and one wait
   * for the socket buffer when it fills (Publisher.publishMany). When the amqplib channel closes
   * midway, the messages not yet sent go on the next one.
   */
  async publishMany(
    messages: readonly OutgoingMessage[],
    exchange: string,
    routingKey: string,
    options: ChannelPublishOptions = {},
  ): Promise<void> {
    refuseDelay(options)
    let rest = messages
    for (let attempt = 0; ; attempt++) {
      const link = this.link && !this.link.closed ? this.link : await this.current()
      try {
        return await link.publisher.publishMany(rest, exchange, routingKey, options)
      } catch (err) {
        if (err instanceof NotSentError && this.open && attempt < 3) {
          rest = rest.slice(err.sent)
          continue
        }
        throw this.mapError(err, 'publish')
      }
    }
  }

  async consume(queue: string, onDelivery: DeliveryHandler, options: ConsumeOptions = {}): Promise<string> {
    // RabbitMQ answers a reused tag by closing the whole connection (530): refuse it here.
    if (options.consumerTag && this.consumers.has(options.consumerTag))
      throw new ChannelError(`NOT_ALLOWED - consumer tag '${options.consumerTag}' is in use`, {
        replyCode: 530,
      })
    const record: ConsumerRecord = { tag: options.consumerTag ?? '', queue, options, onDelivery }
    await this.run(`consume from queue '${queue}'`, async (link) => {
      await this.qosPolicy.beforeConsume(link, queue, this.queuesInUse())
      await this.consumers.start(link, record)
    })
    this.consumers.add(record)
    return record.tag
  }

  async cancel(consumerTag: string): Promise<void> {
    this.consumers.delete(consumerTag)
    const link = this.link
    if (!link || link.closed) return
    try {
      await link.ch.cancel(consumerTag)
    } catch (err) {
      throw this.mapError(err, `cancel consumer '${consumerTag}'`)
    }
  }

  async get(queue: string, options: { noAck?: boolean } = {}): Promise<Delivery | null> {
    const noAck = options.noAck ?? false
    return this.run(`get from queue '${queue}'`, async (link) => {
      const m = await link.ch.get(queue, { noAck })
      return m ? this.consumers.delivery(link, m, queue, noAck) : null
    })
  }

  ack(deliveryTag: number, multiple = false): Promise<void> {
    const link = this.link
    if (!link || link.closed || deliveryTag <= link.offset) return Promise.reject(settled('ack', deliveryTag))
    const tag = deliveryTag - link.offset
    if (!multiple && !link.acks.holds(tag)) return Promise.reject(unknownTag(deliveryTag))
    return link.acks.ack(tag, multiple)
  }

  reject(deliveryTag: number, requeue: boolean): Promise<void> {
    const link = this.link
    if (!link || link.closed || deliveryTag <= link.offset)
      return Promise.reject(settled('reject', deliveryTag))
    const tag = deliveryTag - link.offset
    if (!link.acks.holds(tag)) return Promise.reject(unknownTag(deliveryTag))
    return link.acks.reject(tag, requeue)
  }

  async qos(options: { prefetchCount: number; global?: boolean }): Promise<void> {
    this.qosPolicy.set(options.prefetchCount, options.global === true)
    await this.run('basic.qos', (link) =>
      this.qosPolicy.apply(link, this.queuesInUse(), this.consumers.size > 0),
    )
  }

  async recover(requeue = true): Promise<void> {
    if (!requeue)
      throw new NotSupportedError(
        'RabbitMQ redelivers only with requeue (basic.recover requeue=false is not implemented)',
      )
    await this.run('basic.recover', async (link) => {
      await link.ch.recover()
      // Every unacked message comes again with a new tag; the old tags are void.
      link.acks.forgetAll()
    })
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.open = false
      this.consumers.clear()
      const link = this.link ?? (await this.opening?.catch(() => undefined))
      this.link = undefined
      await link?.close()
      this.conn.forget(this)
      this.resolveClosed(this.lostError)
    })()
    return this.closing
  }

  closed(): Promise<Error | undefined> {
    return this.closedPromise
  }

  /** The connection is gone (AmqpConnection calls it): so is this channel, with its consumers. */
  connectionLost(error: Error): void {
    if (!this.open) return
    this.open = false
    this.lostError = error
    this.consumers.clear()
    this.link = undefined
    this.resolveClosed(error)
  }

  /** LinkHost: an amqplib channel closed. */
  linkClosed(link: Link): void {
    if (link !== this.link) return
    this.link = undefined
    // Closed by us, or by the connection going away (the connection calls connectionLost).
    if (!this.open || link.closedByUs || !link.failure) return
    this.conn.logger.debug(`channel closed by the broker (${link.failure.message}); opening another`)
    // Consumers must not wait for the next operation to be moved: reopen now.
    if (this.consumers.size > 0)
      this.current().catch((err) => this.conn.logger.error('cannot reopen a channel for its consumers', err))
  }

  /** LinkHost and everything here: an amqplib failure as a QError. */
  mapError(err: unknown, what?: string): QError {
    if (err instanceof QError) return err
    const lost = this.lostError ?? this.conn.lostError
    if (lost) return new ConnectionError(`${what ? `${what}: ` : ''}${lost.message}`, { cause: err })
    if (err instanceof NotSentError || !this.open)
      return new ChannelError(`${what ? `${what}: ` : ''}channel is closed`, { cause: err })
    return toAmqpQError(err, what)
  }

  /** The current Link, opening one (with the prefetch and the consumers) when there is none. */
  private current(): Promise<Link> {
    if (!this.open) return Promise.reject(this.lostError ?? new ChannelError('Channel is closed'))
    if (this.link && !this.link.closed) return Promise.resolve(this.link)
    this.opening ??= this.reopen().finally(() => {
      this.opening = undefined
    })
    return this.opening
  }

  private async reopen(): Promise<Link> {
    // A consumer that cannot be moved (its queue is gone) is dropped; so this ends.
    for (;;) {
      const link = new Link(await this.conn.openConfirmChannel(), this.consumers.maxTag, this)
      this.link = link
      const before = this.consumers.size
      try {
        await this.qosPolicy.apply(link, this.queuesInUse(), before > 0)
        await this.consumers.moveAll(link)
        return link
      } catch (err) {
        if (!this.open || !link.failure || this.consumers.size === before)
          throw this.mapError(err, 'open channel')
      }
    }
  }

  private queuesInUse(): string[] {
    return [...new Set([...this.declared, ...this.consumers.queues()])]
  }

  /**
   * Runs an operation on the current Link. An operation queued behind one the broker refused was
   * never sent (amqplib sends one RPC at a time): it runs again, once, on the new channel.
   */
  private async run<T>(what: string, op: (link: Link) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const link = await this.current()
      try {
        // Acks asked for before the operation leave before it, as they were asked: one the broker
        // refuses closes the channel, and an ack still batched behind it would be lost (the
        // message delivered again).
        link.acks.flush()
        return await op(link)
      } catch (err) {
        const unsent = err instanceof Error && /^Channel ended, no reply/.test(err.message)
        if (attempt === 0 && unsent && link.failure && this.open) continue
        throw this.mapError(err, what)
      }
    }
  }
}

function refuseDelay(options: ChannelPublishOptions): void {
  if (options.delay && options.delay > 0)
    throw new NotSupportedError(
      'RabbitMQ has no delayed delivery without a plugin (capabilities.delayedDelivery is false)',
    )
}

function unknownTag(deliveryTag: number): ChannelError {
  return new ChannelError(`PRECONDITION_FAILED - unknown delivery tag ${deliveryTag}`, {
    replyCode: 406,
    replyText: 'PRECONDITION_FAILED',
  })
}
