/**
 * Exchange and Binding: immutable values. Declaring one is an operation on a channel
 * (`channel.declareExchange`), never a method that mutates the entity (unlike Kombu's
 * `MaybeChannelBound`).
 */
import { InvalidOptionError } from './errors.js'
import type { ExchangeType } from './types.js'

const EXCHANGE_TYPES: readonly ExchangeType[] = ['direct', 'topic', 'fanout', 'headers']

/** Options of an {@link Exchange}. */
export interface ExchangeOptions {
  /** Routing algorithm; default `direct`. */
  type?: ExchangeType
  /** Survives a broker restart; default true. */
  durable?: boolean
  /** Deleted when its last binding goes; default false. */
  autoDelete?: boolean
  /** Extra declare arguments (AMQP `arguments`). */
  arguments?: Readonly<Record<string, unknown>>
  /** Default delivery mode for messages published to it through a Producer. */
  deliveryMode?: 1 | 2
}

/** A named router of messages to queues. `new Exchange('')` is the default exchange. */
export class Exchange {
  readonly name: string
  readonly type: ExchangeType
  readonly durable: boolean
  readonly autoDelete: boolean
  readonly arguments: Readonly<Record<string, unknown>>
  readonly deliveryMode: 1 | 2 | undefined

  constructor(name = '', options: ExchangeOptions = {}) {
    if (typeof name !== 'string')
      throw new InvalidOptionError(`Exchange name must be a string, got ${typeof name}`)
    const type = options.type ?? 'direct'
    if (!EXCHANGE_TYPES.includes(type)) {
      throw new InvalidOptionError(
        `Exchange type '${String(type)}' is not one of ${EXCHANGE_TYPES.join(', ')}`,
      )
    }
    this.name = name
    this.type = type
    this.durable = options.durable ?? true
    this.autoDelete = options.autoDelete ?? false
    this.arguments = Object.freeze({ ...options.arguments })
    this.deliveryMode = options.deliveryMode
    Object.freeze(this)
  }

  /** A copy with some options changed. */
  with(options: ExchangeOptions): Exchange {
    return new Exchange(this.name, { ...this.options(), ...options })
  }

  /** A binding from this exchange with `routingKey`. */
  binding(routingKey = '', args?: Readonly<Record<string, unknown>>): Binding {
    return new Binding(this, routingKey, args)
  }

  /** The options that rebuild this exchange. */
  options(): ExchangeOptions {
    return {
      type: this.type,
      durable: this.durable,
      autoDelete: this.autoDelete,
      arguments: this.arguments,
      ...(this.deliveryMode ? { deliveryMode: this.deliveryMode } : {}),
    }
  }

  toString(): string {
    return `<Exchange ${this.name || "''"}(${this.type})>`
  }
}

/** A binding of a queue to an exchange with a routing key (and headers-exchange arguments). */
export class Binding {
  readonly exchange: Exchange
  readonly routingKey: string
  readonly arguments: Readonly<Record<string, unknown>>

  constructor(exchange: Exchange | string, routingKey = '', args?: Readonly<Record<string, unknown>>) {
    this.exchange = typeof exchange === 'string' ? new Exchange(exchange) : exchange
    this.routingKey = routingKey
    this.arguments = Object.freeze({ ...args })
    Object.freeze(this)
  }

  toString(): string {
    return `<Binding ${this.exchange.name}->${this.routingKey}>`
  }
}
