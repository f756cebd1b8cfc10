/**
 * The shapes of the process mailbox (Kombu's pidbox): the request and reply bodies as Python
 * Kombu puts them on the wire, the handlers a node runs, and the options of a Mailbox.
 */
import type { ExchangeOptions } from '../exchange.js'
import type { Message } from '../message.js'
import type { LamportClock } from './clock.js'
import type { PidboxMatcher } from './matcher.js'

/** Where a node sends its reply: the client's reply exchange and routing key (its oid). */
export interface ReplyTo {
  exchange: string
  routing_key: string
}

/**
 * A request body as Kombu 5.2 writes it. `ticket` and `reply_to` are there only when the sender
 * waits for replies. `destination` wins over `pattern`; with neither, every node runs it.
 */
export interface PidboxRequest {
  method: string
  arguments: Record<string, unknown>
  destination: string[] | null
  pattern: string | null
  matcher: string | null
  ticket?: string
  reply_to?: ReplyTo
}

/** One reply: `{ <node name>: <handler result> }`. */
export type NodeReply<T = unknown> = Record<string, T>

/** What a handler knows about the request it runs. */
export interface HandlerContext<S = unknown> {
  /** The node's name. */
  readonly hostname: string
  /** The command being run. */
  readonly method: string
  /** The request body as received. */
  readonly request: PidboxRequest
  /** The message that carried it. */
  readonly message: Message<PidboxRequest> | undefined
  /** Whatever the node was created with (Kombu's `state`). */
  readonly state: S
}

/**
 * A command handler: receives the request's `arguments` and returns the reply value (or a
 * promise of it). A thrown error becomes `{ error: "<Python-style repr>" }`; returning
 * {@link NO_REPLY} sends nothing, as Celery's `shutdown` does.
 */
export type PidboxHandler<S = unknown> = (args: Record<string, unknown>, ctx: HandlerContext<S>) => unknown

/** Handlers by command name. */
export type PidboxHandlers<S = unknown> = Readonly<Record<string, PidboxHandler<S>>>

/** Returned by a handler that must not reply (Celery's `shutdown` raises before replying). */
export const NO_REPLY: unique symbol = Symbol('pidbox.noReply')

/** Options of a {@link Mailbox}. Durations are milliseconds. */
export interface MailboxOptions {
  /** Name prefix: exchanges `<namespace>.pidbox` and `reply.<namespace>.pidbox`. Default `celery`. */
  namespace?: string
  /** Type of the request exchange: `fanout` (Celery) or `direct` (Kombu's default). Default `fanout`. */
  type?: 'direct' | 'fanout'
  /** Options of the request exchange; default non-durable, as Kombu declares it. */
  exchangeOptions?: Omit<ExchangeOptions, 'type'>
  /** How long a request waits in a node's queue (`x-message-ttl`). */
  queueTtl?: number
  /** How long an unused node queue lives (`x-expires`). */
  queueExpires?: number
  /** How long a reply waits in a client's reply queue (`x-message-ttl`). */
  replyQueueTtl?: number
  /** How long an unused reply queue lives (`x-expires`). Default 10000, as Kombu. */
  replyQueueExpires?: number
  /** Content types (or serializer names) accepted in requests and replies. Default `['json']`. */
  accept?: Iterable<string>
  /** Serializer of requests and replies. Default `json`. */
  serializer?: string
  /** The Lamport clock to move (share one per process). Default: a new clock. */
  clock?: LamportClock
}

/** How a request picks its nodes. */
export interface MailboxAddressing {
  /** Node names that must run it; the others ignore it. */
  destination?: readonly string[] | null
  /** With `matcher`: the node names that run it (used when there is no destination). */
  pattern?: string | null
  matcher?: PidboxMatcher | null
}

/** Options of a call that waits for replies. */
export interface MailboxCallOptions extends MailboxAddressing {
  /** How long to wait for replies, in ms. Default 1000. */
  timeout?: number
  /** Stop once this many replies came. Default: the number of destinations, else no limit. */
  limit?: number
  /** Called with each reply as it comes. */
  callback?: (reply: NodeReply) => void
  /** Stops waiting (the replies so far are returned). */
  signal?: AbortSignal
}

/** Options of {@link Mailbox.broadcast}. */
export interface MailboxBroadcastOptions extends MailboxCallOptions {
  /** Arguments of the command. */
  arguments?: Record<string, unknown>
  /** Wait for replies. Default false. */
  reply?: boolean
}
