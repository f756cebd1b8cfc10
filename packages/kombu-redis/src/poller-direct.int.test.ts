/**
 * Sparse traffic (database 11, a key prefix per run): after a BRPOP that left every list empty
 * (its EXISTS says so), the next fetch blocks at once, without running the fetch script first
 * (one round trip less before a lone next message is picked up), however soon the next message
 * comes; a backlog is still taken by the fetch script.
 */
import { Consumer, Producer, Queue } from '@q/kombu'
import { eventually } from '@q/kombu-testing'
import { afterAll, describe, expect, it } from 'vitest'
import { FETCH } from './lua.js'
import { connect, deletePrefix, rawClient, uniquePrefix } from './test/redis-env.js'

const DB = 11
const prefix = uniquePrefix('direct')
const redis = rawClient(DB)
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms))

afterAll(async () => {
  redis.disconnect()
  await deletePrefix(DB, prefix)
})

/** Counts the fetch script's runs that pop (the delay timer's runs only promote: max 0). */
const run = FETCH.run
let pops = 0
/** The largest batch a popping run was asked for. */
let largest = 0
FETCH.run = function (this: typeof FETCH, ...args: Parameters<typeof FETCH.run>) {
  const max = Number(args[2][0])
  if (max > 0) pops++
  largest = Math.max(largest, max)
  return run.apply(this, args)
}
afterAll(() => {
  FETCH.run = run
})

describe('the fetch loop under sparse traffic', () => {
  it('blocks again at once after a BRPOP that waited, and drains a backlog in batches', async () => {
    await using conn = connect(DB, { globalKeyprefix: prefix })
    const queue = new Queue('sparse')
    const producer = new Producer(conn)
    // Declared once, up front: a declaration wakes the fetch loop (the bindings changed).
    await producer.publish('first', { routingKey: 'sparse', declare: [queue] })
    let got = 0
    await new Consumer(conn, {
      queues: queue,
      onMessage: (_b, m) => void m.ack().then(() => got++),
    }).consume()
    await eventually(() => got, 1, { timeout: 2000, what: 'the first message' })
    await pause(200)
    // Lone messages: after the first BRPOP, none is preceded by the fetch script, whether the
    // next one is published once the consumer waits in BRPOP or right after the last was taken
    // (when it may reach the list before the BRPOP: no clock decides, the lists were empty).
    await producer.publish('x', { routingKey: 'sparse' })
    await eventually(() => got, 2, { timeout: 2000, what: 'message 2' })
    await pause(30)
    const before = pops
    for (let i = 3; i <= 12; i++) {
      await producer.publish('x', { routingKey: 'sparse' })
      await eventually(() => got, i, { timeout: 2000, what: `message ${i}` })
      if (i <= 5) await pause(30)
    }
    expect(pops - before).toBe(0)

    // A backlog pushed in one go: one BRPOP takes the first at once, and the fetch script is
    // back on for the rest, taken in a few batches.
    const start = pops
    await redis.lpush(`${prefix}sparse`, ...Array.from({ length: 50 }, () => envelope()))
    await eventually(() => got, 62, { timeout: 5000, what: 'the backlog' })
    expect(pops - start).toBeGreaterThan(0)
    expect(pops - start).toBeLessThan(10)
  })
})

describe('the fetch batch', () => {
  it('takes at most fetchBatchSize messages a run, however much room the prefetch window has', async () => {
    await using conn = connect(DB, { globalKeyprefix: prefix, fetchBatchSize: 10 })
    const queue = new Queue('batched')
    await new Producer(conn).publish('first', { routingKey: 'batched', declare: [queue] })
    await redis.lpush(`${prefix}batched`, ...Array.from({ length: 45 }, () => envelope('batched')))
    const start = pops
    largest = 0
    let got = 0
    await new Consumer(conn, {
      queues: queue,
      prefetchCount: 100,
      onMessage: (_b, m) => void m.ack().then(() => got++),
    }).consume()
    await eventually(() => got, 46, { timeout: 5000, what: 'the backlog' })
    expect(largest).toBe(10)
    expect(pops - start).toBeGreaterThanOrEqual(4)
  })
})

/** A Kombu envelope as Python publishes it. */
function envelope(routingKey = 'sparse'): string {
  return JSON.stringify({
    body: Buffer.from('"y"').toString('base64'),
    'content-encoding': 'utf-8',
    'content-type': 'application/json',
    headers: {},
    properties: {
      body_encoding: 'base64',
      delivery_info: { exchange: '', routing_key: routingKey },
      delivery_mode: 2,
      delivery_tag: crypto.randomUUID(),
      priority: 0,
    },
  })
}
