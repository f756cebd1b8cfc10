import { afterEach, describe, expect, it, vi } from 'vitest'
import { Connection } from './connection.js'
import { Consumer } from './consumer.js'
import { ContentDisallowedError, DecodeError, InvalidOptionError, QError } from './errors.js'
import type { Message } from './message.js'
import { Producer } from './producer.js'
import { Queue } from './queue.js'
import { createMemoryTransport, type MemoryBroker } from './transports/memory.js'
import type { Logger } from './types.js'

const open: Connection[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()))
})

function quietLogger() {
  return { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() } satisfies Logger
}

function setup() {
  const memory = createMemoryTransport()
  const logger = quietLogger()
  const conn = new Connection('memory://c', { transport: memory, logger })
  open.push(conn)
  const broker: MemoryBroker = memory.broker('c')
  const producer = new Producer(conn)
  return { conn, broker, logger, producer }
}

async function until(predicate: () => boolean, timeout = 2000): Promise<void> {
  const end = Date.now() + timeout
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeout} ms`)
    await new Promise((r) => setTimeout(r, 2))
  }
}

/** Lets pending deliveries and handlers run. */
const settle = () => new Promise((r) => setTimeout(r, 20))

function deferred<T = void>() {
  let resolve!: (value: T) => void
  let reject!: (err: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

describe('Consumer: construction', () => {
  it('takes a queue name as a durable queue of that name', () => {
    const { conn } = setup()
    const c = new Consumer(conn, { queues: 'tasks' })
    expect(c.queues).toHaveLength(1)
    expect(c.queues[0]).toBeInstanceOf(Queue)
    expect(c.queues[0]!.name).toBe('tasks')
    expect(c.queues[0]!.durable).toBe(true)
    const q = new Queue('x')
    expect(new Consumer(conn, { queues: [q, 'y'] }).queues.map((x) => x.name)).toEqual(['x', 'y'])
    expect(new Consumer(conn, { queues: q }).queues[0]).toBe(q)
  })

  it('needs at least one queue', () => {
    const { conn } = setup()
    expect(() => new Consumer(conn, { queues: [] })).toThrow(InvalidOptionError)
  })

  it.each([-1, 1.5, Number.NaN, '3'])('rejects prefetchCount %s', (prefetchCount) => {
    const { conn } = setup()
    const make = () => new Consumer(conn, { queues: 'q', prefetchCount: prefetchCount as number })
    expect(make).toThrow(InvalidOptionError)
    expect(make).toThrow(/prefetchCount must be an integer >= 0/)
  })

  it("rejects an unknown name in `accept`, with 'did you mean'", () => {
    const { conn } = setup()
    const make = () => new Consumer(conn, { queues: 'q', accept: ['jsno'] })
    expect(make).toThrow(InvalidOptionError)
    expect(make).toThrow(/did you mean 'json'/)
    expect(() => new Consumer(conn, { queues: 'q', accept: ['pickle'] })).toThrow(InvalidOptionError)
    expect(() => new Consumer(conn, { queues: 'q', accept: ['json', 'application/x-custom'] })).not.toThrow()
  })

  it('is not tracked by the connection when construction fails', async () => {
    const { conn } = setup()
    const track = vi.spyOn(conn, 'track')
    expect(() => new Consumer(conn, { queues: 'q', prefetchCount: -1 })).toThrow()
    expect(track).not.toHaveBeenCalled()
  })
})

describe('Consumer: delivery', () => {
  it('calls onMessage then the callbacks, in order, with (body, message)', async () => {
    const { conn, producer } = setup()
    const calls: Array<[string, unknown, Message]> = []
    const consumer = new Consumer(conn, {
      queues: 'order',
      onMessage: (body, message) => {
        calls.push(['onMessage', body, message])
      },
      callbacks: [
        (body, message) => {
          calls.push(['first', body, message])
        },
        (body, message) => {
          calls.push(['second', body, message])
          return message.ack()
        },
      ],
    })
    await consumer.consume()
    await producer.publish({ n: 1 }, { routingKey: 'order' })
    await producer.publish({ n: 2 }, { routingKey: 'order' })
    await until(() => calls.length === 6)
    expect(calls.map(([name, body]) => [name, body])).toEqual([
      ['onMessage', { n: 1 }],
      ['first', { n: 1 }],
      ['second', { n: 1 }],
      ['onMessage', { n: 2 }],
      ['first', { n: 2 }],
      ['second', { n: 2 }],
    ])
    // Every handler of one delivery gets the same Message.
    expect(calls[0]![2]).toBe(calls[1]![2])
    expect(calls[0]![2]).toBe(calls[2]![2])
    const message = calls[0]![2]
    expect(message.body).toEqual({ n: 1 })
    expect(message.contentType).toBe('application/json')
    expect(message.deliveryInfo).toMatchObject({
      exchange: '',
      routingKey: 'order',
      queue: 'order',
      redelivered: false,
    })
    await until(() => message.state === 'ACK')
  })

  it('declares its queues, exchanges and bindings before consuming', async () => {
    const { conn, broker } = setup()
    const queue = new Queue('bound', { exchange: 'cex', routingKey: 'k' })
    await new Consumer(conn, { queues: queue }).consume()
    expect(broker.hasQueue('bound')).toBe(true)
    expect(broker.exchanges.has('cex')).toBe(true)
    expect(broker.bindings.rows('cex').map((r) => [r.queue, r.routingKey])).toEqual([['bound', 'k']])
  })

  it('does not declare with autoDeclare: false', async () => {
    const { conn, broker } = setup()
    await new Consumer(conn, { queues: 'undeclared', autoDeclare: false }).consume()
    expect(broker.hasQueue('undeclared')).toBe(false)
  })

  it('consumes from several queues', async () => {
    const { conn, producer } = setup()
    const got: unknown[] = []
    await new Consumer(conn, {
      queues: ['qa', 'qb'],
      onMessage: (body, m) => {
        got.push(body)
        return m.ack()
      },
    }).consume()
    await producer.publish('a', { routingKey: 'qa' })
    await producer.publish('b', { routingKey: 'qb' })
    await until(() => got.length === 2)
    expect(got.sort()).toEqual(['a', 'b'])
  })

  it('rejects a message whose async handler fails, through the default onError, and logs it', async () => {
    const { conn, broker, logger, producer } = setup()
    const seen: Message[] = []
    await new Consumer(conn, {
      queues: 'fail-async',
      onMessage: async (_body, message) => {
        seen.push(message)
        throw new Error('handler blew up')
      },
    }).consume()
    await producer.publish('x', { routingKey: 'fail-async' })
    await until(() => seen[0]?.state === 'REJECTED')
    expect(logger.error).toHaveBeenCalledWith(expect.stringContaining('handler failed'), expect.any(Error))
    await settle()
    // Rejected without requeue: gone, not redelivered.
    expect(seen).toHaveLength(1)
    expect(broker.size('fail-async')).toBe(0)
  })

  it('calls onError with (error, message) for async and sync failures, and leaves settling to it', async () => {
    const { conn, producer } = setup()
    const onError = vi.fn()
    const boom = new Error('async boom')
    const sync = new Error('sync boom')
    await new Consumer(conn, {
      queues: 'fail-custom',
      onMessage: (body) => {
        if (body === 'sync') throw sync
        return Promise.reject(boom)
      },
      onError,
    }).consume()
    await producer.publish('async', { routingKey: 'fail-custom' })
    await producer.publish('sync', { routingKey: 'fail-custom' })
    await until(() => onError.mock.calls.length === 2)
    const [[e1, m1], [e2, m2]] = onError.mock.calls as [[unknown, Message], [unknown, Message]]
    expect([e1, e2]).toEqual(expect.arrayContaining([boom, sync]))
    expect(m1.state).toBe('RECEIVED')
    expect(m2.state).toBe('RECEIVED')
  })

  it('does not reject a message the failing handler already settled', async () => {
    const { conn, logger, producer } = setup()
    const seen: Message[] = []
    await new Consumer(conn, {
      queues: 'settled-then-fail',
      onMessage: async (_body, message) => {
        seen.push(message)
        await message.ack()
        throw new Error('after ack')
      },
    }).consume()
    await producer.publish('x', { routingKey: 'settled-then-fail' })
    await until(() => logger.error.mock.calls.length > 0)
    await settle()
    expect(seen[0]!.state).toBe('ACK')
    // No MessageStateError from a second settlement was reported.
    expect(logger.error).toHaveBeenCalledTimes(1)
  })

  it('by default, rejects a message that does not decode and goes on', async () => {
    const { conn, broker, logger, producer } = setup()
    const got: unknown[] = []
    await new Consumer(conn, {
      queues: 'decode',
      onMessage: (body, m) => {
        got.push(body)
        return m.ack()
      },
    }).consume()
    await producer.publish('{not json', { routingKey: 'decode', contentType: 'application/json' })
    await producer.publish({ ok: true }, { routingKey: 'decode' })
    await until(() => got.length === 1)
    expect(got).toEqual([{ ok: true }])
    expect(logger.error).toHaveBeenCalledWith(
      expect.stringMatching(/cannot decode message \d+ \(content type application\/json\)/),
    )
    await settle()
    expect(broker.size('decode')).toBe(0)
  })

  it('calls onDecodeError with the raw message and the error', async () => {
    const { conn, producer } = setup()
    const onDecodeError = vi.fn((message: Message<Buffer>) => message.reject())
    const onMessage = vi.fn()
    const consumer = new Consumer(conn, { queues: 'decode2', onMessage, onDecodeError })
    await consumer.consume()
    const truncated = Buffer.from('93920203', 'hex')
    await producer.publish(truncated, { routingKey: 'decode2', contentType: 'application/x-msgpack' })
    await until(() => onDecodeError.mock.calls.length > 0)
    const [message, error] = onDecodeError.mock.calls[0]! as unknown as [Message<Buffer>, Error]
    expect(error).toBeInstanceOf(DecodeError)
    expect(message.body.equals(truncated)).toBe(true)
    expect(message.rawBody).toBe(message.body)
    expect(message.contentType).toBe('application/x-msgpack')
    await until(() => message.state === 'REJECTED')
    expect(onMessage).not.toHaveBeenCalled()
  })

  it('refuses content types outside `accept` through onDecodeError', async () => {
    const { conn, producer } = setup()
    const onDecodeError = vi.fn((message: Message<Buffer>, _error: unknown) => message.reject())
    const got: unknown[] = []
    await new Consumer(conn, {
      queues: 'accept',
      accept: ['json'],
      onMessage: (body, m) => {
        got.push(body)
        return m.ack()
      },
      onDecodeError,
    }).consume()
    await producer.publish({ a: 1 }, { routingKey: 'accept', serializer: 'msgpack' })
    await producer.publish({ a: 2 }, { routingKey: 'accept' })
    await producer.publish('plain text is always trusted', { routingKey: 'accept' })
    await until(() => got.length === 2)
    expect(onDecodeError).toHaveBeenCalledOnce()
    expect(onDecodeError.mock.calls[0]![1]).toBeInstanceOf(ContentDisallowedError)
    expect(got).toEqual([{ a: 2 }, 'plain text is always trusted'])
  })

  it('decompresses bodies sent with compression', async () => {
    const { conn, producer } = setup()
    const got: unknown[] = []
    await new Consumer(conn, {
      queues: 'gz',
      onMessage: (body, m) => {
        got.push(body)
        return m.ack()
      },
    }).consume()
    await producer.publish({ big: 'x'.repeat(1000) }, { routingKey: 'gz', compression: 'gzip' })
    await until(() => got.length === 1)
    expect(got[0]).toEqual({ big: 'x'.repeat(1000) })
  })

  it('with noAck, messages need no settling and leave the queue', async () => {
    const { conn, broker, producer } = setup()
    const got: Message[] = []
    const consumer = new Consumer(conn, {
      queues: 'noack',
      noAck: true,
      onMessage: (_b, m) => void got.push(m),
    })
    await consumer.consume()
    await producer.publish('x', { routingKey: 'noack' })
    await until(() => got.length === 1)
    await consumer.close()
    expect(broker.size('noack')).toBe(0)
  })

  it('keeps to prefetchCount', async () => {
    const { conn, producer } = setup()
    const held: Message[] = []
    const consumer = new Consumer(conn, {
      queues: 'prefetch',
      prefetchCount: 2,
      onMessage: (_b, m) => void held.push(m),
    })
    await consumer.consume()
    for (let i = 0; i < 5; i++) await producer.publish(i, { routingKey: 'prefetch' })
    await until(() => held.length === 2)
    await settle()
    expect(held.map((m) => m.body)).toEqual([0, 1])
    await held[0]!.ack()
    await until(() => held.length === 3)
    await settle()
    expect(held).toHaveLength(3)
    await consumer.qos({ prefetchCount: 0 })
    await until(() => held.length === 5)
    expect(held.map((m) => m.body)).toEqual([0, 1, 2, 3, 4])
  })

  it('qos() refuses a negative or fractional prefetch', async () => {
    const { conn } = setup()
    const consumer = new Consumer(conn, { queues: 'qos-check' })
    await expect(consumer.qos({ prefetchCount: -1 })).rejects.toBeInstanceOf(InvalidOptionError)
    await expect(consumer.qos({ prefetchCount: 1.5 })).rejects.toThrow(/prefetchCount must be an integer/)
  })

  it('cancel() stops deliveries; the rest stays in the queue', async () => {
    const { conn, broker, producer } = setup()
    const got: unknown[] = []
    const consumer = new Consumer(conn, {
      queues: 'cancel',
      onMessage: (body, m) => {
        got.push(body)
        return m.ack()
      },
    })
    await consumer.consume()
    await producer.publish(1, { routingKey: 'cancel' })
    await until(() => got.length === 1)
    await consumer.cancel()
    await producer.publish(2, { routingKey: 'cancel' })
    await settle()
    expect(got).toEqual([1])
    expect(broker.size('cancel')).toBe(1)
    // consume() again resumes.
    await consumer.consume()
    await until(() => got.length === 2)
    expect(got).toEqual([1, 2])
  })

  it('recover() redelivers the unacknowledged messages', async () => {
    const { conn, producer } = setup()
    const got: Array<[unknown, boolean]> = []
    const consumer = new Consumer(conn, {
      queues: 'recover',
      onMessage: (body, m) => {
        got.push([body, m.redelivered])
        if (m.redelivered) return m.ack()
      },
    })
    await consumer.consume()
    await producer.publish('a', { routingKey: 'recover' })
    await until(() => got.length === 1)
    await consumer.recover()
    await until(() => got.length === 2)
    expect(got).toEqual([
      ['a', false],
      ['a', true],
    ])
  })
})

describe('Consumer: shutdown', () => {
  it('drain() waits for in-flight async handlers, then closes', async () => {
    const { conn, broker, producer } = setup()
    const gate = deferred()
    const started: Message[] = []
    const consumer = new Consumer(conn, {
      queues: 'drain',
      onMessage: async (_body, message) => {
        started.push(message)
        await gate.promise
        await message.ack()
      },
    })
    await consumer.consume()
    await producer.publish('x', { routingKey: 'drain' })
    await until(() => started.length === 1)
    expect(consumer.inFlight).toBe(1)

    let drained = false
    const draining = consumer.drain().then(() => {
      drained = true
    })
    await settle()
    expect(drained).toBe(false)
    // No new deliveries while draining.
    await producer.publish('y', { routingKey: 'drain' })
    await settle()
    expect(started).toHaveLength(1)

    gate.resolve()
    await draining
    expect(drained).toBe(true)
    expect(consumer.inFlight).toBe(0)
    expect(started[0]!.state).toBe('ACK')
    // The acked message is gone; the undelivered one waits.
    expect(broker.size('drain')).toBe(1)
    expect(consumer.drain()).toBe(consumer.close())
  })

  it('close() stops at once and puts unacknowledged messages back', async () => {
    const { conn, broker, producer } = setup()
    const gate = deferred()
    const started: Message[] = []
    const consumer = new Consumer(conn, {
      queues: 'close',
      onMessage: async (_body, message) => {
        started.push(message)
        await gate.promise
      },
    })
    await consumer.consume()
    await producer.publish('x', { routingKey: 'close' })
    await until(() => started.length === 1)
    await consumer.close()
    expect(broker.size('close')).toBe(1)
    gate.resolve()
    await expect(consumer.consume()).rejects.toBeInstanceOf(QError)
  })

  it('is closed with its connection', async () => {
    const { conn, broker, producer } = setup()
    const started: Message[] = []
    const consumer = new Consumer(conn, { queues: 'with-conn', onMessage: (_b, m) => void started.push(m) })
    await consumer.consume()
    await producer.publish('x', { routingKey: 'with-conn' })
    await until(() => started.length === 1)
    await conn.close()
    expect(broker.size('with-conn')).toBe(1)
    await expect(consumer.close()).resolves.toBeUndefined()
  })

  it('works with `await using`', async () => {
    const { conn, broker, producer } = setup()
    const got: unknown[] = []
    {
      await using consumer = await new Consumer(conn, {
        queues: 'using',
        onMessage: async (body, m) => {
          await new Promise((r) => setTimeout(r, 10))
          got.push(body)
          await m.ack()
        },
      }).consume()
      await producer.publish('x', { routingKey: 'using' })
      await until(() => consumer.inFlight === 1)
    }
    expect(got).toEqual(['x'])
    expect(broker.size('using')).toBe(0)
  })
})
