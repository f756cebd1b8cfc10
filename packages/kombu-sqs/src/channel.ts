/**
 * SqsChannel: the VirtualChannel with what SQS changes. SQS routes nothing by itself: like Kombu,
 * this transport keeps exchanges and bindings in memory, per connection, and routes direct
 * exchanges (and the default exchange) to queues. Fanout, topic and headers exchanges are refused
 * with a NotSupportedError when declared (a publish to an undeclared exchange is direct, as in
 * Kombu), rather than emulated in one process.
 */
import { type Exchange, type ExchangeType, NotSupportedError } from '@q/kombu'
import {
  type ConsumeOptions,
  type DeliveryHandler,
  uuid,
  VirtualChannel,
  type VirtualChannelOptions,
} from '@q/kombu/internal'
import type { Poller } from './poller.js'
import type { SqsPrimitives } from './primitives.js'

/** Why an exchange type cannot be used on SQS. */
export function exchangeRefusal(type: ExchangeType, exchange: string): NotSupportedError {
  const what =
    type === 'fanout'
      ? 'a fanout exchange needs a broadcast SQS does not have'
      : `${type} exchanges need routing SQS does not do`
  return new NotSupportedError(
    `SQS has no fanout: exchange '${exchange}' is ${type}, and ${what}; this transport routes direct exchanges only (capabilities.exchangeTypes). Carry broadcasts (Celery events, remote control) over a second transport such as redis:// or amqp://`,
  )
}

/** The pieces of a channel besides VirtualChannel's own. */
export interface SqsChannelParts {
  readonly primitives: SqsPrimitives
  readonly poller: Poller
}

/** A VirtualChannel on SQS. */
export class SqsChannel extends VirtualChannel {
  /** Consumer tag -> queue, so the poller can tell what is still consumed. */
  private readonly consumed = new Map<string, string>()
  private readonly exchangeTable: Map<string, Exchange>
  private shutdown: Promise<void> | undefined

  constructor(
    options: VirtualChannelOptions,
    private readonly parts: SqsChannelParts,
  ) {
    super(options)
    this.exchangeTable = options.exchanges
  }

  /** Whether a consumer of this channel consumes `queue`. */
  consumes(queue: string): boolean {
    for (const q of this.consumed.values()) if (q === queue) return true
    return false
  }

  override async declareExchange(exchange: Exchange, options: { passive?: boolean } = {}): Promise<void> {
    const existing = this.exchangeTable.get(exchange.name)
    // A type clash is reported as AMQP reports it (PRECONDITION_FAILED), whatever the types.
    const clash = existing !== undefined && existing.type !== exchange.type
    if (!options.passive && !clash && !this.capabilities.exchangeTypes.includes(exchange.type)) {
      throw exchangeRefusal(exchange.type, exchange.name)
    }
    return super.declareExchange(exchange, options)
  }

  override async consume(
    queue: string,
    onDelivery: DeliveryHandler,
    options: ConsumeOptions = {},
  ): Promise<string> {
    // Registered first: a poll answering right after the consumer starts must find it.
    const tag = options.consumerTag ?? `ctag-${uuid()}`
    const known = this.consumed.has(tag)
    if (!known) this.consumed.set(tag, queue)
    try {
      return await super.consume(queue, onDelivery, { ...options, consumerTag: tag })
    } catch (err) {
      if (!known) this.consumed.delete(tag)
      throw err
    }
  }

  override async cancel(consumerTag: string): Promise<void> {
    await super.cancel(consumerTag)
    const queue = this.consumed.get(consumerTag)
    this.consumed.delete(consumerTag)
    if (queue !== undefined) this.parts.poller.drop(queue)
  }

  /**
   * Closes: stops polling, requeues what the channel holds (oldest first) and sends every pending
   * ack. When it holds messages, it first lets its polls in flight answer (up to
   * `waitTimeSeconds`): a poll answering after the requeue would take those messages again.
   */
  override close(): Promise<void> {
    this.shutdown ??= (async () => {
      this.consumed.clear()
      this.parts.poller.stop()
      if (this.parts.primitives.holding()) await this.parts.poller.idle()
      try {
        await super.close()
      } finally {
        await this.parts.primitives.flush()
      }
    })()
    return this.shutdown
  }
}
