/**
 * Mailbox: Kombu's process mailbox ("pidbox"), the remote-control channel of Celery workers.
 * Requests go to the `<namespace>.pidbox` exchange (fanout for Celery), which every node's queue
 * is bound to; a sender that wants answers names its reply queue, bound to the direct exchange
 * `reply.<namespace>.pidbox` by a per-call id, and collects the replies that carry its ticket.
 *
 * Exchange types are given explicitly every time an exchange is declared: Redis does not store
 * them, and an exchange this process never declared would be routed as direct.
 */
import type { Connection } from '../connection.js'
import { InvalidOptionError } from '../errors.js'
import { Exchange } from '../exchange.js'
import { Producer } from '../producer.js'
import { Queue } from '../queue.js'
import { uuid } from '../util.js'
import { LamportClock } from './clock.js'
import { collectReplies } from './collector.js'
import { MailboxNode } from './node.js'
import type {
  MailboxAddressing,
  MailboxBroadcastOptions,
  MailboxCallOptions,
  MailboxOptions,
  NodeReply,
  PidboxHandlers,
  PidboxRequest,
  ReplyTo,
} from './types.js'

/** Kombu's default wait for replies. */
const DEFAULT_TIMEOUT = 1000

/** A process mailbox on one connection. */
export class Mailbox {
  readonly namespace: string
  readonly type: 'direct' | 'fanout'
  /** Where requests go: `<namespace>.pidbox`. */
  readonly exchange: Exchange
  /** Where replies go: `reply.<namespace>.pidbox`, always direct. */
  readonly replyExchange: Exchange
  readonly clock: LamportClock
  readonly accept: readonly string[]
  readonly serializer: string
  private readonly options: MailboxOptions
  private readonly producer: Producer

  constructor(
    readonly connection: Connection,
    options: MailboxOptions = {},
  ) {
    this.options = options
    this.namespace = options.namespace ?? 'celery'
    this.type = options.type ?? 'fanout'
    if (this.type !== 'fanout' && this.type !== 'direct') {
      throw new InvalidOptionError(`Mailbox type must be 'fanout' or 'direct', got '${String(this.type)}'`)
    }
    this.exchange = new Exchange(`${this.namespace}.pidbox`, {
      durable: false,
      ...options.exchangeOptions,
      type: this.type,
    })
    this.replyExchange = new Exchange(`reply.${this.namespace}.pidbox`, {
      type: 'direct',
      durable: false,
      deliveryMode: 1,
    })
    this.clock = options.clock ?? new LamportClock()
    this.accept = [...(options.accept ?? ['json'])]
    this.serializer = options.serializer ?? 'json'
    this.producer = new Producer(connection, { serializer: this.serializer, autoDeclare: false })
  }

  /** The queue of the node `hostname`: `<hostname>.<namespace>.pidbox`, transient, consumed without acks. */
  getQueue(hostname: string): Queue {
    return new Queue(`${hostname}.${this.namespace}.pidbox`, {
      exchange: this.exchange,
      routingKey: '',
      durable: false,
      autoDelete: true,
      noAck: true,
      ...(this.options.queueExpires !== undefined ? { expires: this.options.queueExpires } : {}),
      ...(this.options.queueTtl !== undefined ? { messageTtl: this.options.queueTtl } : {}),
    })
  }

  /** The reply queue of the id `oid`: `<oid>.reply.<namespace>.pidbox`, bound by `oid`. */
  getReplyQueue(oid: string): Queue {
    const expires = this.options.replyQueueExpires ?? 10_000
    return new Queue(`${oid}.${this.replyExchange.name}`, {
      exchange: this.replyExchange,
      routingKey: oid,
      durable: false,
      autoDelete: true,
      noAck: true,
      ...(expires ? { expires } : {}),
      ...(this.options.replyQueueTtl !== undefined ? { messageTtl: this.options.replyQueueTtl } : {}),
    })
  }

  /**
   * A node of this mailbox named `hostname`, running `handlers`; call `listen()` on it.
   * `state` is handed to every handler.
   */
  node<S = undefined>(hostname: string, handlers: PidboxHandlers<S>, state?: S): MailboxNode<S> {
    if (!hostname) throw new InvalidOptionError('A mailbox node needs a name, e.g. celery@host')
    return new MailboxNode<S>(this, hostname, handlers, state as S)
  }

  /** Sends a command to `destination` (or every node when null) without waiting for replies. */
  async cast(
    destination: readonly string[] | null | undefined,
    command: string,
    args: Record<string, unknown> = {},
  ): Promise<void> {
    await this.broadcast(command, { arguments: args, destination, reply: false })
  }

  /** Sends a command to every node without waiting (Kombu's `abcast`). */
  async abcast(command: string, args: Record<string, unknown> = {}): Promise<void> {
    await this.broadcast(command, { arguments: args, reply: false })
  }

  /** Sends a command to the `destination` nodes and waits for their replies (up to `timeout`). */
  call(
    destination: readonly string[],
    command: string,
    args: Record<string, unknown> = {},
    options: Omit<MailboxCallOptions, 'destination'> = {},
  ): Promise<NodeReply[]> {
    return this.broadcast(command, { ...options, arguments: args, destination, reply: true })
  }

  /** Sends a command to every node (or those matching `pattern`) and collects the replies. */
  multicall(
    command: string,
    args: Record<string, unknown> = {},
    options: Omit<MailboxCallOptions, 'destination'> = {},
  ): Promise<NodeReply[]> {
    return this.broadcast(command, { ...options, arguments: args, reply: true })
  }

  /**
   * Sends a command (Kombu's `_broadcast`). With `reply`, waits for replies until `limit` came
   * or `timeout` passed, and resolves with them (possibly none); without it, resolves with `[]`
   * once the request is sent.
   */
  async broadcast(command: string, options: MailboxBroadcastOptions = {}): Promise<NodeReply[]> {
    const destination = checkAddressing(options)
    const timeout = options.timeout ?? DEFAULT_TIMEOUT
    const limit = options.limit ?? (destination?.length ? destination.length : undefined)
    const request: PidboxRequest = {
      method: command,
      arguments: options.arguments ?? {},
      destination,
      pattern: options.pattern ?? null,
      // Kombu treats a pattern without matcher as a broadcast; glob is what such a caller means.
      matcher: options.pattern ? (options.matcher ?? 'glob') : null,
    }
    if (!options.reply) {
      await this.publishRequest(request, 0)
      return []
    }
    const oid = uuid()
    const ticket = uuid()
    request.ticket = ticket
    request.reply_to = { exchange: this.replyExchange.name, routing_key: oid }
    return collectReplies(this, {
      queue: this.getReplyQueue(oid),
      ticket,
      timeout,
      limit,
      callback: options.callback,
      signal: options.signal,
      send: () => this.publishRequest(request, timeout),
    })
  }

  /** Publishes a request with its `clock` and `expires` headers (persistent, as Kombu sends it). */
  private async publishRequest(request: PidboxRequest, timeout: number): Promise<void> {
    await this.producer.publish(request, {
      exchange: this.exchange,
      routingKey: '',
      deliveryMode: 2,
      headers: { clock: this.clock.forward(), expires: timeout ? Date.now() / 1000 + timeout / 1000 : 0 },
      retry: true,
    })
  }

  /** Sends a node's reply to a sender's reply queue, with the request's ticket (transient). */
  async reply(body: NodeReply, replyTo: ReplyTo, ticket: string | undefined): Promise<void> {
    // The reply exchange is declared direct here: on Redis an undeclared exchange has no type.
    await this.producer.publish(body, {
      exchange: new Exchange(replyTo.exchange, { type: 'direct', durable: false, deliveryMode: 1 }),
      routingKey: replyTo.routing_key,
      deliveryMode: 1,
      headers: { ticket: ticket ?? null, clock: this.clock.forward() },
      retry: true,
    })
  }
}

function checkAddressing(options: MailboxAddressing): string[] | null {
  const { destination, pattern, matcher } = options
  if (destination !== undefined && destination !== null && !Array.isArray(destination)) {
    throw new InvalidOptionError(`destination must be an array of node names, got ${typeof destination}`)
  }
  if (pattern != null && typeof pattern !== 'string') throw new InvalidOptionError('pattern must be a string')
  if (matcher != null && matcher !== 'glob' && matcher !== 'pcre') {
    throw new InvalidOptionError(`matcher must be 'glob' or 'pcre', got '${String(matcher)}'`)
  }
  return destination ? [...destination] : null
}
