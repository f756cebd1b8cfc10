/**
 * Queue: an immutable description of a queue and its bindings. Option names follow Kombu's,
 * in camelCase; durations are milliseconds (Kombu's are seconds).
 */
import { InvalidOptionError } from './errors.js'
import { Binding, Exchange } from './exchange.js'

/** Options of a {@link Queue}. */
export interface QueueOptions {
  /** Exchange to bind to with `routingKey`; omit for the default exchange (route by queue name). */
  exchange?: Exchange | string
  routingKey?: string
  /** Extra bindings, for a queue bound to several exchanges or keys. */
  bindings?: readonly Binding[]
  /** Survives a broker restart; default true. */
  durable?: boolean
  /** Only this connection may use it, and it goes with the connection; default false. */
  exclusive?: boolean
  /** Deleted when its last consumer goes; default false. */
  autoDelete?: boolean
  /** Enables priorities 0..maxPriority (`x-max-priority`). */
  maxPriority?: number
  /** Messages expire after this many ms in the queue (`x-message-ttl`). */
  messageTtl?: number
  /** The queue is deleted after this many ms unused (`x-expires`). */
  expires?: number
  /** Maximum number of ready messages (`x-max-length`). */
  maxLength?: number
  /** Maximum total body bytes of ready messages (`x-max-length-bytes`). */
  maxLengthBytes?: number
  /** Where rejected and expired messages go (`x-dead-letter-exchange`). */
  deadLetterExchange?: string
  /** Routing key for dead-lettered messages (`x-dead-letter-routing-key`). */
  deadLetterRoutingKey?: string
  /** Further declare arguments, merged over the ones above. */
  arguments?: Readonly<Record<string, unknown>>
  /** Consumers of this queue do not acknowledge (Kombu's `no_ack`). */
  noAck?: boolean
}

function checkMs(name: string, value: number | undefined): void {
  if (value === undefined) return
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidOptionError(
      `Queue option '${name}' must be a non-negative number of milliseconds, got ${value}`,
    )
  }
}

/** A queue and how it is bound. */
export class Queue {
  readonly name: string
  /** The exchange of the primary binding; the default exchange when none was given. */
  readonly exchange: Exchange
  readonly routingKey: string
  readonly durable: boolean
  readonly exclusive: boolean
  readonly autoDelete: boolean
  readonly noAck: boolean
  readonly maxPriority: number | undefined
  readonly messageTtl: number | undefined
  readonly expires: number | undefined
  /** Every binding to declare: the primary one (unless on the default exchange) and the extra ones. */
  readonly bindings: readonly Binding[]
  /** The declare arguments, `x-*` keys derived from the options plus `arguments`. */
  readonly arguments: Readonly<Record<string, unknown>>
  private readonly opts: QueueOptions

  constructor(name = '', options: QueueOptions = {}) {
    if (typeof name !== 'string')
      throw new InvalidOptionError(`Queue name must be a string, got ${typeof name}`)
    const { maxPriority } = options
    if (
      maxPriority !== undefined &&
      !(Number.isInteger(maxPriority) && maxPriority >= 0 && maxPriority <= 255)
    ) {
      throw new InvalidOptionError(
        `Queue option 'maxPriority' must be an integer in 0..255, got ${maxPriority}`,
      )
    }
    checkMs('messageTtl', options.messageTtl)
    checkMs('expires', options.expires)
    this.name = name
    this.exchange =
      typeof options.exchange === 'string'
        ? new Exchange(options.exchange)
        : (options.exchange ?? new Exchange(''))
    // As Kombu: no routing key means the empty key, even on a named exchange.
    this.routingKey = options.routingKey ?? ''
    this.durable = options.durable ?? true
    this.exclusive = options.exclusive ?? false
    this.autoDelete = options.autoDelete ?? false
    this.noAck = options.noAck ?? false
    this.maxPriority = maxPriority
    this.messageTtl = options.messageTtl
    this.expires = options.expires
    const primary = this.exchange.name ? [new Binding(this.exchange, this.routingKey)] : []
    this.bindings = Object.freeze([...primary, ...(options.bindings ?? [])])
    this.arguments = Object.freeze(queueArguments(options))
    // Own copies, so that with() and named() do not see later changes to the caller's objects.
    const extra = this.bindings.slice(primary.length)
    this.opts = { ...options, arguments: Object.freeze({ ...options.arguments }), bindings: extra }
    Object.freeze(this)
  }

  /** A copy with some options changed. */
  with(options: QueueOptions): Queue {
    return new Queue(this.name, { ...this.opts, ...options })
  }

  /** A copy under another name (for server-named queues). */
  named(name: string): Queue {
    return new Queue(name, this.opts)
  }

  toString(): string {
    return `<Queue ${this.name} -> ${this.exchange.name || "''"}/${this.routingKey}>`
  }
}

/** Kombu's mapping of queue options to AMQP `x-*` arguments. */
function queueArguments(o: QueueOptions): Record<string, unknown> {
  const args: Record<string, unknown> = {}
  if (o.maxPriority !== undefined) args['x-max-priority'] = o.maxPriority
  if (o.messageTtl !== undefined) args['x-message-ttl'] = Math.round(o.messageTtl)
  if (o.expires !== undefined) args['x-expires'] = Math.round(o.expires)
  if (o.maxLength !== undefined) args['x-max-length'] = o.maxLength
  if (o.maxLengthBytes !== undefined) args['x-max-length-bytes'] = o.maxLengthBytes
  if (o.deadLetterExchange !== undefined) args['x-dead-letter-exchange'] = o.deadLetterExchange
  if (o.deadLetterRoutingKey !== undefined) args['x-dead-letter-routing-key'] = o.deadLetterRoutingKey
  return { ...args, ...o.arguments }
}
