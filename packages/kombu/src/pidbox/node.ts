/**
 * A mailbox node: one process's end of the pidbox. It consumes its own queue
 * (`<hostname>.<namespace>.pidbox`, bound to the request exchange) without acks, runs the
 * requests meant for it (by destination, pattern or broadcast) and, when the sender waits, sends
 * `{ <hostname>: <result> }` back to the sender's reply queue with the request's ticket.
 */
import { Consumer } from '../consumer.js'
import type { Message } from '../message.js'
import type { Mailbox } from './mailbox.js'
import { matchHostname } from './matcher.js'
import { type HandlerContext, NO_REPLY, type PidboxHandlers, type PidboxRequest } from './types.js'

/** A process's mailbox: listens for requests and runs its handlers. */
export class MailboxNode<S = unknown> implements AsyncDisposable {
  private consumer: Consumer<PidboxRequest> | undefined
  private closing: Promise<void> | undefined

  constructor(
    readonly mailbox: Mailbox,
    readonly hostname: string,
    readonly handlers: PidboxHandlers<S>,
    readonly state: S,
  ) {}

  /** True between `listen()` and `close()`. */
  get listening(): boolean {
    return this.consumer !== undefined && !this.closing
  }

  /**
   * Declares the node's queue and starts consuming it. Warns when another consumer already
   * reads it: two processes with one node name would each get half of the requests.
   */
  async listen(): Promise<this> {
    if (this.consumer) return this
    const { connection } = this.mailbox
    const queue = this.mailbox.getQueue(this.hostname)
    const channel = await connection.defaultChannel()
    const { consumerCount } = await channel.declareQueue(queue)
    if (consumerCount > 0) {
      connection.logger.warn(
        `A node named ${this.hostname} is already using this process mailbox! Give each node a unique name.`,
      )
    }
    this.consumer = new Consumer<PidboxRequest>(connection, {
      queues: [queue],
      noAck: true,
      accept: this.mailbox.accept,
      tag: `${this.hostname}.pidbox`,
      onMessage: (body, message) => this.handleMessage(body, message),
      onDecodeError: (_message, error) => connection.logger.error(`Cannot decode message: ${error.message}`),
      onError: (error) => connection.logger.error('pidbox command error', error),
    })
    await this.consumer.consume()
    return this
  }

  /** Whether a request is meant for this node: by destination, else pattern, else everyone. */
  accepts(request: Pick<PidboxRequest, 'destination' | 'pattern' | 'matcher'>): boolean {
    const { destination, pattern, matcher } = request
    if (destination && destination.length > 0) return destination.includes(this.hostname)
    if (pattern && matcher) return matchHostname(this.hostname, pattern, matcher)
    return true
  }

  /**
   * Handles one request: moves the clock past the sender's, and runs it when meant for this
   * node. Resolves with the handler's reply (undefined when not for us).
   */
  async handleMessage(body: PidboxRequest, message?: Message<PidboxRequest>): Promise<unknown> {
    if (!body || typeof body !== 'object' || typeof body.method !== 'string') {
      this.mailbox.connection.logger.warn('pidbox: ignoring a request without a method')
      return undefined
    }
    this.mailbox.clock.adjust(Number(message?.headers.clock ?? 0) || 0)
    let forUs: boolean
    try {
      forUs = this.accepts(body)
    } catch (err) {
      this.mailbox.connection.logger.error(`pidbox: cannot match ${this.hostname}: ${(err as Error).message}`)
      return undefined
    }
    return forUs ? this.dispatch(body, message) : undefined
  }

  /** Runs a request's handler and replies when the sender waits for it. */
  async dispatch(request: PidboxRequest, message?: Message<PidboxRequest>): Promise<unknown> {
    const { method, reply_to: replyTo, ticket } = request
    const ctx: HandlerContext<S> = { hostname: this.hostname, method, request, message, state: this.state }
    let reply: unknown
    try {
      const handler = Object.hasOwn(this.handlers, method) ? this.handlers[method] : undefined
      if (!handler) throw new KeyErrorRepr(method)
      reply = await handler(request.arguments ?? {}, ctx)
    } catch (err) {
      this.mailbox.connection.logger.error(`pidbox command error: ${errorRepr(err)}`)
      reply = { error: errorRepr(err) }
    }
    if (reply === NO_REPLY) return undefined
    if (replyTo && typeof replyTo === 'object') {
      // Python replies null for handlers that return None; JSON has no undefined.
      await this.mailbox.reply({ [this.hostname]: reply ?? null }, replyTo, ticket).catch((err) => {
        this.mailbox.connection.logger.warn(`pidbox: could not reply to ${method}: ${(err as Error).message}`)
      })
    }
    return reply
  }

  /** Stops consuming; requests in flight still reply. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.consumer?.close()
    })()
    return this.closing
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

/** An unknown command, reported as Python's `KeyError('<name>')`. */
class KeyErrorRepr extends Error {
  constructor(readonly key: string) {
    super(key)
    this.name = 'KeyError'
  }
}

/** A Python string literal, as `repr()` writes it. */
function pyStr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'"
  const body = s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')
  return q + (q === "'" ? body.replace(/'/g, "\\'") : body) + q
}

/** `repr(exc)` as Python writes it: `ValueError('message')`. */
export function errorRepr(err: unknown): string {
  if (err instanceof KeyErrorRepr) return `KeyError(${pyStr(err.key)})`
  if (err instanceof Error) return `${err.name || 'Error'}(${pyStr(err.message)})`
  return `Exception(${pyStr(String(err))})`
}
