/**
 * Publishing on one amqplib confirm channel: broker confirms, returned `mandatory` messages, and
 * amqplib's backpressure. Nothing here waits for the broker unless asked to: a publish without
 * `confirm` resolves as soon as amqplib has taken the frame, so there is no round trip per message.
 */

import type { OutgoingMessage } from '@q/kombu'
import { UnroutableError } from '@q/kombu'
import type { ChannelPublishOptions } from '@q/kombu/internal'
import type { Message as AmqplibMessage, ConfirmChannel, Options } from 'amqplib'
import { codecInstalled } from './amqplib.js'
import { MessageNackedError } from './errors.js'
import { Fifo } from './fifo.js'
import { toWireTable } from './headers.js'
import { PyTable } from './py-table.js'

/**
 * The channel closed before the message was handed to it: nothing was sent, so it can go on
 * another. For a batch, the first `sent` messages went out and the others did not.
 */
export class NotSentError extends Error {
  constructor(
    cause?: unknown,
    readonly sent = 0,
  ) {
    super('the channel closed before the message was sent', { cause })
  }
}

/** A `publishMany` without confirms, written as far as `next`. */
interface Batch {
  readonly messages: readonly OutgoingMessage[]
  readonly exchange: string
  readonly routingKey: string
  next: number
  readonly resolve: () => void
  readonly reject: (err: unknown) => void
}

/** amqplib's refusal to write on a closed or closing channel. */
function isClosedChannel(err: unknown): boolean {
  return err instanceof Error && err.name === 'IllegalOperationError'
}

/** A `mandatory` publish waiting for its confirm, in case the broker returns it first. */
interface MandatoryPublish {
  readonly exchange: string
  readonly routingKey: string
  readonly body: Buffer
  returned?: { replyCode: number; replyText: string }
}

/**
 * amqplib publish options (properties and flags) for a message; unknown properties are dropped, as
 * py-amqp does. With our codec in amqplib, the headers go as they are and are typed while amqplib
 * writes them (py-table.ts); without it, as a typed copy for amqplib's own encoder.
 */
export function publishOptions(message: OutgoingMessage, mandatory: boolean): Options.Publish {
  const p = message.properties
  const options: Options.Publish = {
    headers: codecInstalled() ? (new PyTable(message.headers) as never) : toWireTable(message.headers),
    mandatory,
  }
  if (message.contentType) options.contentType = message.contentType
  if (message.contentEncoding) options.contentEncoding = message.contentEncoding
  if (p.deliveryMode !== undefined) options.deliveryMode = p.deliveryMode
  if (p.priority !== undefined) options.priority = p.priority
  if (p.correlationId !== undefined) options.correlationId = p.correlationId
  if (p.replyTo !== undefined) options.replyTo = p.replyTo
  if (p.expiration !== undefined) options.expiration = p.expiration
  if (p.messageId !== undefined) options.messageId = p.messageId
  if (p.timestamp !== undefined) options.timestamp = p.timestamp
  if (p.type !== undefined) options.type = p.type
  if (p.userId !== undefined) options.userId = p.userId
  if (p.appId !== undefined) options.appId = p.appId
  return options
}

/** Publishes on one confirm channel. */
export class Publisher {
  /** Set while amqplib's write buffer is over its high-water mark: later publishes wait for it. */
  private draining: Promise<void> | undefined
  private resolveDrain: (() => void) | undefined
  /** Publishes waiting for the buffer to drain, oldest first. */
  private readonly backlog = new Fifo<() => void>()
  /** The rest of the batch that filled the buffer: it goes first at the next drain. */
  private resume: (() => void) | undefined
  private readonly mandatory = new Set<MandatoryPublish>()
  private closed = false

  /**
   * @param mapError turns an amqplib failure into a QError. Called a microtask later, once the
   * connection has had its say: a confirm lost with the connection is a ConnectionError.
   */
  constructor(
    private readonly ch: ConfirmChannel,
    private readonly mapError: (err: unknown) => Error,
  ) {}

  /** Publishes; resolves when amqplib has taken it, or once confirmed with `confirm` or `mandatory`. */
  publish(
    message: OutgoingMessage,
    exchange: string,
    routingKey: string,
    options: ChannelPublishOptions = {},
  ): Promise<void> {
    // Wait behind a full buffer, in call order, so memory stays bounded whatever the caller does.
    // A FIFO rather than a chain on the drain promise: at each drain the waiting publishes go out
    // in order until the buffer is full again, instead of all re-entering and re-queueing.
    if (this.draining) {
      return new Promise<void>((resolve, reject) => {
        this.backlog.push(() => this.publish(message, exchange, routingKey, options).then(resolve, reject))
      })
    }
    if (this.closed) return Promise.reject(new NotSentError())
    const mandatory = options.mandatory === true
    const amqpOptions = publishOptions(message, mandatory)
    if (!options.confirm && !mandatory) {
      try {
        return this.ch.publish(exchange, routingKey, message.body, amqpOptions)
          ? Promise.resolve()
          : this.waitForDrain()
      } catch (err) {
        return Promise.reject(isClosedChannel(err) ? new NotSentError(err) : this.mapError(err))
      }
    }
    // A mandatory message can only be known unroutable once its confirm arrives (RabbitMQ sends
    // basic.return before basic.ack), so mandatory implies waiting for the confirm.
    return new Promise<void>((resolve, reject) => {
      const record: MandatoryPublish | undefined = mandatory
        ? { exchange, routingKey, body: message.body }
        : undefined
      if (record) this.mandatory.add(record)
      const settle = (err: unknown) => {
        if (record) this.mandatory.delete(record)
        if (err) {
          const nacked = err instanceof Error && err.message === 'message nacked'
          if (nacked)
            reject(
              new MessageNackedError(
                `the broker refused (nacked) a message to exchange '${exchange}' with key '${routingKey}'`,
              ),
            )
          else queueMicrotask(() => reject(this.mapError(err)))
        } else if (record?.returned) {
          const { replyCode, replyText } = record.returned
          reject(
            new UnroutableError(
              `${replyText} - message to exchange '${exchange}' with key '${routingKey}' reached no queue (${replyCode})`,
            ),
          )
        } else resolve()
      }
      try {
        if (!this.ch.publish(exchange, routingKey, message.body, amqpOptions, settle))
          void this.waitForDrain()
      } catch (err) {
        if (record) this.mandatory.delete(record)
        reject(isClosedChannel(err) ? new NotSentError(err) : this.mapError(err))
      }
    })
  }

  /**
   * Publishes `messages` in order. Without `confirm` or `mandatory`: one loop of writes that stops
   * only when amqplib's buffer is full, to go on at its drain ahead of anything queued since; it
   * resolves once amqplib has taken them all. A failure other than a closed channel rejects the
   * batch, the messages before the failing one having been sent. With `confirm` or `mandatory`,
   * each message waits for its own confirm, as with `publish`.
   */
  publishMany(
    messages: readonly OutgoingMessage[],
    exchange: string,
    routingKey: string,
    options: ChannelPublishOptions = {},
  ): Promise<void> {
    if (options.confirm || options.mandatory === true)
      return this.publishEach(messages, exchange, routingKey, options)
    return new Promise<void>((resolve, reject) => {
      const batch: Batch = { messages, exchange, routingKey, next: 0, resolve, reject }
      if (this.draining) this.backlog.push(() => this.writeBatch(batch))
      else this.writeBatch(batch)
    })
  }

  private writeBatch(batch: Batch): void {
    const { messages, exchange, routingKey } = batch
    if (this.closed) {
      batch.reject(new NotSentError(undefined, batch.next))
      return
    }
    while (batch.next < messages.length) {
      const message = messages[batch.next]!
      let written: boolean
      try {
        written = this.ch.publish(exchange, routingKey, message.body, publishOptions(message, false))
      } catch (err) {
        batch.reject(isClosedChannel(err) ? new NotSentError(err, batch.next) : this.mapError(err))
        return
      }
      batch.next++
      if (!written) {
        void this.waitForDrain()
        this.resume = () => this.writeBatch(batch)
        return
      }
    }
    batch.resolve()
  }

  /** publishMany with confirms: every message settles; a channel that closed leaves the rest unsent. */
  private async publishEach(
    messages: readonly OutgoingMessage[],
    exchange: string,
    routingKey: string,
    options: ChannelPublishOptions,
  ): Promise<void> {
    const results = await Promise.allSettled(
      messages.map((m) => this.publish(m, exchange, routingKey, options)),
    )
    const failed = results.findIndex((r) => r.status === 'rejected')
    if (failed < 0) return
    // Once the channel is closed, every later publish is refused: those can go on another channel.
    const notSent = (r: PromiseSettledResult<void>) =>
      r.status === 'rejected' && r.reason instanceof NotSentError
    if (results.slice(failed).every(notSent)) throw new NotSentError(undefined, failed)
    const firstError = results.find((r) => r.status === 'rejected' && !(r.reason instanceof NotSentError))
    if (firstError) throw (firstError as PromiseRejectedResult).reason
    // Not a NotSentError any more: some of the messages after it went out, so none may be resent.
    throw this.mapError((results[failed] as PromiseRejectedResult).reason)
  }

  /**
   * A basic.return: marks the oldest outstanding mandatory publish with the same exchange, key and
   * body. Returns and confirms may arrive in any order across messages, so position alone would not do.
   */
  onReturn(message: AmqplibMessage): void {
    const f = message.fields as {
      exchange: string
      routingKey: string
      replyCode?: number
      replyText?: string
    }
    for (const record of this.mandatory) {
      if (
        !record.returned &&
        record.exchange === f.exchange &&
        record.routingKey === f.routingKey &&
        record.body.equals(message.content)
      ) {
        record.returned = { replyCode: f.replyCode ?? 312, replyText: f.replyText ?? 'NO_ROUTE' }
        return
      }
    }
  }

  /** amqplib's buffer went below its high-water mark. */
  onDrain(): void {
    const resolve = this.resolveDrain
    this.draining = undefined
    this.resolveDrain = undefined
    resolve?.()
    const resume = this.resume
    this.resume = undefined
    resume?.()
    while (this.backlog.length > 0 && !this.draining) this.backlog.shift()!()
  }

  /** The channel closed: whoever waits for a drain goes on (and finds the channel closed). */
  onClose(): void {
    this.closed = true
    this.onDrain()
  }

  private waitForDrain(): Promise<void> {
    this.draining ??= new Promise<void>((resolve) => {
      this.resolveDrain = resolve
    })
    return this.draining
  }
}
