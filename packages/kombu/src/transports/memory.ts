/**
 * The memory transport: a broker inside the process, for tests, demos and single-process apps.
 * Broker state is scoped by URL (`memory://<name>`) and owned by the driver object, never by
 * the module: `createMemoryTransport()` gives a fully isolated set of brokers.
 */
import type { Exchange } from '../exchange.js'
import type { Queue } from '../queue.js'
import type { OutgoingMessage, TransportCapabilities, TransportDriver } from '../types.js'
import { InMemoryBindingTable } from '../virtual/binding-table.js'
import { VirtualConnection } from '../virtual/connection.js'
import type { GetOptions, PutOptions, VirtualDelivery, VirtualPrimitives } from '../virtual/primitives.js'
import { type Entry, MemoryQueue } from './memory-queue.js'

/** One named in-process broker: its queues, exchanges and bindings. */
export class MemoryBroker implements VirtualPrimitives {
  readonly queues = new Map<string, MemoryQueue>()
  readonly exchanges = new Map<string, Exchange>()
  readonly bindings = new InMemoryBindingTable()
  private readonly listeners = new Set<() => void>()

  put(queue: string, message: OutgoingMessage, put: PutOptions): void {
    const q = this.queueFor(queue)
    const entry = newEntry(q, message, put, Date.now())
    if (put.delay && put.delay > 0) {
      // Delayed delivery: the message joins its queue when due. unref() lets a process exit.
      setTimeout(() => this.enqueue(queue, entry, false), put.delay).unref()
    } else this.enqueue(queue, entry, false)
  }

  /** Appends a batch in order, waking the consumers once for all of it. */
  putMany(queue: string, messages: readonly OutgoingMessage[], put: PutOptions): void {
    const q = this.queueFor(queue)
    const now = Date.now()
    const entries: Entry[] = new Array(messages.length)
    for (let i = 0; i < messages.length; i++) entries[i] = newEntry(q, messages[i]!, put, now)
    if (put.delay && put.delay > 0) {
      setTimeout(() => this.enqueueMany(queue, entries), put.delay).unref()
    } else this.enqueueMany(queue, entries)
  }

  get(queue: string, _options: GetOptions): VirtualDelivery | null {
    const e = this.queues.get(queue)?.shift(Date.now())
    if (!e) return null
    const { message, put, redelivered } = e
    return { message, queue, exchange: put.exchange, routingKey: put.routingKey, redelivered, handle: e }
  }

  ack(): void {}

  reject(delivery: VirtualDelivery, requeue: boolean): void {
    if (!requeue) return
    const e = delivery.handle as Entry
    e.redelivered = true
    this.enqueue(delivery.queue, e, true) // back at the head, as AMQP requeues
  }

  purge(queue: string): number {
    const q = this.queues.get(queue)
    q?.prune(Date.now())
    const n = q?.size ?? 0
    q?.clear()
    return n
  }

  size(queue: string): number {
    const q = this.queues.get(queue)
    q?.prune(Date.now()) // expired messages are not ready: do not count them
    return q?.size ?? 0
  }

  declareQueue(queue: Queue): void {
    const q = this.queues.get(queue.name)
    if (!q) this.queues.set(queue.name, new MemoryQueue(queue))
    else q.spec ??= queue // created earlier by a put to a bound queue
  }

  deleteQueue(queue: string): void {
    this.queues.delete(queue)
  }

  hasQueue(queue: string): boolean {
    return this.queues.has(queue)
  }

  onReady(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private queueFor(queue: string): MemoryQueue {
    let q = this.queues.get(queue)
    if (!q) {
      q = new MemoryQueue(undefined)
      this.queues.set(queue, q)
    }
    return q
  }

  private enqueueMany(queue: string, entries: readonly Entry[]): void {
    const q = this.queues.get(queue)
    if (!q) return // deleted meanwhile
    for (const e of entries) q.push(e, false)
    for (const l of this.listeners) l()
  }

  private enqueue(queue: string, entry: Entry, front: boolean): void {
    const q = this.queues.get(queue)
    if (!q) return // deleted meanwhile
    q.push(entry, front)
    for (const l of this.listeners) l()
  }
}

/** A stored message: it expires at the earlier of its own expiration and its queue's messageTtl. */
function newEntry(q: MemoryQueue, message: OutgoingMessage, put: PutOptions, now: number): Entry {
  const expiration = message.properties.expiration
  const ttl = Math.min(
    expiration === undefined ? Infinity : Number(expiration),
    q.spec?.messageTtl ?? Infinity,
  )
  return { message, put, expiresAt: now + (put.delay ?? 0) + ttl, redelivered: false }
}

/** Capabilities of the memory transport. */
export const memoryCapabilities: TransportCapabilities = Object.freeze({
  exchangeTypes: Object.freeze(['direct', 'topic', 'fanout', 'headers'] as const),
  fanout: true,
  priority: 'higher-first',
  ttl: true,
  delayedDelivery: true,
  publisherConfirms: true,
  acknowledgements: true,
  deadLettering: false,
})

/** A memory transport driver with its own brokers. */
export interface MemoryTransport extends TransportDriver {
  /** The broker behind `memory://<name>` (created on first use). */
  broker(name: string): MemoryBroker
  /** Forgets one broker, or all of them. */
  reset(name?: string): void
}

/** Creates a memory transport whose brokers no other transport instance can see. */
export function createMemoryTransport(): MemoryTransport {
  const brokers = new Map<string, MemoryBroker>()
  const broker = (name: string) => brokers.get(name) ?? brokers.set(name, new MemoryBroker()).get(name)!
  return {
    name: 'memory',
    capabilities: memoryCapabilities,
    broker,
    reset: (name) => (name === undefined ? brokers.clear() : void brokers.delete(name)),
    classifyError: () => 'fatal',
    async connect(url) {
      const b = broker(url.hostname)
      return new VirtualConnection(() => ({
        primitives: b,
        capabilities: memoryCapabilities,
        exchanges: b.exchanges,
        bindings: b.bindings,
      }))
    },
  }
}
