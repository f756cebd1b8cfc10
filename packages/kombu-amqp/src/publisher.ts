/**
 * Publishing on one amqplib confirm channel: broker confirms, returned `mandatory` messages, and
 * amqplib's backpressure. Nothing here waits for the broker unless asked to: a publish without
 * `confirm` resolves as soon as amqplib has taken the frame, so there is no round trip per message.
 */

import type { OutgoingMessage } from '@q/kombu'
import { UnroutableError } from '@q/kombu'
import type { ChannelPublishOptions } from '@q/kombu/internal'
import type { Message as AmqplibMessage, ConfirmChannel, Options } from 'amqplib'
import { MessageNackedError } from './errors.js'
import { toWireTable } from './headers.js'

/** The channel closed before the message was handed to it: nothing was sent, so it can go on another. */
export class NotSentError extends Error {
  constructor(cause?: unknown) {
    super('the channel closed before the message was sent', { cause })
  }
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

/** amqplib publish options (properties and flags) for a message; unknown properties are dropped, as py-amqp does. */
export function publishOptions(message: OutgoingMessage, mandatory: boolean): Options.Publish {
  const p = message.properties
  const options: Options.Publish = {
    headers: toWireTable(message.headers),
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
  private readonly backlog: Array<() => void> = []
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
    while (this.backlog.length && !this.draining) this.backlog.shift()!()
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
