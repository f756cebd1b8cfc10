/**
 * The handful of operations a non-AMQP broker implements; `VirtualChannel` builds AMQP's model
 * (routing, bindings, delivery tags, prefetch, redelivery) on top of them. After Kombu's
 * `AbstractChannel`, plus ack and reject, which Kombu had to bolt on per transport.
 *
 * Every method may return a value or a promise: the memory transport stays synchronous, so its
 * hot path never waits on a microtask it does not need.
 */
import type { Queue } from '../queue.js'
import type { OutgoingMessage } from '../types.js'

/** Where a message was published, kept with it so deliveries can report it. */
export interface PutOptions {
  readonly exchange: string
  readonly routingKey: string
  /** Milliseconds before the message may be delivered (transports with `delayedDelivery`). */
  readonly delay?: number
  /** The publisher asked for `confirm`; when false, a transport may resolve before the broker answers. */
  readonly confirm?: boolean
}

/** A message taken from a queue, not yet acknowledged. */
export interface VirtualDelivery {
  readonly message: OutgoingMessage
  readonly queue: string
  readonly exchange: string
  readonly routingKey: string
  readonly redelivered: boolean
  /** Whatever the transport needs to ack or reject it (a Redis tag, an SQS receipt handle). */
  readonly handle?: unknown
}

/** Options of a fetch. */
export interface GetOptions {
  /** The consumer will not acknowledge: the transport need not track the message. */
  readonly noAck: boolean
}

type MaybePromise<T> = T | Promise<T>

/** The primitives of a virtual transport. */
export interface VirtualPrimitives {
  /** Appends a message to a queue. */
  put(queue: string, message: OutgoingMessage, options: PutOptions): MaybePromise<void>
  /**
   * Appends many messages to a queue, in order, in one operation where the broker has one (Redis:
   * a single LPUSH per priority bucket). Without it, `put` is called for each.
   */
  putMany?(queue: string, messages: readonly OutgoingMessage[], options: PutOptions): MaybePromise<void>
  /** Takes the next message of a queue, or null when it is empty. */
  get(queue: string, options: GetOptions): MaybePromise<VirtualDelivery | null>
  /** Forgets a delivered message for good. */
  ack(delivery: VirtualDelivery): MaybePromise<void>
  /** Drops a delivered message, or makes it deliverable again (flagged redelivered) when `requeue`. */
  reject(delivery: VirtualDelivery, requeue: boolean): MaybePromise<void>
  /**
   * Puts a fetched message back at the head of its queue, to be delivered next: flagged
   * redelivered when a consumer held it (`delivered`: channel close, recover), unchanged when it
   * was fetched for a consumer cancelled meanwhile. Without it, `reject(delivery, true)` is used.
   */
  restore?(delivery: VirtualDelivery, delivered: boolean): MaybePromise<void>
  /** Removes the ready messages of a queue; returns how many. */
  purge(queue: string): MaybePromise<number>
  /** The number of ready messages of a queue. */
  size(queue: string): MaybePromise<number>
  /** Creates a queue (idempotent). */
  declareQueue(queue: Queue): MaybePromise<void>
  /** Deletes a queue and its messages. */
  deleteQueue(queue: string): MaybePromise<void>
  /** Whether the queue exists; without it, messages to unknown queues are kept (as on Redis). */
  hasQueue?(queue: string): MaybePromise<boolean>
  /** Broadcast for fanout exchanges, where the broker has it (Redis PUBLISH). */
  publishFanout?(exchange: string, message: OutgoingMessage, routingKey: string): MaybePromise<void>
  /**
   * Fetches up to `max` messages from any of `queues`, waiting up to `timeoutMs` for the first.
   * Transports with a blocking or batched fetch (Redis BRPOP, SQS long polling) implement it;
   * the others are polled with `get`.
   */
  getMany?(
    queues: readonly string[],
    max: number,
    options: { noAck: ReadonlySet<string>; timeoutMs: number; signal: AbortSignal },
  ): Promise<VirtualDelivery[]>
  /** Calls `listener` when messages may have arrived; returns the unsubscribe function. */
  onReady?(listener: () => void): () => void
}
