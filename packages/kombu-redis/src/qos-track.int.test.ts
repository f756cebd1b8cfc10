/**
 * The record of a message taken by BRPOP (database 11, a key prefix per run): it is written in
 * `unacked` when the message is held, and not at all when the message is acked within the tick
 * it was taken in (an early ack): nothing of it then reaches Redis but the BRPOP.
 */
import { Consumer, Producer, Queue } from '@q/kombu'
import { eventually } from '@q/kombu-testing'
import { afterAll, describe, expect, it } from 'vitest'
import { connect, deletePrefix, rawClient, uniquePrefix } from './test/redis-env.js'

const DB = 11
const prefix = uniquePrefix('track')
const redis = rawClient(DB)

afterAll(async () => {
  redis.disconnect()
  await deletePrefix(DB, prefix)
})

/** The commands Redis runs on keys of this run while `body` runs. */
async function monitored(body: () => Promise<void>): Promise<string[][]> {
  const monitor = await rawClient(DB).monitor()
  const seen: string[][] = []
  monitor.on('monitor', (_time: string, args: string[]) => {
    if (args.some((a) => a.startsWith(prefix))) seen.push(args)
  })
  try {
    await body()
  } finally {
    monitor.disconnect()
  }
  return seen
}

describe('a message taken by BRPOP', () => {
  it('is recorded in unacked while held, and removed when acked', async () => {
    await using conn = connect(DB, { globalKeyprefix: prefix })
    const queue = new Queue('held')
    const got: Array<{ ack(): Promise<void> }> = []
    // Consuming an empty queue: the message published next is taken by the blocking BRPOP.
    await new Consumer(conn, { queues: queue, onMessage: (_b, m) => void got.push(m) }).consume()
    await new Promise((r) => setTimeout(r, 200))
    const producer = new Producer(conn)
    await producer.publish('x', { routingKey: 'held', declare: [queue] })
    await eventually(() => got.length, 1, { timeout: 2000, what: 'the delivery' })
    await eventually(() => redis.hlen(`${prefix}unacked`), 1, { timeout: 2000, what: 'the record' })
    expect(await redis.zcard(`${prefix}unacked_index`)).toBe(1)
    await got[0]!.ack()
    await eventually(() => redis.hlen(`${prefix}unacked`), 0, { timeout: 2000, what: 'the ack' })
    expect(await redis.zcard(`${prefix}unacked_index`)).toBe(0)
  })

  it('acked within its tick is never recorded', async () => {
    await using conn = connect(DB, { globalKeyprefix: prefix })
    const queue = new Queue('early')
    let acked = 0
    await new Consumer(conn, {
      queues: queue,
      onMessage: (_b, m) => void m.ack().then(() => acked++),
    }).consume()
    await new Promise((r) => setTimeout(r, 200))
    const commands = await monitored(async () => {
      await new Producer(conn).publish('y', { routingKey: 'early', declare: [queue] })
      await eventually(() => acked, 1, { timeout: 2000, what: 'the ack' })
      await new Promise((r) => setTimeout(r, 50))
    })
    const names = commands.map((c) => c[0]!.toLowerCase())
    expect(names).toContain('brpop')
    expect(names.filter((n) => ['hset', 'zadd', 'multi'].includes(n))).toEqual([])
    expect(await redis.hlen(`${prefix}unacked`)).toBe(0)
    expect(await redis.zcard(`${prefix}unacked_index`)).toBe(0)
  })
})
