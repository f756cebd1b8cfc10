import { afterEach, describe, expect, it } from 'vitest'
import { Connection } from './connection.js'
import { ConnectionError, InvalidOptionError } from './errors.js'
import { Exchange } from './exchange.js'
import { Producer } from './producer.js'
import { Queue } from './queue.js'
import { createMemoryTransport, type MemoryTransport } from './transports/memory.js'
import type { Channel, Logger } from './types.js'

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} }

const open: Connection[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()))
})

function setup(name = 'pm'): { conn: Connection; memory: MemoryTransport } {
  const memory = createMemoryTransport()
  const conn = new Connection(`memory://${name}`, { transport: memory, logger: silent })
  open.push(conn)
  return { conn, memory }
}

/** A real channel that counts calls, and optionally hides publishMany or fails publishes. */
function wrap(
  channel: Channel,
  options: { hideMany?: boolean; failures?: { n: number } } = {},
): { channel: Channel; calls: Record<string, number> } {
  const calls: Record<string, number> = {}
  const proxy = new Proxy(channel, {
    get(target, prop, receiver) {
      if (prop === 'publishMany' && options.hideMany) return undefined
      const value = Reflect.get(target, prop, receiver)
      if (typeof value !== 'function' || typeof prop !== 'string') return value
      return (...args: unknown[]) => {
        calls[prop] = (calls[prop] ?? 0) + 1
        const f = options.failures
        if ((prop === 'publish' || prop === 'publishMany') && f && f.n-- > 0)
          return Promise.reject(new ConnectionError('socket closed'))
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
  return { channel: proxy, calls }
}

/** The bodies of the ready messages of a queue, decoded, in order. */
function bodies(memory: MemoryTransport, broker: string, queue: string): unknown[] {
  const out: unknown[] = []
  const b = memory.broker(broker)
  for (let d = b.get(queue, { noAck: true }); d; d = b.get(queue, { noAck: true }))
    out.push(JSON.parse(d.message.body.toString()))
  return out
}

describe('Producer.publishMany', () => {
  it('publishes every body in order, declaring once, with one channel publishMany', async () => {
    const { conn, memory } = setup('order')
    const { channel, calls } = wrap(await conn.channel())
    const producer = new Producer(conn, { channel })
    const queue = new Queue('jobs')
    await producer.publishMany([{ n: 1 }, { n: 2 }, { n: 3 }], { routingKey: 'jobs', declare: [queue] })
    await producer.publishMany([{ n: 4 }], { routingKey: 'jobs', declare: [queue] })
    expect(bodies(memory, 'order', 'jobs')).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }])
    expect(calls.publishMany).toBe(2)
    expect(calls.declareQueue).toBe(1)
    expect(calls.publish).toBeUndefined()
  })

  it('sets per-message options over the batch ones, and gives each message its own headers', async () => {
    const { conn, memory } = setup('each')
    const producer = new Producer(conn)
    const headers = { shared: 1 }
    await producer.publishMany(['a', 'b', 'c'], {
      routingKey: 'e',
      declare: [new Queue('e')],
      headers,
      priority: 1,
      correlationId: 'batch',
      each: [{ headers: { own: 'a' }, correlationId: 'a' }, undefined, { priority: 7, messageId: 'm-c' }],
    })
    const b = memory.broker('each')
    const got = [1, 2, 3].map(() => b.get('e', { noAck: true })!.message)
    expect(got.map((m) => m.headers)).toEqual([{ shared: 1, own: 'a' }, { shared: 1 }, { shared: 1 }])
    expect(got[1]!.headers).not.toBe(headers)
    expect(got[1]!.headers).not.toBe(got[2]!.headers)
    expect(
      got.map((m) => [m.properties.correlationId, m.properties.priority, m.properties.messageId]),
    ).toEqual([
      ['a', 1, undefined],
      ['batch', 1, undefined],
      ['batch', 7, 'm-c'],
    ])
  })

  it('falls back to one publish per message on channels without publishMany', async () => {
    const { conn, memory } = setup('fallback')
    const { channel, calls } = wrap(await conn.channel(), { hideMany: true })
    const producer = new Producer(conn, { channel })
    await producer.publishMany([1, 2, 3], { routingKey: 'f', declare: [new Queue('f')] })
    expect(calls.publish).toBe(3)
    expect(bodies(memory, 'fallback', 'f')).toEqual([1, 2, 3])
  })

  it('publishes to an exchange given as an object, declared once', async () => {
    const { conn, memory } = setup('exchange')
    const { channel, calls } = wrap(await conn.channel())
    const ex = new Exchange('ex', { type: 'direct' })
    const queue = new Queue('bound', { exchange: ex, routingKey: 'k' })
    const producer = new Producer(conn, { channel })
    await producer.publishMany([['x'], ['y']], { exchange: ex, routingKey: 'k', declare: [queue] })
    await producer.publishMany([['z']], { exchange: ex, routingKey: 'k', declare: [queue] })
    expect(bodies(memory, 'exchange', 'bound')).toEqual([['x'], ['y'], ['z']])
    expect(calls.declareExchange).toBe(2) // the queue's binding, and the exchange itself: once each
  })

  it('rejects (never throws) on bad input, before sending anything', async () => {
    const { conn } = setup('bad')
    const { channel, calls } = wrap(await conn.channel())
    const producer = new Producer(conn, { channel })
    await expect(producer.publishMany([1, 2], { each: [{}] })).rejects.toBeInstanceOf(InvalidOptionError)
    await expect(producer.publishMany([1], { priority: 300 })).rejects.toBeInstanceOf(InvalidOptionError)
    await expect(producer.publishMany([])).resolves.toBeUndefined()
    expect(calls.publishMany).toBeUndefined()
  })

  it('with retry, sends the batch again after a connection error', async () => {
    const { conn, memory } = setup('retry-many')
    const real = await conn.channel()
    await real.declareQueue(new Queue('r'))
    const failures = { n: 0 }
    const { channel, calls } = wrap(real, { failures })
    const producer = new Producer(conn, { channel })
    await producer.publishMany([0], { routingKey: 'r' }) // the channel is known from now on
    failures.n = 1
    await producer.publishMany([1, 2], {
      routingKey: 'r',
      retry: true,
      retryPolicy: { intervalStart: 0, maxRetries: 1 },
    })
    expect(calls.publishMany).toBe(3)
    expect(bodies(memory, 'retry-many', 'r')).toEqual([0, 1, 2])
  })
})

describe('Producer.publish: the direct path', () => {
  it('once declared, publishes without declaring again, and synchronously reaches the channel', async () => {
    const { conn, memory } = setup('direct')
    const { channel, calls } = wrap(await conn.channel())
    const producer = new Producer(conn, { channel })
    const queue = new Queue('d')
    await producer.publish(1, { routingKey: 'd', declare: [queue] })
    const sent = producer.publish(2, { routingKey: 'd', declare: [queue] })
    // Reached the channel before any microtask ran.
    expect(calls.publish).toBe(2)
    await sent
    expect(calls.declareQueue).toBe(1)
    expect(bodies(memory, 'direct', 'd')).toEqual([1, 2])
  })

  it('declares again on a new channel after the old one closed', async () => {
    const { conn } = setup('reopen')
    const producer = new Producer(conn, { exchange: new Exchange('px', { type: 'direct' }) })
    await producer.publish('a', { routingKey: 'x' })
    const first = await conn.defaultChannel()
    await first.close()
    await producer.publish('b', { routingKey: 'x' })
    expect(await conn.defaultChannel()).not.toBe(first)
  })

  it('keeps the retry count of ensure when the direct attempt fails', async () => {
    const { conn } = setup('retry-count')
    const real = await conn.channel()
    await real.declareQueue(new Queue('rc'))
    const failures = { n: 0 }
    const { channel, calls } = wrap(real, { failures })
    const producer = new Producer(conn, { channel })
    await producer.publish(0, { routingKey: 'rc' })
    failures.n = 10
    await expect(
      producer.publish(1, {
        routingKey: 'rc',
        retry: true,
        retryPolicy: { intervalStart: 0, maxRetries: 2 },
      }),
    ).rejects.toBeInstanceOf(ConnectionError)
    expect(calls.publish).toBe(1 + 3) // the first publish, then one attempt and two retries
  })
})
