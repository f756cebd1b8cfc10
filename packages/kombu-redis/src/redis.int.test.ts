/**
 * Redis-specific behaviour against the machine's Redis (database 11, a key prefix per run): the
 * keys Kombu would write, Kombu's requeue and restore positions, pub/sub fanout with and without
 * fanout_patterns, delayed delivery, and the lease that keeps a long-held message with its holder.
 */
import { Consumer, Exchange, Producer, Queue } from '@q/kombu'
import { eventually, Inbox } from '@q/kombu-testing'
import { afterAll, describe, expect, it } from 'vitest'
import { pyDumps } from './py-json.js'
import { connect, deletePrefix, rawClient, uniquePrefix } from './test/redis-env.js'

const DB = 11
const prefix = uniquePrefix('redis')
const redis = rawClient(DB)
let n = 0
const name = (label: string) => `${label}-${++n}`

afterAll(async () => {
  redis.disconnect()
  await deletePrefix(DB, prefix)
})

async function consume<T>(
  conn: ReturnType<typeof connect>,
  queue: Queue | string,
  inbox: Inbox<T>,
  prefetchCount = 0,
) {
  return new Consumer<T>(conn, { queues: queue, prefetchCount, onMessage: inbox.onMessage }).consume()
}

describe('Kombu layout', () => {
  it('publishes to priority buckets and binding sets, and tracks held messages in unacked', async () => {
    await using conn = connect(DB, { globalKeyprefix: prefix })
    const exchange = new Exchange(name('ex'), { type: 'direct' })
    const queue = new Queue(name('q'), { exchange, routingKey: 'rk' })
    const producer = new Producer(conn, { exchange })
    await producer.publish({ p: 7 }, { routingKey: 'rk', priority: 7, declare: [queue] })
    await producer.publish({ p: 0 }, { routingKey: 'rk' })
    expect(await redis.smembers(`${prefix}_kombu.binding.${exchange.name}`)).toEqual([
      `rk\x06\x16\x06\x16${queue.name}`,
    ])
    expect(await redis.llen(`${prefix}${queue.name}`)).toBe(1)
    const [raw] = await redis.lrange(`${prefix}${queue.name}\x06\x166`, 0, -1)
    const env = JSON.parse(raw!)
    expect(Object.keys(env)).toEqual(['body', 'content-encoding', 'content-type', 'headers', 'properties'])
    expect(env.properties).toMatchObject({
      delivery_mode: 2,
      delivery_info: { exchange: exchange.name, routing_key: 'rk' },
      priority: 7,
      body_encoding: 'base64',
    })

    const inbox = new Inbox<{ p: number }>()
    await consume(conn, queue, inbox, 2)
    const got = await inbox.collect(2)
    expect(got.map((m) => m.body.p)).toEqual([0, 7]) // lower first
    const tags = await redis.zrange(`${prefix}unacked_index`, '0', '-1')
    expect(tags).toHaveLength(2)
    const held = await redis.hget(`${prefix}unacked`, env.properties.delivery_tag)
    expect(held).toBe(`[${raw}, "${exchange.name}", "rk"]`)
    for (const m of got) await m.ack()
    await eventually(() => redis.hlen(`${prefix}unacked`), 0, { timeout: 2000, what: 'unacked entries' })
    expect(await redis.zcard(`${prefix}unacked_index`)).toBe(0)
  })

  it('records unacked values with the exchange and routing key quoted as Python does (Lua side)', async () => {
    await using conn = connect(DB, { globalKeyprefix: prefix })
    const exchange = new Exchange(name('ex-"quoted"/\\'), { type: 'direct' })
    const routingKey = 'r\tk/é'
    const queue = new Queue(name('q'), { exchange, routingKey })
    await new Producer(conn, { exchange }).publish('x', { routingKey, declare: [queue] })
    const [raw] = await redis.lrange(`${prefix}${queue.name}`, 0, -1)
    const inbox = new Inbox<string>()
    await consume(conn, queue, inbox)
    const [m] = await inbox.collect(1)
    const tag = JSON.parse(raw!).properties.delivery_tag
    // Non-ASCII stays UTF-8 on the Lua side (Python reads both); everything else is Python's bytes.
    expect(await redis.hget(`${prefix}unacked`, tag)).toBe(`[${raw}, ${pyDumps(exchange.name)}, "r\\tk/é"]`)
    await m!.ack()
  })

  it("requeues to the back of the queue (Kombu's LPUSH) and restores held messages to the front", async () => {
    await using conn = connect(DB, { globalKeyprefix: prefix })
    const queue = new Queue(name('q'))
    const producer = new Producer(conn)
    for (const i of [0, 1, 2]) await producer.publish({ n: i }, { routingKey: queue.name })
    const inbox = new Inbox<{ n: number }>()
    const consumer = await consume(conn, queue, inbox, 1)
    const [first] = await inbox.collect(1)
    await first!.requeue()
    const order: Array<[number, boolean]> = []
    for (let i = 1; i <= 3; i++) {
      const m = (await inbox.collect(i + 1))[i]!
      order.push([m.body.n, m.redelivered])
      if (i < 3) await m.ack()
    }
    expect(order).toEqual([
      [1, false],
      [2, false],
      [0, true],
    ])
    // Held at close: restored to the front, flagged redelivered (headers and delivery_info).
    await consumer.close()
    const [raw] = await redis.lrange(`${prefix}${queue.name}`, -1, -1)
    const env = JSON.parse(raw!)
    expect(env.headers.redelivered).toBe(true)
    expect(env.properties.delivery_info.redelivered).toBe(true)
  })

  it('a passive declare cannot tell a missing queue: Redis has no queue objects', async () => {
    await using conn = connect(DB, { globalKeyprefix: prefix })
    const channel = await conn.channel()
    const queue = new Queue(name('q'))
    expect(await channel.declareQueue(queue, { passive: true })).toMatchObject({ messageCount: 0 })
    await new Producer(conn).publish(1, { routingKey: queue.name, delay: 60_000 })
    await new Producer(conn).publish(2, { routingKey: queue.name })
    expect(await channel.deleteQueue(queue.name)).toBe(1)
    expect(await redis.exists(`${prefix}${queue.name}`, `${prefix}${queue.name}\x06\x16delayed`)).toBe(0)
  })
})

describe('fanout', () => {
  async function fanout(patterns: boolean) {
    const conn = connect(DB, { globalKeyprefix: prefix, fanoutPatterns: patterns })
    const exchange = new Exchange(name('fan'), { type: 'fanout' })
    const queues = ['', 'x', 'a.#'].map((rk) => new Queue(name('q'), { exchange, routingKey: rk }))
    const inboxes = queues.map(() => new Inbox<string>({ ack: true }))
    for (const [i, q] of queues.entries()) await consume(conn, q, inboxes[i]!)
    const producer = new Producer(conn, { exchange })
    for (const rk of ['', 'x', 'a.b.c', 'other']) await producer.publish(rk || '(none)', { routingKey: rk })
    await producer.publish('end', { routingKey: '' })
    return { conn, inboxes }
  }

  it("filters by binding-key pattern by default (Kombu's fanout_patterns)", async () => {
    const { conn, inboxes } = await fanout(true)
    await using _ = conn
    await inboxes[0]!.until((m) => m.body === 'end')
    await eventually(() => inboxes[1]!.bodies.length + inboxes[2]!.bodies.length, 2, {
      timeout: 2000,
      what: 'copies',
    })
    expect(inboxes[0]!.bodies.filter((b) => b !== 'end')).toEqual(['(none)'])
    expect(inboxes[1]!.bodies).toEqual(['x'])
    expect(inboxes[2]!.bodies).toEqual(['a.b.c'])
  })

  it('with fanoutPatterns: false every bound queue gets every message', async () => {
    const { conn, inboxes } = await fanout(false)
    await using _ = conn
    for (const inbox of inboxes) {
      const got = await inbox.until((m) => m.body === 'end', 2000)
      expect(got.map((m) => m.body).filter((b) => b !== 'end')).toEqual(['(none)', 'x', 'a.b.c', 'other'])
    }
  })

  it('publishes on /<db>.<exchange>/<routing key> with the envelope as payload', async () => {
    await using conn = connect(DB, { globalKeyprefix: prefix })
    const sub = rawClient(DB)
    const got: Array<[string, string]> = []
    sub.on('pmessage', (_p: string, channel: string, message: string) => got.push([channel, message]))
    await sub.psubscribe(`${prefix}/${DB}.celeryev/*`)
    // celeryev is fanout without being declared (Celery's exchange; Redis does not store types).
    await new Producer(conn).publish(
      { type: 'worker-heartbeat' },
      { exchange: 'celeryev', routingKey: 'worker.heartbeat' },
    )
    await eventually(() => got.length, 1, { timeout: 2000, what: 'pmessages' })
    sub.disconnect()
    expect(got[0]![0]).toBe(`${prefix}/${DB}.celeryev/worker.heartbeat`)
    expect(JSON.parse(got[0]![1]).properties.delivery_info).toEqual({
      exchange: 'celeryev',
      routing_key: 'worker.heartbeat',
    })
  })
})

describe('delayed delivery', () => {
  it('keeps a delayed message in a sorted set until due, out of the list Python reads', async () => {
    await using conn = connect(DB, { globalKeyprefix: prefix })
    const queue = new Queue(name('q'))
    const inbox = new Inbox<string>({ ack: true })
    await consume(conn, queue, inbox)
    const start = Date.now()
    await new Producer(conn).publish('later', { routingKey: queue.name, delay: 700, priority: 6 })
    const members = await redis.zrange(`${prefix}${queue.name}\x06\x16delayed`, '0', '-1', 'WITHSCORES')
    expect(members[0]).toMatch(/^6:\{"body": /)
    expect(Number(members[1])).toBeGreaterThanOrEqual(start + 700)
    expect(await redis.llen(`${prefix}${queue.name}\x06\x166`)).toBe(0)
    const [m] = await inbox.collect(1, 3000)
    expect(Date.now() - start).toBeGreaterThanOrEqual(650)
    expect(m!.body).toBe('later')
    expect(await redis.zcard(`${prefix}${queue.name}\x06\x16delayed`)).toBe(0)
  })

  it('a consumer picks up a message delayed by another connection', async () => {
    await using producerConn = connect(DB, { globalKeyprefix: prefix })
    await using conn = connect(DB, { globalKeyprefix: prefix })
    const queue = new Queue(name('q'))
    const inbox = new Inbox<string>({ ack: true })
    await consume(conn, queue, inbox)
    await new Producer(producerConn).publish('from elsewhere', { routingKey: queue.name, delay: 300 })
    const [m] = await inbox.collect(1, 3000)
    expect(m!.body).toBe('from elsewhere')
  })
})

describe('lease', () => {
  it('a live holder keeps its message past the visibility timeout; a dead one loses it', async () => {
    const options = { globalKeyprefix: prefix, visibilityTimeout: 1, leaseInterval: 0.25 }
    await using holderConn = connect(DB, options)
    await using otherConn = connect(DB, options)
    const queue = new Queue(name('q'))
    await new Producer(holderConn).publish('long task', { routingKey: queue.name })
    const held = new Inbox<string>()
    await consume(holderConn, queue, held, 1)
    const [m] = await held.collect(1)
    const other = new Inbox<string>({ ack: true })
    await consume(otherConn, queue, other)
    // Three visibility timeouts, with the other consumer's restore scan running all along.
    await new Promise((r) => setTimeout(r, 3000))
    expect(other.bodies).toEqual([])
    await m!.ack()
    expect(await redis.hlen(`${prefix}unacked`)).toBe(0)
  })

  it('messages of a holder that stopped renewing come back after the visibility timeout', async () => {
    const options = { globalKeyprefix: prefix, visibilityTimeout: 1, leaseInterval: 0.25 }
    await using conn = connect(DB, options)
    const queue = new Queue(name('q'))
    await new Producer(conn).publish('orphaned', { routingKey: queue.name })
    // What a worker killed while holding a message leaves behind (Kombu's QoS.append), 5 s old.
    const raw = (await redis.rpop(`${prefix}${queue.name}`))!
    const tag = JSON.parse(raw).properties.delivery_tag
    await redis.zadd(`${prefix}unacked_index`, Date.now() / 1000 - 5, tag)
    await redis.hset(`${prefix}unacked`, tag, `[${raw}, "", ${pyDumps(queue.name)}]`)
    const inbox = new Inbox<string>({ ack: true })
    const started = Date.now()
    await consume(conn, queue, inbox)
    const [m] = await inbox.collect(1, 5000)
    expect(m!.body).toBe('orphaned')
    expect(m!.redelivered).toBe(true)
    expect(Date.now() - started).toBeLessThan(2000)
  })
})
