/**
 * Consumer: consumes from one or more queues and calls its handlers with `(body, message)`, as
 * Kombu's callbacks are called. A body that does not decode is rejected through `onDecodeError`
 * and the consumer goes on; a handler that throws is reported through `onError`. After a
 * reconnection the consumer declares its queues and consumes again by itself.
 */
import type { Connection } from './connection.js'
import { declare } from './declare.js'
import { InvalidOptionError, QError, type SerializationError } from './errors.js'
import { type DecodeOptions, decodeBody, Message } from './message.js'
import { Queue } from './queue.js'
import type { Channel, Delivery } from './types.js'
import { isThenable, uuid } from './util.js'

/** A message handler; may return a promise. */
export type MessageHandler<T = unknown> = (body: T, message: Message<T>) => unknown

/** Options of a {@link Consumer}. */
export interface ConsumerOptions<T = unknown> {
  /** The queues to consume from (a name means a plain durable queue of that name). */
  queues: Queue | string | ReadonlyArray<Queue | string>
  /** Called for every message with the decoded body and the message. */
  onMessage?: MessageHandler<T>
  /** More handlers, called in order after `onMessage` (Kombu's `callbacks`). */
  callbacks?: ReadonlyArray<MessageHandler<T>>
  /** Allowed serializers or content types; default: every registered serializer. */
  accept?: Iterable<string>
  /** Messages delivered but not yet acknowledged, at most; 0 = no limit. */
  prefetchCount?: number
  /** Messages need no acknowledgement (and are lost if this process dies). Default false. */
  noAck?: boolean
  /** Consumer tag prefix. */
  tag?: string
  /** Declare the queues (and their exchanges and bindings) before consuming; default true. */
  autoDeclare?: boolean
  /** A body that does not decode. Default: log it and reject the message (no requeue). */
  onDecodeError?: (message: Message<Buffer>, error: SerializationError) => unknown
  /** A handler threw. Default: log it and reject the message if it is not settled yet. */
  onError?: (error: unknown, message: Message<T>) => unknown
}

/** Consumes messages from queues. */
export class Consumer<T = unknown> implements AsyncDisposable {
  readonly queues: readonly Queue[]
  private readonly handlers: ReadonlyArray<MessageHandler<T>>
  private readonly decoding: DecodeOptions
  private channel: Channel | undefined
  private tags: string[] = []
  private prefetchCount: number
  private consuming = false
  private closing: Promise<void> | undefined
  private readonly inflight = new Set<Promise<unknown>>()
  private readonly untrack: () => void
  private readonly offConnected: () => void

  constructor(
    readonly connection: Connection,
    private readonly options: ConsumerOptions<T>,
  ) {
    const list = Array.isArray(options.queues) ? options.queues : [options.queues as Queue | string]
    if (list.length === 0) throw new InvalidOptionError('Consumer needs at least one queue')
    this.queues = list.map((q) => (typeof q === 'string' ? new Queue(q) : q))
    this.handlers = [...(options.onMessage ? [options.onMessage] : []), ...(options.callbacks ?? [])]
    this.decoding = {
      serializers: connection.serializers,
      compressors: connection.compressors,
      accept: options.accept ? connection.serializers.resolveAccept(options.accept) : undefined,
    }
    this.prefetchCount = options.prefetchCount ?? 0
    if (!Number.isInteger(this.prefetchCount) || this.prefetchCount < 0) {
      throw new InvalidOptionError(`prefetchCount must be an integer >= 0, got ${options.prefetchCount}`)
    }
    this.untrack = connection.track(this)
    // After a reconnection the old channel is gone: consume again on a new one.
    this.offConnected = connection.on('connected', ({ reconnected }) => {
      if (reconnected && this.consuming && !this.closing) {
        this.channel = undefined
        this.tags = []
        this.start().catch((err) =>
          connection.logger.error('consumer could not resume after reconnecting', err),
        )
      }
    })
  }

  /** Messages being handled right now. */
  get inFlight(): number {
    return this.inflight.size
  }

  /** Declares the queues (unless `autoDeclare: false`) and starts consuming. */
  async consume(): Promise<this> {
    if (this.closing) throw new QError('Consumer is closed')
    this.consuming = true
    await this.start()
    return this
  }

  /** Stops consuming. Messages already delivered stay unacked until handled or closed. */
  async cancel(): Promise<void> {
    this.consuming = false
    const { channel, tags } = this
    this.tags = []
    if (channel?.isOpen) for (const tag of tags) await channel.cancel(tag)
  }

  /** Changes the prefetch window. */
  async qos(options: { prefetchCount: number; global?: boolean }): Promise<void> {
    if (!Number.isInteger(options.prefetchCount) || options.prefetchCount < 0) {
      throw new InvalidOptionError(`prefetchCount must be an integer >= 0, got ${options.prefetchCount}`)
    }
    this.prefetchCount = options.prefetchCount
    await this.channel?.qos(options)
  }

  /** Redelivers every unacknowledged message of this consumer. */
  async recover(requeue = true): Promise<void> {
    await this.channel?.recover(requeue)
  }

  /** Stops at once; messages not yet acknowledged go back to their queues. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown(false)
    return this.closing
  }

  /** Stops consuming, waits for the handlers in flight, then closes. */
  drain(): Promise<void> {
    this.closing ??= this.shutdown(true)
    return this.closing
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.drain()
  }

  private async start(): Promise<void> {
    this.channel ??= await this.connection.channel()
    const channel = this.channel
    // The channel is this consumer's alone: the window spans all its queues (AMQP global QoS).
    if (this.prefetchCount) await channel.qos({ prefetchCount: this.prefetchCount, global: true })
    const names: string[] = []
    for (const q of this.queues)
      names.push(this.options.autoDeclare === false ? q.name : await declare(channel, q))
    const prefix = this.options.tag ?? `q-${uuid()}`
    for (const [i, name] of names.entries()) {
      const noAck = this.options.noAck ?? this.queues[i]!.noAck
      const tag = await channel.consume(name, (d) => this.receive(channel, d, noAck), {
        noAck,
        consumerTag: `${prefix}.${i}`,
      })
      this.tags.push(tag)
    }
  }

  private receive(channel: Channel, delivery: Delivery, noAck: boolean): void {
    let body: T
    try {
      body = decodeBody(delivery, this.decoding) as T
    } catch (err) {
      this.track(
        this.decodeFailed(
          new Message<Buffer>(channel, delivery, delivery.body, noAck),
          err as SerializationError,
        ),
      )
      return
    }
    const message = new Message<T>(channel, delivery, body, noAck)
    for (const handler of this.handlers) {
      try {
        const r = handler(body, message)
        if (isThenable(r)) this.track(r.then(undefined, (err) => this.failed(err, message)))
      } catch (err) {
        this.track(this.failed(err, message))
      }
    }
  }

  private async decodeFailed(message: Message<Buffer>, error: SerializationError): Promise<void> {
    if (this.options.onDecodeError) return void (await this.options.onDecodeError(message, error))
    this.connection.logger.error(
      `cannot decode message ${message.deliveryTag} (content type ${message.contentType}); rejecting it: ${error.message}`,
    )
    if (!message.acknowledged) await message.reject()
  }

  private async failed(error: unknown, message: Message<T>): Promise<void> {
    if (this.options.onError) return void (await this.options.onError(error, message))
    this.connection.logger.error(`handler failed for message ${message.deliveryTag}; rejecting it`, error)
    if (!message.acknowledged) await message.reject()
  }

  private track(p: Promise<unknown>): void {
    const guarded = p.catch((err) => this.connection.logger.error('error in consumer error handling', err))
    this.inflight.add(guarded)
    void guarded.finally(() => this.inflight.delete(guarded))
  }

  private async shutdown(graceful: boolean): Promise<void> {
    this.offConnected()
    await this.cancel().catch(() => {})
    if (graceful) while (this.inflight.size) await Promise.all([...this.inflight])
    await this.channel?.close()
    this.untrack()
  }
}
