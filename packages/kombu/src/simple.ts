/**
 * SimpleQueue and SimpleBuffer: a queue as a plain put/get API, as Kombu's. `get()` waits for a
 * message (up to `timeout`) and throws QueueEmptyError when none came; the caller acks it.
 */
import type { Connection } from './connection.js'
import { Consumer } from './consumer.js'
import { maybeDeclare } from './declare.js'
import { ClosedError, QueueEmptyError } from './errors.js'
import { Exchange } from './exchange.js'
import { decodeBody, Message } from './message.js'
import { Producer, type PublishOptions } from './producer.js'
import { Queue, type QueueOptions } from './queue.js'
import type { Channel } from './types.js'

/** Options of a {@link SimpleQueue}. */
export interface SimpleQueueOptions {
  /** Messages need no ack (SimpleBuffer's default). */
  noAck?: boolean
  serializer?: string
  compression?: string
  /** Options of the queue (durable, maxPriority, messageTtl...). */
  queueOptions?: QueueOptions
  /** Messages fetched ahead of `get()`; default 1. */
  prefetchCount?: number
  accept?: Iterable<string>
}

type Waiter<T> = { resolve: (m: Message<T>) => void; reject: (err: Error) => void; timer?: NodeJS.Timeout }

/** A named queue with put/get. */
export class SimpleQueue<T = unknown> implements AsyncDisposable {
  readonly queue: Queue
  private readonly producer: Producer
  private readonly buffer: Message<T>[] = []
  private readonly waiters: Waiter<T>[] = []
  private consumer: Consumer<T> | undefined
  private starting: Promise<unknown> | undefined
  private channel: Promise<Channel> | undefined
  private closed = false

  constructor(
    readonly connection: Connection,
    name: string | Queue,
    private readonly options: SimpleQueueOptions = {},
  ) {
    if (typeof name === 'string') {
      // As Kombu: a direct exchange and a queue of the same name, bound by that name.
      const exchange = new Exchange(name, { durable: options.queueOptions?.durable ?? true })
      this.queue = new Queue(name, { exchange, routingKey: name, ...options.queueOptions })
    } else this.queue = name
    this.producer = new Producer(connection, {
      exchange: this.queue.exchange,
      routingKey: this.queue.routingKey || this.queue.name,
      serializer: options.serializer,
      compression: options.compression,
    })
  }

  /** Publishes a message to the queue. */
  async put(body: T, options: PublishOptions = {}): Promise<void> {
    await this.producer.publish(body, { declare: [this.queue], ...options })
  }

  /** The next message, waiting up to `timeout` ms (default: for ever). */
  async get(options: { timeout?: number } = {}): Promise<Message<T>> {
    if (this.closed) throw new ClosedError(`SimpleQueue '${this.queue.name}' is closed`)
    await this.start()
    if (this.closed) throw new ClosedError(`SimpleQueue '${this.queue.name}' is closed`)
    const ready = this.buffer.shift()
    if (ready) return ready
    return new Promise<Message<T>>((resolve, reject) => {
      const waiter: Waiter<T> = { resolve, reject }
      if (options.timeout !== undefined) {
        waiter.timer = setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1)
          reject(new QueueEmptyError(`No message in queue '${this.queue.name}' within ${options.timeout} ms`))
        }, options.timeout)
      }
      this.waiters.push(waiter)
    })
  }

  /** The next message if one is ready now (AMQP basic.get), else QueueEmptyError. */
  async getNowait(): Promise<Message<T>> {
    const ready = this.buffer.shift()
    if (ready) return ready
    const ch = await this.sideChannel()
    await maybeDeclare(ch, this.queue, this.connection.declared)
    const noAck = this.options.noAck ?? false
    const d = await ch.get(this.queue.name, { noAck })
    if (!d) throw new QueueEmptyError(`No message in queue '${this.queue.name}'`)
    const { serializers, compressors } = this.connection
    const accept = this.options.accept ? serializers.resolveAccept(this.options.accept) : undefined
    return new Message<T>(ch, d, decodeBody(d, { serializers, compressors, accept }) as T, noAck)
  }

  /** Ready messages in the queue (not counting fetched ones). */
  async qsize(): Promise<number> {
    const ch = await this.sideChannel()
    return (await ch.declareQueue(this.queue)).messageCount
  }

  /** Removes every ready message; returns how many. */
  async clear(): Promise<number> {
    const ch = await this.sideChannel()
    return ch.purgeQueue(this.queue.name)
  }

  /** Stops consuming; fetched messages not yet acknowledged go back to the queue. */
  async close(): Promise<void> {
    this.closed = true
    // A pending get() must not wait for ever: it fails as the queue closes.
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer)
      w.reject(new ClosedError(`SimpleQueue '${this.queue.name}' was closed while get() waited`))
    }
    this.buffer.length = 0
    await this.starting?.catch(() => undefined) // a consumer still starting is closed too
    await this.consumer?.close()
    await (await this.channel?.catch(() => undefined))?.close()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  private start(): Promise<unknown> {
    this.starting ??= new Consumer<T>(this.connection, {
      queues: [this.queue],
      noAck: this.options.noAck,
      accept: this.options.accept,
      prefetchCount: this.options.prefetchCount ?? 1,
      onMessage: (_body, message) => {
        const w = this.waiters.shift()
        if (!w) return void this.buffer.push(message)
        clearTimeout(w.timer)
        w.resolve(message)
      },
    })
      .consume()
      .then((c) => {
        this.consumer = c
      })
    return this.starting
  }

  private sideChannel(): Promise<Channel> {
    this.channel ??= this.connection.channel()
    return this.channel
  }
}

/** A transient SimpleQueue: not durable, deleted when unused, no acks (Kombu's SimpleBuffer). */
export class SimpleBuffer<T = unknown> extends SimpleQueue<T> {
  constructor(connection: Connection, name: string, options: SimpleQueueOptions = {}) {
    super(connection, name, {
      noAck: true,
      ...options,
      queueOptions: { durable: false, autoDelete: true, ...options.queueOptions },
    })
  }
}
