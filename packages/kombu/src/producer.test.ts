import { inflateSync } from 'node:zlib'
import { afterEach, describe, expect, it } from 'vitest'
import { Connection } from './connection.js'
import { ConnectionError, EncodeError, InvalidOptionError, UnroutableError } from './errors.js'
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

function setup(name = 'p'): { conn: Connection; memory: MemoryTransport } {
  const memory = createMemoryTransport()
  const conn = new Connection(`memory://${name}`, { transport: memory, logger: silent })
  open.push(conn)
  return { conn, memory }
}

/** A real channel that counts the calls made through it. */
function counting(channel: Channel): { channel: Channel; calls: Record<string, number> } {
  const calls: Record<string, number> = {}
  const proxy = new Proxy(channel, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver)
      if (typeof value !== 'function' || typeof prop !== 'string') return value
      return (...args: unknown[]) => {
        calls[prop] = (calls[prop] ?? 0) + 1
        return (value as (...a: unknown[]) => unknown).apply(target, args)
      }
    },
  })
  return { channel: proxy, calls }
}

describe('Producer.prepare: bodies', () => {
  const { conn } = setup()
  const producer = new Producer(conn)

  it('serializes objects as JSON, application/json utf-8', () => {
    const m = producer.prepare({ a: 1, b: [true, null] })
    expect(m.contentType).toBe('application/json')
    expect(m.contentEncoding).toBe('utf-8')
    expect(JSON.parse(m.body.toString('utf8'))).toEqual({ a: 1, b: [true, null] })
  })

  it('sends a Buffer as it is, application/data binary', () => {
    const body = Buffer.from([0, 1, 2, 255])
    const m = producer.prepare(body)
    expect(m.contentType).toBe('application/data')
    expect(m.contentEncoding).toBe('binary')
    expect(m.body.equals(body)).toBe(true)
  })

  it('sends a string as text/plain utf-8', () => {
    const m = producer.prepare('héllo')
    expect(m.contentType).toBe('text/plain')
    expect(m.contentEncoding).toBe('utf-8')
    expect(m.body.toString('utf8')).toBe('héllo')
  })

  it("uses the named serializer: 'msgpack'", () => {
    const m = producer.prepare({ a: 1 }, { serializer: 'msgpack' })
    expect(m.contentType).toBe('application/x-msgpack')
    expect(m.contentEncoding).toBe('binary')
    expect(conn.serializers.decode(m.body, m.contentType, m.contentEncoding)).toEqual({ a: 1 })
  })

  it("uses the producer's serializer unless the publish names one", () => {
    const p = new Producer(conn, { serializer: 'msgpack' })
    expect(p.serializer).toBe('msgpack')
    expect(p.prepare({ a: 1 }).contentType).toBe('application/x-msgpack')
    expect(p.prepare({ a: 1 }, { serializer: 'json' }).contentType).toBe('application/json')
    expect(p.prepare('s', { serializer: 'json' }).body.toString()).toBe('"s"')
  })

  it('rejects an unknown serializer with EncodeError', () => {
    expect(() => producer.prepare({}, { serializer: 'pickle' })).toThrow(EncodeError)
  })

  it('skips serialization when contentType is given', () => {
    const buf = Buffer.from('{"already": "encoded"}')
    const m = producer.prepare(buf, { contentType: 'application/json' })
    expect(m.contentType).toBe('application/json')
    expect(m.contentEncoding).toBe('binary')
    expect(m.body.equals(buf)).toBe(true)

    const s = producer.prepare('<a/>', { contentType: 'application/xml' })
    expect(s.contentType).toBe('application/xml')
    expect(s.contentEncoding).toBe('utf-8')
    expect(s.body.toString()).toBe('<a/>')

    const e = producer.prepare(buf, { contentType: 'application/x-custom', contentEncoding: 'latin-1' })
    expect(e.contentEncoding).toBe('latin-1')
    expect(producer.prepare(new Uint8Array([1, 2]), { contentType: 'x/y' }).body).toEqual(Buffer.from([1, 2]))
  })

  it('needs an encoded body when contentType is given', () => {
    expect(() => producer.prepare({ a: 1 }, { contentType: 'application/json' })).toThrow(EncodeError)
  })
})

describe('Producer.prepare: compression', () => {
  const { conn } = setup()
  const producer = new Producer(conn)

  it.each(['gzip', 'zlib'])(
    "'%s' sets headers.compression and sends a zlib stream, as Kombu",
    (compression) => {
      const plain = producer.prepare({ hello: 'world' })
      const m = producer.prepare({ hello: 'world' }, { compression })
      expect(m.headers.compression).toBe('application/x-gzip')
      expect(m.contentType).toBe('application/json')
      expect(m.body[0]).toBe(0x78) // zlib header (RFC 1950), not a gzip file
      expect(inflateSync(m.body).equals(plain.body)).toBe(true)
    },
  )

  it("uses the producer's compression by default", () => {
    const p = new Producer(conn, { compression: 'gzip' })
    expect(p.prepare('x').headers.compression).toBe('application/x-gzip')
    expect(p.prepare('x', { compression: '' }).headers).not.toHaveProperty('compression')
  })

  it("does not change the caller's headers", () => {
    const headers = { task: 'add' }
    const m = producer.prepare({}, { headers, compression: 'gzip' })
    expect(m.headers).toEqual({ task: 'add', compression: 'application/x-gzip' })
    expect(headers).toEqual({ task: 'add' })
    expect(m.headers).not.toBe(headers)
  })

  it('rejects an unknown compression', () => {
    expect(() => producer.prepare({}, { compression: 'lz4' })).toThrow(EncodeError)
  })
})

describe('Producer.prepare: properties', () => {
  const { conn } = setup()
  const producer = new Producer(conn)

  it('is persistent (2) by default', () => {
    expect(producer.prepare({}).properties).toEqual({ deliveryMode: 2 })
  })

  it.each([
    ['transient', 1],
    ['persistent', 2],
    [1, 1],
    [2, 2],
  ] as const)('deliveryMode %s -> %s', (mode, expected) => {
    expect(producer.prepare({}, { deliveryMode: mode }).properties.deliveryMode).toBe(expected)
  })

  it('rejects another deliveryMode', () => {
    expect(() => producer.prepare({}, { deliveryMode: 3 as never })).toThrow(InvalidOptionError)
    expect(() => producer.prepare({}, { deliveryMode: 'durable' as never })).toThrow(
      /'persistent', 'transient', 1 or 2/,
    )
  })

  it("takes the producer exchange's delivery mode unless the publish sets one", () => {
    const p = new Producer(conn, { exchange: new Exchange('tx', { deliveryMode: 1 }) })
    expect(p.prepare({}).properties.deliveryMode).toBe(1)
    expect(p.prepare({}, { deliveryMode: 'persistent' }).properties.deliveryMode).toBe(2)
    // A name inherits the producer exchange's mode (Kombu's _delivery_details).
    expect(p.prepare({}, { exchange: 'other' }).properties.deliveryMode).toBe(1)
  })

  it("takes the delivery mode of an Exchange given to the publish (Kombu's _delivery_details)", () => {
    const transient = new Exchange('events', { deliveryMode: 1 })
    expect(producer.prepare({}, { exchange: transient }).properties.deliveryMode).toBe(1)
    const p = new Producer(conn, { exchange: new Exchange('tx', { deliveryMode: 1 }) })
    expect(p.prepare({}, { exchange: new Exchange('plain') }).properties.deliveryMode).toBe(2)
  })

  it('checks the priority: an integer in 0..255', () => {
    expect(producer.prepare({}, { priority: 0 }).properties.priority).toBe(0)
    expect(producer.prepare({}, { priority: 255 }).properties.priority).toBe(255)
    for (const priority of [-1, 256, 1.5, Number.NaN]) {
      expect(() => producer.prepare({}, { priority })).toThrow(InvalidOptionError)
    }
    expect(() => producer.prepare({}, { priority: 300 })).toThrow(/priority must be an integer in 0..255/)
  })

  it('stores expiration as a string of whole milliseconds', () => {
    expect(producer.prepare({}, { expiration: 1500 }).properties.expiration).toBe('1500')
    expect(producer.prepare({}, { expiration: 0 }).properties.expiration).toBe('0')
    expect(producer.prepare({}, { expiration: 10.6 }).properties.expiration).toBe('11')
    expect(producer.prepare({}).properties).not.toHaveProperty('expiration')
  })

  it('rejects a negative or non-finite expiration', () => {
    for (const expiration of [-1, Number.NaN, Number.POSITIVE_INFINITY, '100' as unknown as number]) {
      expect(() => producer.prepare({}, { expiration })).toThrow(InvalidOptionError)
    }
  })

  it('carries the AMQP properties and any extra ones', () => {
    const m = producer.prepare(
      {},
      {
        correlationId: 'c1',
        replyTo: 'replies',
        messageId: 'm1',
        type: 'task',
        appId: 'app',
        userId: 'guest',
        timestamp: 1_700_000_000,
        properties: { MessageGroupId: 'g1', deliveryMode: 1 },
        headers: { id: 'm1', task: 'proj.add' },
      },
    )
    expect(m.properties).toEqual({
      MessageGroupId: 'g1',
      deliveryMode: 2,
      correlationId: 'c1',
      replyTo: 'replies',
      messageId: 'm1',
      type: 'task',
      appId: 'app',
      userId: 'guest',
      timestamp: 1_700_000_000,
    })
    expect(m.headers).toEqual({ id: 'm1', task: 'proj.add' })
  })
})

describe('Producer.publish', () => {
  it('publishes through the default exchange by queue name', async () => {
    const { conn } = setup()
    const channel = await conn.channel()
    await channel.declareQueue(new Queue('jobs'))
    await new Producer(conn).publish({ n: 1 }, { routingKey: 'jobs', headers: { h: 1 }, priority: 3 })
    const d = await channel.get('jobs', { noAck: true })
    expect(d).not.toBeNull()
    expect(JSON.parse(d!.body.toString())).toEqual({ n: 1 })
    expect(d!.headers).toEqual({ h: 1 })
    expect(d!.properties).toMatchObject({ deliveryMode: 2, priority: 3 })
    expect(d!.deliveryInfo).toMatchObject({ exchange: '', routingKey: 'jobs' })
  })

  it("uses the producer's exchange and routing key unless the publish gives others", async () => {
    const { conn } = setup()
    const channel = await conn.channel()
    const ex = new Exchange('logs', { type: 'direct' })
    await channel.declareExchange(ex)
    await channel.declareQueue(new Queue('info'))
    await channel.declareQueue(new Queue('error'))
    await channel.bindQueue('info', 'logs', 'info')
    await channel.bindQueue('error', 'logs', 'error')
    const producer = new Producer(conn, { exchange: ex, routingKey: 'info' })
    expect(producer.routingKey).toBe('info')
    await producer.publish('a')
    await producer.publish('b', { routingKey: 'error' })
    expect((await channel.get('info', { noAck: true }))?.body.toString()).toBe('a')
    expect((await channel.get('error', { noAck: true }))?.body.toString()).toBe('b')
  })

  it('declares the producer exchange once per connection (autoDeclare)', async () => {
    const { conn, memory } = setup('auto')
    const { channel, calls } = counting(await conn.channel())
    const producer = new Producer(conn, { exchange: new Exchange('auto-ex', { type: 'topic' }), channel })
    await producer.publish('1')
    await producer.publish('2')
    expect(calls.declareExchange).toBe(1)
    expect(calls.publish).toBe(2)
    expect(memory.broker('auto').exchanges.get('auto-ex')?.type).toBe('topic')
  })

  it('does not declare with autoDeclare: false', async () => {
    const { conn, memory } = setup('noauto')
    const { channel, calls } = counting(await conn.channel())
    await new Producer(conn, { exchange: 'manual-ex', channel, autoDeclare: false }).publish('1')
    expect(calls.declareExchange).toBeUndefined()
    expect(memory.broker('noauto').exchanges.has('manual-ex')).toBe(false)
  })

  it('declares the `declare` entities once per connection, queue with its exchange and binding', async () => {
    const { conn, memory } = setup('decl')
    const { channel, calls } = counting(await conn.channel())
    const ex = new Exchange('decl-ex', { type: 'topic' })
    const queue = new Queue('decl-q', { exchange: ex, routingKey: 'a.#' })
    const producer = new Producer(conn, { channel })
    for (let i = 0; i < 3; i++)
      await producer.publish({ i }, { exchange: 'decl-ex', routingKey: 'a.b', declare: [queue] })
    expect(calls.declareExchange).toBe(1)
    expect(calls.declareQueue).toBe(1)
    expect(calls.bindQueue).toBe(1)
    expect(calls.publish).toBe(3)
    const broker = memory.broker('decl')
    expect(broker.size('decl-q')).toBe(3)
    expect(broker.bindings.rows('decl-ex')).toEqual([
      { queue: 'decl-q', exchange: 'decl-ex', routingKey: 'a.#', pattern: String.raw`^a\..*?$` },
    ])
    // A second producer on the same connection shares the record.
    await new Producer(conn, { channel }).publish('x', { routingKey: 'decl-q', declare: [queue] })
    expect(calls.declareQueue).toBe(1)
    // An equal but distinct Queue object counts as the same entity.
    await producer.publish('y', {
      routingKey: 'decl-q',
      declare: [new Queue('decl-q', { exchange: ex, routingKey: 'a.#' })],
    })
    expect(calls.declareQueue).toBe(1)
    // A queue that differs is declared.
    await producer.publish('z', { routingKey: 'decl-q2', declare: [new Queue('decl-q2')] })
    expect(calls.declareQueue).toBe(2)
  })

  it('declares again on another connection', async () => {
    const memory = createMemoryTransport()
    const queue = new Queue('per-conn')
    const counts: number[] = []
    for (let i = 0; i < 2; i++) {
      const conn = new Connection('memory://per', { transport: memory, logger: silent })
      open.push(conn)
      const { channel, calls } = counting(await conn.channel())
      const producer = new Producer(conn, { channel })
      await producer.publish('x', { routingKey: 'per-conn', declare: [queue] })
      await producer.publish('y', { routingKey: 'per-conn', declare: [queue] })
      counts.push(calls.declareQueue ?? 0)
    }
    expect(counts).toEqual([1, 1])
  })

  it('always declares a server-named queue', async () => {
    const { conn } = setup()
    const { channel, calls } = counting(await conn.channel())
    const producer = new Producer(conn, { channel })
    await producer.publish('x', { routingKey: 'nowhere', declare: [new Queue('', { exclusive: true })] })
    await producer.publish('x', { routingKey: 'nowhere', declare: [new Queue('', { exclusive: true })] })
    expect(calls.declareQueue).toBe(2)
  })

  it('declares an Exchange given to the publish, not a name', async () => {
    const { conn, memory } = setup('pubex')
    const producer = new Producer(conn)
    await producer.publish('x', { exchange: new Exchange('given', { type: 'fanout' }) })
    await producer.publish('x', { exchange: 'by-name' })
    const broker = memory.broker('pubex')
    expect(broker.exchanges.get('given')?.type).toBe('fanout')
    expect(broker.exchanges.has('by-name')).toBe(false)
  })

  it('rejects an unroutable mandatory message with UnroutableError', async () => {
    const { conn } = setup()
    const producer = new Producer(conn)
    await expect(producer.publish('x', { routingKey: 'no-such-queue' })).resolves.toBeUndefined()
    await expect(
      producer.publish('x', { routingKey: 'no-such-queue', mandatory: true }),
    ).rejects.toBeInstanceOf(UnroutableError)
  })

  it('fails before sending when the message cannot be prepared', async () => {
    const { conn } = setup()
    const { channel, calls } = counting(await conn.channel())
    const producer = new Producer(conn, { channel })
    await expect(producer.publish({}, { priority: 999 })).rejects.toBeInstanceOf(InvalidOptionError)
    expect(calls.publish).toBeUndefined()
  })

  it('with retry, publishes again after a connection error, without encoding twice', async () => {
    const { conn, memory } = setup('retry')
    const real = await conn.channel()
    await real.declareQueue(new Queue('rq'))
    let failures = 1
    const flaky = new Proxy(real, {
      get(target, prop, receiver) {
        if (prop === 'publish') {
          return (...args: Parameters<Channel['publish']>) => {
            if (failures-- > 0) return Promise.reject(new ConnectionError('socket closed'))
            return target.publish(...args)
          }
        }
        const value = Reflect.get(target, prop, receiver)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    const producer = new Producer(conn, { channel: flaky })
    await producer.publish(
      { a: 1 },
      { routingKey: 'rq', retry: true, retryPolicy: { intervalStart: 0, maxRetries: 2 } },
    )
    expect(memory.broker('retry').size('rq')).toBe(1)

    failures = 1
    await expect(producer.publish({ a: 2 }, { routingKey: 'rq' })).rejects.toBeInstanceOf(ConnectionError)
    expect(memory.broker('retry').size('rq')).toBe(1)
  })

  it('holds no resources: close and asyncDispose resolve', async () => {
    const { conn } = setup()
    const producer = new Producer(conn)
    await expect(producer.close()).resolves.toBeUndefined()
    await expect(producer[Symbol.asyncDispose]()).resolves.toBeUndefined()
  })
})

describe('Producer.publish: delayed delivery', () => {
  it('deliverAt delays until an absolute time, as delay does from now', async () => {
    const { conn, memory } = setup('deliver-at')
    const producer = new Producer(conn)
    const queue = new Queue('later')
    await producer.publish('soon', {
      routingKey: 'later',
      declare: [queue],
      deliverAt: new Date(Date.now() + 150),
    })
    const broker = memory.broker('deliver-at')
    expect(broker.size('later')).toBe(0)
    const t0 = Date.now()
    while (broker.size('later') === 0) {
      if (Date.now() - t0 > 2000) throw new Error('never delivered')
      await new Promise((r) => setTimeout(r, 10))
    }
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100)
  })
})
