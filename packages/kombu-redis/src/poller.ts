/**
 * The fetch loop of one channel (`getMany`). Each call:
 *
 * 1. hands over fanout messages its subscriptions buffered;
 * 2. runs the fetch script: due delayed messages join their lists, then up to `max` messages are
 *    popped across the consumed queues (lowest priority bucket first, queues in turn) and
 *    recorded as unacknowledged, atomically: this is what lets a worker drain a backlog in
 *    batches rather than one BRPOP per message (skipped when the previous fetch left every list
 *    empty: sparse traffic, see `getMany`);
 * 3. when nothing was ready, blocks in one BRPOP over every bucket of every queue, in Kombu's key
 *    order, on a connection of the channel's own, until a message, a fanout message, the timeout
 *    or the channel's close (the last two end the BRPOP early with CLIENT UNBLOCK).
 *
 * A message taken by BRPOP is recorded as unacknowledged right after, as Kombu does; a process
 * that dies between the two loses that one message, in Kombu as here. Batched fetches have no
 * such window.
 */
import type { VirtualDelivery } from '@q/kombu/internal'
import { sleep, WriteCoalescer } from '@q/kombu/internal'
import type { Redis } from 'ioredis'
import { toDelivery } from './deliveries.js'
import { decodeEnvelope } from './envelope.js'
import type { FanoutSink } from './fanout.js'
import { FETCH } from './lua.js'
import type { Shared } from './shared.js'

/** Options of one fetch, as the DeliveryPump passes them. */
export interface FetchOptions {
  readonly noAck: ReadonlySet<string>
  readonly timeoutMs: number
  readonly signal: AbortSignal
}

/** BRPOP timeout right after the set of consumed queues changed: a consumer adding queues one by one is picked up soon. */
const SETTLE_MS = 100

/** The fetcher of one channel. */
export class Fetcher {
  private blocker: Promise<{ client: Redis; id: number }> | undefined
  private blocking: Promise<unknown> | undefined
  private cursor = 0
  private lastSet = ''
  private readonly inbox: VirtualDelivery[] = []
  private readonly sinks = new Map<string, FanoutSink>()
  private notify: (() => void) | undefined
  private started = false
  private closed = false
  /** The previous fetch left every list empty: block at once next time, skipping the fetch script. */
  private direct = false
  /** The BRPOP leaves at the end of the tick: behind the result of a task run in this tick. */
  private readonly writes = new WriteCoalescer()

  constructor(private readonly shared: Shared) {}

  /** Fetches without waiting (basic.get, and the first step of getMany). */
  async fetchNow(
    queues: readonly string[],
    max: number,
    noAck: ReadonlySet<string>,
  ): Promise<VirtualDelivery[]> {
    const { keys, options } = this.shared
    const steps = keys.steps
    const buckets = steps.flatMap((s) => queues.map((q) => keys.bucket(q, s)))
    const track = queues.map((q) => (options.ackEmulation && !noAck.has(q) ? '1' : '0')).join('')
    const now = Date.now()
    const result = (await FETCH.run(
      this.shared.client(),
      [keys.unacked, keys.unackedIndex, ...queues.map((q) => keys.delayed(q)), ...buckets],
      [max, queues.length, now, now / 1000, track, ...steps],
    )) as Array<string | number>
    const out: VirtualDelivery[] = []
    for (let i = 1; i + 3 < result.length; i += 4) {
      const queue = queues[Number(result[i]) - 1]!
      const step = steps[Number(result[i + 1]) - 1]!
      const tag = String(result[i + 3]) || undefined
      if (tag) this.shared.qos.hold(tag)
      out.push(
        toDelivery(String(result[i + 2]), queue, { kind: 'list', list: keys.bucket(queue, step), tag }),
      )
    }
    return out
  }

  /** The VirtualPrimitives `getMany`: see the file header. Never throws. */
  async getMany(queues: readonly string[], max: number, options: FetchOptions): Promise<VirtualDelivery[]> {
    const { signal, timeoutMs } = options
    if (this.closed || signal.aborted || this.shared.lost) return []
    if (!this.started) this.start(signal)
    try {
      const lists = await this.syncFanout(queues)
      this.shared.delays.watch(this, lists)
      const out = this.inbox.splice(0, max)
      // When the previous fetch left every list empty (a BRPOP after which none was left, a fetch
      // that found fewer than it asked for), running the fetch script first would be one more
      // round trip before the next BRPOP is armed, while a client waits for its next task to be
      // picked up. A backlog keeps the fetch script on (it drains in batches, with no BRPOP).
      // Due delayed messages are promoted meanwhile by the delay timer, as during any BRPOP.
      const direct = this.direct
      this.direct = false
      if (lists.length && out.length < max && !direct) {
        // At most a batch a run: Redis does nothing else while the script runs (fetchBatchSize).
        const asked = Math.min(max - out.length, this.shared.options.fetchBatchSize)
        const got = await this.fetchNow(this.order(lists), asked, options.noAck)
        this.direct = got.length < asked
        for (const d of got) out.push(d)
      }
      if (out.length) return out
      const set = [...queues].sort().join('\n')
      const wait = set === this.lastSet ? timeoutMs : Math.min(SETTLE_MS, timeoutMs)
      this.lastSet = set
      if (!lists.length) {
        await this.arrival(signal, wait).promise
        return this.inbox.splice(0, max)
      }
      this.blocking = this.block(this.order(lists), max, wait, options)
      return (await this.blocking) as VirtualDelivery[]
    } catch (err) {
      if (this.closed || signal.aborted || this.shared.lost) return []
      this.shared.logger.warn('fetching from Redis failed; retrying', err)
      await sleep(Math.min(timeoutMs, 1000), signal)
      return []
    } finally {
      this.blocking = undefined
    }
  }

  /** Puts a requeued fanout message back in line (pub/sub has nothing to requeue to). */
  requeueFanout(delivery: VirtualDelivery): void {
    if (this.closed) return
    this.inbox.unshift({ ...delivery, redelivered: true })
    this.notify?.()
  }

  /** Queue order of one fetch (Kombu's `queue_order_strategy`). */
  private order(queues: readonly string[]): string[] {
    const strategy = this.shared.options.queueOrderStrategy
    if (strategy === 'sorted') return [...queues].sort()
    if (strategy === 'priority' || queues.length < 2) return [...queues]
    const start = this.cursor++ % queues.length
    return [...queues.slice(start), ...queues.slice(0, start)]
  }

  private async block(
    lists: string[],
    max: number,
    waitMs: number,
    options: FetchOptions,
  ): Promise<VirtualDelivery[]> {
    const { keys, fractionalTimeouts, canUnblock } = this.shared
    const { client, id } = await this.blockerClient()
    const timeout = fractionalTimeouts ? Math.max(0.01, waitMs / 1000) : Math.max(1, Math.ceil(waitMs / 1000))
    const buckets = keys.steps.flatMap((s) => lists.map((q) => keys.bucket(q, s)))
    // EXISTS right behind the BRPOP, in the same write: Redis answers it as soon as the BRPOP
    // returns, with how many of the lists still hold messages (Redis deletes an emptied list).
    // Two plain commands, not an ioredis pipeline: a pipeline per fetch kept every fetch's
    // objects alive through young-generation collections until the next full one (measured: a
    // third of the worker's allocation survived each scavenge, whose pauses grew to 3-8 ms).
    this.writes.hold(client.stream)
    const popping = client.brpop(...buckets, timeout)
    const left = client.exists(...buckets)
    const pop = popping.then(
      async (popped) => {
        const remaining = await left.catch(() => 1)
        this.direct = popped !== null && remaining === 0
        return popped as [string, string] | null
      },
      (err: unknown) => {
        left.catch(() => {})
        throw err
      },
    )
    const interrupt = this.arrival(options.signal)
    const first = await Promise.race([pop.then((r) => ({ r })), interrupt.promise.then(() => undefined)])
    interrupt.cancel()
    let popped = first?.r
    if (!first) {
      if (canUnblock)
        await this.shared
          .client()
          .client('UNBLOCK', id)
          .catch(() => {})
      popped = await pop.catch(() => null)
    }
    const out = this.inbox.splice(0, Math.max(0, max - (popped ? 1 : 0)))
    if (!popped) return out
    const [list, raw] = popped
    if (this.closed || options.signal.aborted) {
      // Taken as the channel closed: back where it was, untouched (it is not recorded yet).
      await this.shared.client().rpush(list, raw)
      return out
    }
    const queue = keys.queueOf(list)
    const d = decodeEnvelope(raw, { exchange: '', routingKey: queue })
    let tag: string | undefined
    if (this.shared.options.ackEmulation && !options.noAck.has(queue)) {
      tag = d.tag
      if (tag) {
        // Recorded without waiting for the reply (see Qos.track): the record leaves at the end of
        // the tick, ahead of any ack of this message, so Redis applies them in order; an ack
        // within the tick cancels it. The message reaches its consumer one round trip sooner; if
        // the record fails, it was delivered untracked (the window Kombu has between BRPOP and
        // its HSET).
        this.shared.qos.track(tag, raw, d).catch((err: unknown) => {
          this.shared.logger.warn(`could not record a message of '${queue}' as unacknowledged`, err)
        })
        this.shared.qos.hold(tag)
      }
    }
    out.push(toDelivery(raw, queue, { kind: 'list', list, tag }, undefined, d))
    return out
  }

  /** Subscribes the fanout-bound queues among `queues`; returns the others (served from lists). */
  private async syncFanout(queues: readonly string[]): Promise<string[]> {
    const { fanoutQueues, hub, keys } = this.shared
    const lists: string[] = []
    for (const queue of queues) {
      const binding = fanoutQueues.get(queue)
      if (!binding) {
        lists.push(queue)
        continue
      }
      if (this.sinks.has(queue)) continue
      if (!hub.has(queue)) await hub.expect(queue, keys.fanoutPattern(binding.exchange, binding.routingKey))
      const sink: FanoutSink = (raw) => this.received(queue, raw)
      this.sinks.set(queue, sink)
      hub.attach(queue, sink)
    }
    for (const [queue, sink] of this.sinks) {
      if (!queues.includes(queue)) {
        hub.detach(queue, sink)
        this.sinks.delete(queue)
      }
    }
    return lists
  }

  private received(queue: string, raw: string): void {
    if (this.inbox.length >= this.shared.options.fanoutBufferLimit) this.inbox.shift()
    this.inbox.push(toDelivery(raw, queue, { kind: 'fanout', list: '', tag: undefined }))
    this.notify?.()
  }

  /** Resolves when a fanout message is buffered, the channel closes, or after `ms`. */
  private arrival(signal: AbortSignal, ms?: number): { promise: Promise<void>; cancel(): void } {
    let done!: () => void
    const promise = new Promise<void>((r) => {
      done = r
    })
    const timer = ms === undefined ? undefined : setTimeout(done, ms)
    signal.addEventListener('abort', done, { once: true })
    this.notify = done
    if (this.inbox.length || signal.aborted) done()
    const cancel = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      if (this.notify === done) this.notify = undefined
    }
    void promise.then(cancel)
    return { promise, cancel }
  }

  private blockerClient(): Promise<{ client: Redis; id: number }> {
    this.blocker ??= this.shared
      .duplicate()
      .then(async (client) => ({ client, id: Number(await client.client('ID')) }))
    this.blocker.catch(() => {
      this.blocker = undefined
    })
    return this.blocker
  }

  /** The channel closed (the pump's signal aborted): release the subscriptions and the blocking connection. */
  private start(signal: AbortSignal): void {
    this.started = true
    this.shared.qos.activate()
    signal.addEventListener(
      'abort',
      () => {
        this.closed = true
        this.notify?.()
        this.shared.delays.unwatch(this)
        for (const [queue, sink] of this.sinks) this.shared.hub.detach(queue, sink)
        this.sinks.clear()
        const blocker = this.blocker
        void Promise.resolve(this.blocking)
          .catch(() => {})
          .finally(() => blocker?.then((b) => b.client.disconnect()).catch(() => {}))
      },
      { once: true },
    )
  }
}
