/**
 * Batched publishing on Redis (database 11, a key prefix per run): one LPUSH per priority bucket
 * carrying the whole batch, in Kombu's layout, each envelope what a single publish writes.
 */
import { Producer, Queue } from '@q/kombu'
import { eventually } from '@q/kombu-testing'
import { afterAll, describe, expect, it } from 'vitest'
import { connect, deletePrefix, rawClient, uniquePrefix } from './test/redis-env.js'

const DB = 11
const prefix = uniquePrefix('putmany')
const redis = rawClient(DB)
let n = 0
const name = (label: string) => `${label}-${++n}`

afterAll(async () => {
  redis.disconnect()
  await deletePrefix(DB, prefix)
})

/** A producer connected, and an empty queue `label` to publish to (routing options included). */
async function emptyQueue(conn: ReturnType<typeof connect>, label: string) {
  const queue = new Queue(name(label))
  const producer = new Producer(conn)
  const options = { routingKey: queue.name, declare: [queue] }
  await producer.publish('warm-up', options) // connect and declare first
  await redis.del(prefix + queue.name)
  return { queue, producer, options }
}

/** An envelope without its random delivery tag, to compare two of them. */
const untagged = (raw: string) => raw.replace(/"delivery_tag": "[^"]+"/, '"delivery_tag": "-"')

describe('putMany', () => {
  it('writes one LPUSH per priority bucket, oldest next to be popped', async () => {
    await using conn = connect(DB, { globalKeyprefix: prefix })
    const queue = new Queue(name('q'))
    const producer = new Producer(conn)
    await producer.publish('warm-up', { routingKey: queue.name, declare: [queue] }) // connect first
    await redis.del(prefix + queue.name)
    const monitor = await redis.duplicate().monitor()
    const commands: string[][] = []
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args[0]?.toLowerCase() === 'lpush' && args[1]?.startsWith(prefix + queue.name)) commands.push(args)
    })
    await producer.publishMany([1, 2, 3, 4], {
      routingKey: queue.name,
      each: [{ priority: 0 }, { priority: 6 }, { priority: 0 }, { priority: 6 }],
    })
    // MONITOR reports asynchronously: wait for both commands, then a little for any extra one.
    await eventually(() => commands.length >= 2, true, { timeout: 5000, what: 'two LPUSH commands' })
    await new Promise((r) => setTimeout(r, 100))
    monitor.disconnect()
    // MONITOR prints the separator escaped: tell the buckets apart by their exact name.
    const bucket = (key: string | undefined) => (key === prefix + queue.name ? 0 : 6)
    expect(commands.map((c) => [bucket(c[1]), c.length - 2])).toEqual([
      [0, 2],
      [6, 2],
    ])
    const bodies = async (key: string) =>
      (await redis.lrange(key, 0, -1))
        .reverse()
        .map((raw) => JSON.parse(Buffer.from(JSON.parse(raw).body, 'base64').toString()))
    expect(await bodies(prefix + queue.name)).toEqual([1, 3])
    expect(await bodies(`${prefix}${queue.name}\x06\x166`)).toEqual([2, 4])
  })

  it('writes the very envelope a single publish writes', async () => {
    await using conn = connect(DB, { globalKeyprefix: prefix })
    const queue = new Queue(name('same'))
    const producer = new Producer(conn)
    const options = {
      routingKey: queue.name,
      declare: [queue],
      headers: { task: 'tasks.add', id: 'x\u00e9' },
      correlationId: 'c-1',
      replyTo: 'r-1',
      expiration: 60_000,
    }
    await producer.publish({ a: [1, 2] }, options)
    await producer.publishMany([{ a: [1, 2] }], options)
    const [second, first] = await redis.lrange(prefix + queue.name, 0, -1)
    expect(untagged(second!)).toBe(untagged(first!))
  })

  it('keeps the order of publishes made in the same tick, batched or not', async () => {
    await using conn = connect(DB, { globalKeyprefix: prefix })
    const { queue, producer, options } = await emptyQueue(conn, 'order \u00e9')
    // The single publish waits in ioredis' automatic pipeline when the batch is written; the
    // batch must not overtake it. Then a batch on an idle client (written as one packed command),
    // and one of more than a command's worth of envelopes.
    const bodies = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i)
    await Promise.all([producer.publish(0, options), producer.publishMany(bodies(1, 3), options)])
    await producer.publishMany(bodies(4, 3), options)
    await producer.publishMany(bodies(7, 2500), options)
    const got = (await redis.lrange(prefix + queue.name, 0, -1))
      .reverse()
      .map((raw) => JSON.parse(Buffer.from(JSON.parse(raw).body, 'base64').toString()))
    expect(got).toEqual(bodies(0, 2507))
  })

  it('cuts a batch of large messages into commands sent as they fill, in order per bucket', async () => {
    await using conn = connect(DB, { globalKeyprefix: prefix })
    const { queue, producer, options } = await emptyQueue(conn, 'large')
    // ~2 KB bodies, 400 of them: several commands' worth, in two priority buckets, and a single
    // publish issued in the same tick behind the batch.
    const pad = 'p'.repeat(2000)
    const bodies = Array.from({ length: 400 }, (_, i) => ({ i, pad }))
    const each = bodies.map((_, i) => ({ priority: i % 3 === 0 ? 6 : 0 }))
    await Promise.all([
      producer.publishMany(bodies, { ...options, each }),
      producer.publish({ i: 400, pad }, options),
    ])
    const read = async (key: string) =>
      (await redis.lrange(key, 0, -1))
        .reverse()
        .map((raw) => (JSON.parse(Buffer.from(JSON.parse(raw).body, 'base64').toString()) as { i: number }).i)
    const all = Array.from({ length: 400 }, (_, i) => i)
    expect(await read(`${prefix}${queue.name}\x06\x166`)).toEqual(all.filter((i) => i % 3 === 0))
    expect(await read(prefix + queue.name)).toEqual([...all.filter((i) => i % 3 !== 0), 400])
  })

  it('rejects a batch that cannot be encoded part way, the commands already sent kept', async () => {
    await using conn = connect(DB, { globalKeyprefix: prefix })
    const { queue, producer, options } = await emptyQueue(conn, 'broken')
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown) => unhandled.push(reason)
    process.on('unhandledRejection', onUnhandled)
    try {
      const pad = 'p'.repeat(2000)
      const bodies = Array.from({ length: 300 }, (_, i) => ({ i, pad }))
      const broken = {
        get trap(): string {
          throw new Error('this header cannot be read')
        },
      }
      const each = bodies.map((_, i) => (i === 250 ? { headers: broken } : {}))
      await expect(producer.publishMany(bodies, { ...options, each })).rejects.toThrow('cannot be read')
      await new Promise((r) => setTimeout(r, 200))
      expect(unhandled).toEqual([])
      // Whole commands of the first messages went out before the broken one was reached.
      const stored = await redis.llen(prefix + queue.name)
      expect(stored).toBeGreaterThan(0)
      expect(stored).toBeLessThan(250)
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })
})
