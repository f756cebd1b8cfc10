/**
 * The VirtualPrimitives of one Redis channel: Kombu's `_put`, `_get`, `_purge`, `_size`,
 * `_delete`, `_put_fanout` and its QoS (ack, reject, restore), on the keys of keys.ts. Routing,
 * delivery tags and prefetch are the VirtualChannel's.
 */
import type { OutgoingMessage, Queue } from '@q/kombu'
import type { GetOptions, PutOptions, VirtualDelivery, VirtualPrimitives } from '@q/kombu/internal'
import { handleOf, redeliveredPayload } from './deliveries.js'
import { encodeEnvelope } from './envelope.js'
import { LPUSH_BYTES, LpushPacker, lpushEnvelopes, sendLpush } from './packed-lpush.js'
import { Fetcher, type FetchOptions } from './poller.js'
import type { Shared } from './shared.js'

const noop = (): void => {}

/** Most envelopes one LPUSH carries: bounds the arguments of a call and the time Redis spends on one. */
const LPUSH_CHUNK = 1000

/** One channel's primitives over the connection's shared state. */
export class RedisPrimitives implements VirtualPrimitives {
  private readonly fetcher: Fetcher

  constructor(private readonly shared: Shared) {
    this.fetcher = new Fetcher(shared)
  }

  /** LPUSH to the message's priority bucket; with a delay, ZADD to the queue's delayed set instead. */
  async put(queue: string, message: OutgoingMessage, put: PutOptions): Promise<void> {
    const { keys } = this.shared
    const raw = encodeEnvelope(message, put)
    const step = keys.step(message.properties.priority)
    if (put.delay && put.delay > 0) {
      const due = Date.now() + put.delay
      await this.shared.client().zadd(keys.delayed(queue), due, `${step}:${raw}`)
      this.shared.delays.due(due)
    } else {
      await lpushEnvelopes(this.shared.client(), keys.bucket(queue, step), [raw])
    }
  }

  /**
   * A batch: one LPUSH per priority bucket carrying all of that bucket's envelopes, in order
   * (LPUSH k a b c leaves `a` next to be popped, as three LPUSHes would). Long batches are cut
   * into commands of at most {@link LPUSH_CHUNK} items and {@link LPUSH_BYTES} bytes, each sent
   * when it is full. Delayed batches go through `put`, each message to the delayed set.
   */
  putMany(queue: string, messages: readonly OutgoingMessage[], put: PutOptions): Promise<void> {
    if (put.delay && put.delay > 0)
      return Promise.all(messages.map((m) => this.put(queue, m, put))).then(noop)
    try {
      return this.pushMany(queue, messages, put)
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /**
   * Encodes and writes the LPUSHes; not async, so that nothing here (the envelopes above all)
   * stays referenced while the replies are awaited.
   */
  private pushMany(queue: string, messages: readonly OutgoingMessage[], put: PutOptions): Promise<void> {
    const { keys } = this.shared
    const client = this.shared.client()
    // Envelopes go into their bucket's command bytes as they are written (see LpushPacker), and
    // a command leaves as soon as it is full: Redis stores it while the next one is encoded.
    const open = new Map<number, LpushPacker>()
    const sent: Array<Promise<unknown>> = []
    try {
      for (const m of messages) {
        const step = keys.step(m.properties.priority)
        let packer = open.get(step)
        if (!packer) {
          packer = new LpushPacker(keys.bucket(queue, step), Math.min(messages.length, LPUSH_CHUNK))
          open.set(step, packer)
        }
        packer.add(encodeEnvelope(m, put))
        if (packer.size === LPUSH_CHUNK || packer.bytes >= LPUSH_BYTES) {
          sent.push(sendLpush(client, packer))
          this.shared.flush()
          open.delete(step)
        }
      }
    } catch (err) {
      // The batch fails with this error; the commands already sent settle on their own.
      for (const p of sent) p.catch(noop)
      throw err
    }
    for (const packer of open.values()) sent.push(sendLpush(client, packer))
    return sent.length === 1 ? sent[0]!.then(noop) : Promise.all(sent).then(noop)
  }

  async get(queue: string, options: GetOptions): Promise<VirtualDelivery | null> {
    const [d] = await this.fetcher.fetchNow([queue], 1, new Set(options.noAck ? [queue] : []))
    return d ?? null
  }

  getMany(queues: readonly string[], max: number, options: FetchOptions): Promise<VirtualDelivery[]> {
    return this.fetcher.getMany(queues, max, options)
  }

  async ack(delivery: VirtualDelivery): Promise<void> {
    const { tag } = handleOf(delivery)
    if (tag) await this.shared.qos.ack(tag)
  }

  /** Without requeue: forgotten. With: back at the tail of its list, flagged redelivered (Kombu's LPUSH). */
  async reject(delivery: VirtualDelivery, requeue: boolean): Promise<void> {
    const h = handleOf(delivery)
    if (!requeue) return this.ack(delivery)
    if (h.kind === 'fanout') return this.fetcher.requeueFanout(delivery)
    const payload = redeliveredPayload(h.raw)
    if (h.tag) await this.shared.qos.restore(h.tag, payload, [h.list], 'LPUSH')
    else await this.shared.client().lpush(h.list, payload)
  }

  /**
   * Back at the head of its list, to be delivered next (Kombu's restore, RPUSH): flagged
   * redelivered when a consumer held it (channel close, recover), untouched when it was fetched
   * for a consumer cancelled meanwhile. Never throws: a message that cannot be given back now
   * stays in `unacked` and is given back after reconnecting, or by the visibility timeout.
   */
  async restore(delivery: VirtualDelivery, delivered: boolean): Promise<void> {
    const h = handleOf(delivery)
    if (h.kind === 'fanout') return // pub/sub keeps nothing to give back to
    const payload = delivered ? redeliveredPayload(h.raw) : h.raw
    const orphan = () => {
      if (h.tag) this.shared.qos.release(h.tag)
      this.shared.orphan({ tag: h.tag, payload, list: h.list })
    }
    if (this.shared.lost) return orphan()
    try {
      if (h.tag) await this.shared.qos.restore(h.tag, payload, [h.list], 'RPUSH')
      else await this.shared.client().rpush(h.list, payload)
    } catch (err) {
      this.shared.logger.warn(
        `cannot give back a message of '${delivery.queue}' now; will after reconnecting`,
        err,
      )
      orphan()
    }
  }

  async purge(queue: string): Promise<number> {
    const multi = this.shared.client().multi()
    for (const key of this.shared.keys.buckets(queue)) multi.llen(key).del(key)
    const replies = (await multi.exec()) ?? []
    let n = 0
    for (let i = 0; i < replies.length; i += 2) n += Number(replies[i]?.[1] ?? 0)
    return n
  }

  async size(queue: string): Promise<number> {
    const pipe = this.shared.client().pipeline()
    for (const key of this.shared.keys.buckets(queue)) pipe.llen(key)
    const replies = (await pipe.exec()) ?? []
    return replies.reduce((n, [, v]) => n + Number(v ?? 0), 0)
  }

  /** Redis has no queue objects: Kombu creates nothing on declare, and neither do we. */
  declareQueue(_queue: Queue): void {}

  async deleteQueue(queue: string): Promise<void> {
    const { keys } = this.shared
    await this.shared.client().del(...keys.buckets(queue), keys.delayed(queue))
    await this.shared.hub.drop(queue)
  }

  /** PUBLISH on the exchange's channel (`/<db>.<exchange>[/<routing key>]`). */
  async publishFanout(exchange: string, message: OutgoingMessage, routingKey: string): Promise<void> {
    const { keys } = this.shared
    const raw = encodeEnvelope(message, { exchange, routingKey })
    await this.shared.client().publish(keys.prefix + keys.fanoutTopic(exchange, routingKey), raw)
  }
}
