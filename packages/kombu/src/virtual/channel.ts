/**
 * VirtualChannel: AMQP's channel model on top of a broker's primitives. It owns everything the
 * primitives do not: declared exchanges, routing through bindings, delivery tags, prefetch,
 * the unacked set, consumers and the delivery loop. Memory, Redis and SQS share it.
 */
import { ChannelError, NotSupportedError, UnroutableError } from '../errors.js'
import type { Exchange } from '../exchange.js'
import type { Queue } from '../queue.js'
import type {
  Channel,
  ChannelPublishOptions,
  ConsumeOptions,
  Delivery,
  DeliveryHandler,
  OutgoingMessage,
  QueueDeclareResult,
  TransportCapabilities,
} from '../types.js'
import { isThenable, uuid } from '../util.js'
import type { BindingTable } from './binding-table.js'
import { DeliveryPump } from './delivery-pump.js'
import { exchangeRouters } from './exchange-types.js'
import type { PutOptions, VirtualDelivery, VirtualPrimitives } from './primitives.js'

/** What a virtual transport gives each channel. */
export interface VirtualChannelOptions {
  readonly primitives: VirtualPrimitives
  readonly capabilities: TransportCapabilities
  /** Declared exchanges. Its scope is the transport's choice (a broker, a connection). */
  readonly exchanges: Map<string, Exchange>
  readonly bindings: BindingTable
  /** How long to wait between polls of an idle broker without `onReady` or `getMany`; default 1000 ms. */
  readonly pollInterval?: number
  /** Called once when the channel has closed. */
  readonly onClose?: () => void
}

interface ConsumerEntry {
  readonly tag: string
  readonly queue: string
  readonly noAck: boolean
  readonly onDelivery: DeliveryHandler
}

/** A Channel for brokers that are not AMQP. */
export class VirtualChannel implements Channel {
  readonly capabilities: TransportCapabilities
  private readonly prim: VirtualPrimitives
  private readonly exchanges: Map<string, Exchange>
  private readonly bindings: BindingTable
  private readonly consumers = new Map<string, ConsumerEntry>()
  /** Unacknowledged deliveries by tag; Map order is delivery order. */
  private readonly unacked = new Map<number, VirtualDelivery>()
  private readonly pump: DeliveryPump<ConsumerEntry>
  private nextTag = 1
  private open = true
  private closing: Promise<void> | undefined
  private resolveClosed!: (err: Error | undefined) => void
  private readonly closedPromise = new Promise<Error | undefined>((r) => {
    this.resolveClosed = r
  })

  constructor(private readonly options: VirtualChannelOptions) {
    this.capabilities = options.capabilities
    this.prim = options.primitives
    this.exchanges = options.exchanges
    this.bindings = options.bindings
    this.pump = new DeliveryPump<ConsumerEntry>(this.prim, options.pollInterval ?? 1000, {
      consumers: () => this.consumers.values(),
      room: () => this.room(),
      deliver: (d) => this.dispatch(d),
      isOpen: () => this.open,
    })
  }

  get isOpen(): boolean {
    return this.open
  }

  async declareExchange(exchange: Exchange, options: { passive?: boolean } = {}): Promise<void> {
    const existing = this.exchanges.get(exchange.name)
    if (options.passive) {
      if (!existing && exchange.name) throw notFound(`exchange '${exchange.name}'`)
      return
    }
    if (existing && existing.type !== exchange.type) {
      throw new ChannelError(
        `PRECONDITION_FAILED - inequivalent arg 'type' for exchange '${exchange.name}': received '${exchange.type}' but current is '${existing.type}'`,
        { replyCode: 406, replyText: 'PRECONDITION_FAILED' },
      )
    }
    if (exchange.name) this.exchanges.set(exchange.name, exchange)
  }

  async deleteExchange(name: string): Promise<void> {
    // As in AMQP, the exchange's bindings go with it.
    for (const row of [...(await this.bindings.rows(name))]) await this.bindings.remove(row)
    this.exchanges.delete(name)
  }

  async declareQueue(queue: Queue, options: { passive?: boolean } = {}): Promise<QueueDeclareResult> {
    this.assertOpen()
    const name = queue.name || `amq.gen-${uuid()}`
    if (options.passive) {
      if (this.prim.hasQueue && !(await this.prim.hasQueue(name))) throw notFound(`queue '${name}'`)
    } else {
      await this.prim.declareQueue(queue.name ? queue : queue.named(name))
    }
    let consumerCount = 0
    for (const c of this.consumers.values()) if (c.queue === name) consumerCount++
    return { queue: name, messageCount: await this.prim.size(name), consumerCount }
  }

  async bindQueue(
    queue: string,
    exchange: string,
    routingKey: string,
    args?: Record<string, unknown>,
  ): Promise<void> {
    if (!exchange)
      throw new ChannelError(`ACCESS_REFUSED - cannot bind queue '${queue}' to the default exchange`, {
        replyCode: 403,
      })
    const type = this.exchanges.get(exchange)?.type ?? 'direct'
    await this.bindings.add(exchangeRouters[type].prepareBind(queue, exchange, routingKey, args))
  }

  async unbindQueue(
    queue: string,
    exchange: string,
    routingKey: string,
    args?: Record<string, unknown>,
  ): Promise<void> {
    const type = this.exchanges.get(exchange)?.type ?? 'direct'
    await this.bindings.remove(exchangeRouters[type].prepareBind(queue, exchange, routingKey, args))
  }

  async deleteQueue(name: string): Promise<number> {
    const count = await this.prim.size(name)
    await this.prim.deleteQueue(name)
    await this.bindings.removeQueue(name)
    return count
  }

  async purgeQueue(name: string): Promise<number> {
    return this.prim.purge(name)
  }

  async publish(
    message: OutgoingMessage,
    exchange: string,
    routingKey: string,
    options: ChannelPublishOptions = {},
  ): Promise<void> {
    this.assertOpen()
    const delay = this.checkDelay(options)
    const routed = this.route(exchange, routingKey, message.headers)
    const queues = isThenable(routed) ? await routed : routed
    if (queues === FANOUT) {
      await this.prim.publishFanout!(exchange, message, routingKey)
      return
    }
    if (queues.length === 0) return this.unroutable(exchange, routingKey, options)
    const put = putOptions(exchange, routingKey, options.confirm === true, delay)
    for (const queue of queues) {
      const r = this.prim.put(queue, message, put)
      if (isThenable(r)) await r
    }
  }

  /**
   * Publishes a batch: routed once for the exchange and routing key (per message only on headers
   * exchanges, which route on each message's headers), then handed to `putMany` once per queue,
   * or put one by one where the primitives have no `putMany`. Fanout, mandatory, delay and
   * confirm mean what they mean for `publish`; with `mandatory`, an unroutable batch fails whole.
   */
  async publishMany(
    messages: readonly OutgoingMessage[],
    exchange: string,
    routingKey: string,
    options: ChannelPublishOptions = {},
  ): Promise<void> {
    this.assertOpen()
    const delay = this.checkDelay(options)
    if (messages.length === 0) return
    if (exchange && this.exchanges.get(exchange)?.type === 'headers') {
      for (const m of messages) await this.publish(m, exchange, routingKey, options)
      return
    }
    const routed = this.route(exchange, routingKey, messages[0]!.headers)
    const queues = isThenable(routed) ? await routed : routed
    if (queues === FANOUT) {
      for (const m of messages) {
        const r = this.prim.publishFanout!(exchange, m, routingKey)
        if (isThenable(r)) await r
      }
      return
    }
    if (queues.length === 0) return this.unroutable(exchange, routingKey, options)
    const put = putOptions(exchange, routingKey, options.confirm === true, delay)
    for (const queue of queues) {
      if (this.prim.putMany) {
        const r = this.prim.putMany(queue, messages, put)
        if (isThenable(r)) await r
        continue
      }
      for (const m of messages) {
        const r = this.prim.put(queue, m, put)
        if (isThenable(r)) await r
      }
    }
  }

  /** The delay asked for, if any; throws when the transport cannot delay. */
  private checkDelay(options: ChannelPublishOptions): number | undefined {
    const { delay } = options
    if (delay && delay > 0 && !this.capabilities.delayedDelivery) {
      throw new NotSupportedError(
        'This transport has no delayed delivery (capabilities.delayedDelivery is false)',
      )
    }
    return delay || undefined
  }

  /**
   * The queues a message reaches, or FANOUT when the primitives broadcast it themselves.
   * Synchronous when the primitives are (memory), so a publish waits on nothing it need not.
   */
  private route(
    exchange: string,
    routingKey: string,
    headers: OutgoingMessage['headers'],
  ): readonly string[] | typeof FANOUT | Promise<readonly string[]> {
    if (!exchange) {
      if (!this.prim.hasQueue) return [routingKey]
      const exists = this.prim.hasQueue(routingKey)
      if (isThenable(exists)) return exists.then((e) => (e ? [routingKey] : []))
      return exists ? [routingKey] : []
    }
    const type = this.exchanges.get(exchange)?.type ?? 'direct'
    if (type === 'fanout' && this.prim.publishFanout) return FANOUT
    if (!this.capabilities.exchangeTypes.includes(type)) {
      throw new NotSupportedError(`This transport does not route '${type}' exchanges`)
    }
    const router = exchangeRouters[type]
    const rows = this.bindings.rows(exchange)
    if (isThenable(rows)) return rows.then((r) => router.lookup(r, routingKey, headers))
    return router.lookup(rows, routingKey, headers)
  }

  private unroutable(exchange: string, routingKey: string, options: ChannelPublishOptions): void {
    if (options.mandatory) {
      throw new UnroutableError(
        `NO_ROUTE - message to exchange '${exchange}' with key '${routingKey}' reached no queue`,
      )
    }
  }

  async consume(queue: string, onDelivery: DeliveryHandler, options: ConsumeOptions = {}): Promise<string> {
    this.assertOpen()
    const tag = options.consumerTag ?? `ctag-${uuid()}`
    if (this.consumers.has(tag))
      throw new ChannelError(`NOT_ALLOWED - consumer tag '${tag}' is in use`, { replyCode: 530 })
    this.consumers.set(tag, { tag, queue, noAck: options.noAck ?? false, onDelivery })
    this.pump.kick()
    return tag
  }

  async cancel(consumerTag: string): Promise<void> {
    this.consumers.delete(consumerTag)
  }

  async get(queue: string, options: { noAck?: boolean } = {}): Promise<Delivery | null> {
    this.assertOpen()
    const noAck = options.noAck ?? false
    const d = await this.prim.get(queue, { noAck })
    return d ? this.toDelivery(d, noAck, undefined) : null
  }

  ack(deliveryTag: number, multiple = false): Promise<void> {
    if (multiple) return this.ackMany(deliveryTag)
    // The hot path (one tag): no arrays, and no promise of its own when the primitives ack
    // synchronously (memory); Redis batches the acks of a tick itself.
    const d = this.unacked.get(deliveryTag)
    if (!d) return Promise.reject(unknownTag(deliveryTag))
    this.unacked.delete(deliveryTag)
    let r: ReturnType<VirtualPrimitives['ack']>
    try {
      r = this.prim.ack(d)
    } catch (err) {
      return Promise.reject(err)
    } finally {
      // The window is local: it has room as soon as the message is settled here.
      this.pump.kick()
    }
    return isThenable(r) ? (r as Promise<void>) : SETTLED
  }

  private async ackMany(deliveryTag: number): Promise<void> {
    const pending: Array<Promise<void>> = []
    for (const [tag, d] of this.take(deliveryTag, true)) {
      this.unacked.delete(tag)
      const r = this.prim.ack(d)
      if (isThenable(r)) pending.push(r as Promise<void>)
    }
    // The window is local: it has room as soon as the message is settled here.
    this.pump.kick()
    if (pending.length) await Promise.all(pending)
  }

  async reject(deliveryTag: number, requeue: boolean): Promise<void> {
    for (const [tag, d] of this.take(deliveryTag, false)) {
      this.unacked.delete(tag)
      await this.prim.reject(d, requeue)
    }
    this.pump.kick()
  }

  async qos(options: { prefetchCount: number }): Promise<void> {
    this.prefetch = Math.max(0, options.prefetchCount)
    this.pump.kick()
  }

  async recover(): Promise<void> {
    await this.requeueUnacked()
    this.pump.kick()
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.open = false
      this.consumers.clear()
      this.pump.stop()
      try {
        await this.requeueUnacked()
      } finally {
        this.resolveClosed(undefined)
        this.options.onClose?.()
      }
    })()
    return this.closing
  }

  closed(): Promise<Error | undefined> {
    return this.closedPromise
  }

  private prefetch = 0

  /** How many more messages may be delivered before the prefetch window is full. */
  private room(): number {
    return this.prefetch === 0 ? Number.POSITIVE_INFINITY : this.prefetch - this.unacked.size
  }

  /** Hands a fetched message to a consumer of its queue, or puts it back if there is none. */
  private dispatch(d: VirtualDelivery): void {
    const consumer = this.pump.pickConsumer(d.queue)
    if (!consumer || !this.open) {
      void (this.prim.restore ? this.prim.restore(d, false) : this.prim.reject(d, true))
      return
    }
    consumer.onDelivery(this.toDelivery(d, consumer.noAck, consumer.tag))
  }

  private toDelivery(d: VirtualDelivery, noAck: boolean, consumerTag: string | undefined): Delivery {
    const deliveryTag = this.nextTag++
    if (!noAck) this.unacked.set(deliveryTag, d)
    const m = d.message
    // Two literals rather than a spread: this runs for every message.
    const deliveryInfo = consumerTag
      ? {
          exchange: d.exchange,
          routingKey: d.routingKey,
          queue: d.queue,
          redelivered: d.redelivered,
          consumerTag,
        }
      : { exchange: d.exchange, routingKey: d.routingKey, queue: d.queue, redelivered: d.redelivered }
    return {
      body: m.body,
      contentType: m.contentType,
      contentEncoding: m.contentEncoding,
      headers: m.headers,
      properties: m.properties,
      deliveryTag,
      deliveryInfo,
    }
  }

  private take(deliveryTag: number, multiple: boolean): Array<[number, VirtualDelivery]> {
    if (!multiple) {
      const d = this.unacked.get(deliveryTag)
      if (!d) throw unknownTag(deliveryTag)
      return [[deliveryTag, d]]
    }
    // As AMQP basic.ack: multiple with tag 0 means every outstanding delivery.
    return [...this.unacked].filter(([tag]) => deliveryTag === 0 || tag <= deliveryTag)
  }

  /** Gives every unacked message back, newest first, so the oldest ends up first in line again. */
  private async requeueUnacked(): Promise<void> {
    const pending = [...this.unacked].reverse()
    this.unacked.clear()
    for (const [, d] of pending)
      await (this.prim.restore ? this.prim.restore(d, true) : this.prim.reject(d, true))
  }

  private assertOpen(): void {
    if (!this.open) throw new ChannelError('Channel is closed')
  }
}

/** `route`'s answer when the primitives broadcast a fanout message themselves. */
const FANOUT = Symbol('fanout')

function putOptions(
  exchange: string,
  routingKey: string,
  confirm: boolean,
  delay: number | undefined,
): PutOptions {
  return delay ? { exchange, routingKey, confirm, delay } : { exchange, routingKey, confirm }
}

/** What a settlement that had nothing to wait for returns. */
const SETTLED: Promise<void> = Promise.resolve()

function unknownTag(deliveryTag: number): ChannelError {
  return new ChannelError(`PRECONDITION_FAILED - unknown delivery tag ${deliveryTag}`, { replyCode: 406 })
}

function notFound(what: string): ChannelError {
  return new ChannelError(`NOT_FOUND - no ${what}`, { replyCode: 404, replyText: 'NOT_FOUND' })
}
