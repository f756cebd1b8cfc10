import { afterEach, describe, expect, it, vi } from 'vitest'
import { Connection, type ConnectionEvents } from './connection.js'
import { Consumer } from './consumer.js'
import {
  ChannelError,
  ClosedError,
  ConfigurationError,
  ConnectionError,
  type ErrorClass,
  InvalidOptionError,
  InvalidUrlError,
  QError,
} from './errors.js'
import { Producer } from './producer.js'
import { createMemoryTransport, memoryCapabilities } from './transports/memory.js'
import type { BrokerUrl, Logger, TransportConnection, TransportContext, TransportDriver } from './types.js'

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} }

const open: Connection[] = []

/** A connection closed after the test. */
function connection(
  url?: string | string[],
  options: ConstructorParameters<typeof Connection>[1] = {},
): Connection {
  const conn = new Connection(url, { logger: silent, ...options })
  open.push(conn)
  return conn
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()))
})

const unique = () => `memory://conn-${Math.random().toString(36).slice(2)}`

async function until(predicate: () => boolean, timeout = 2000): Promise<void> {
  const end = Date.now() + timeout
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeout} ms`)
    await new Promise((r) => setTimeout(r, 2))
  }
}

type RecordedName = 'connected' | 'disconnected' | 'reconnecting' | 'error' | 'closed'
type Recorded = { [K in RecordedName]: [K, ConnectionEvents[K]] }[RecordedName]

/** Records the events of a connection, in order. */
function record(conn: Connection): Recorded[] {
  const log: Recorded[] = []
  for (const name of ['connected', 'disconnected', 'reconnecting', 'error', 'closed'] as const) {
    conn.on(name, (payload) => log.push([name, payload] as Recorded))
  }
  return log
}

function nextEvent<K extends keyof ConnectionEvents & string>(
  conn: Connection,
  name: K,
  accept: (payload: ConnectionEvents[K]) => boolean = () => true,
): Promise<ConnectionEvents[K]> {
  return new Promise((resolve) => {
    const off = conn.on(name, (payload) => {
      if (!accept(payload)) return
      off()
      resolve(payload)
    })
  })
}

/**
 * A driver in front of a memory transport whose connections the test can lose, and whose
 * connects can be made to fail: enough to exercise failover and reconnection for real.
 */
class LossyDriver implements TransportDriver {
  readonly name = 'lossy'
  readonly capabilities = memoryCapabilities
  readonly memory = createMemoryTransport()
  /** Every connect attempt, by URL. */
  readonly attempts: string[] = []
  readonly contexts: TransportContext[] = []
  /** Connections handed out, with a way to lose each. */
  readonly live: Array<{ conn: TransportConnection; lose(error?: Error): Promise<void> }> = []
  /** Fail this many connect attempts with a ConnectionError. */
  failNext = 0
  /** Hosts that always refuse. */
  readonly down = new Set<string>()

  async connect(url: BrokerUrl, context: TransportContext): Promise<TransportConnection> {
    this.attempts.push(url.href)
    this.contexts.push(context)
    if (this.down.has(url.hostname) || this.failNext > 0) {
      this.failNext = Math.max(0, this.failNext - 1)
      throw new ConnectionError(`connect ECONNREFUSED ${url.hostname}`)
    }
    const inner = await this.memory.connect(url, context)
    let resolveClosed!: (error: Error | undefined) => void
    const closed = new Promise<Error | undefined>((r) => {
      resolveClosed = r
    })
    const conn: TransportConnection = {
      createChannel: () => inner.createChannel(),
      close: async () => {
        await inner.close()
        resolveClosed(undefined)
      },
      closed: () => closed,
    }
    // Losing a connection: its channels go (unacked messages back to their queues), then it reports the error.
    this.live.push({
      conn,
      lose: async (error) => {
        await inner.close()
        resolveClosed(error)
      },
    })
    return conn
  }

  classifyError(err: unknown): ErrorClass {
    return (err as { code?: string }).code === 'ECONNRESET' ? 'connection' : 'fatal'
  }
}

const fast = { intervalStart: 1, intervalStep: 1, intervalMax: 5, factor: 1 }

describe('Connection: construction', () => {
  it('refuses failover alternates of different transports', () => {
    expect(() => connection('amqp://a//;redis://b/0')).toThrow(InvalidUrlError)
    expect(() => connection(['amqp://a//', 'redis://b/0'])).toThrow(/one transport, got amqp and redis/)
  })

  it('defaults to memory://', () => {
    const conn = connection()
    expect(conn.urls).toHaveLength(1)
    expect(conn.urls[0]!.href).toBe('memory://')
    expect(conn.url).toBe('memory://')
    expect(conn.transportName).toBe('memory')
    expect(conn.state).toBe('idle')
    expect(conn.connected).toBe(false)
  })

  it('parses every alternate of a failover list', () => {
    const conn = connection('amqp://a//;amqp://b:5673//')
    expect(conn.urls.map((u) => [u.hostname, u.port])).toEqual([
      ['a', undefined],
      ['b', 5673],
    ])
    expect(conn.transportName).toBe('amqp')
    expect(Object.isFrozen(conn.urls)).toBe(true)
    expect(connection(['redis://x/0', 'redis://y/0']).urls.map((u) => u.hostname)).toEqual(['x', 'y'])
  })

  it('masks the password in `url`', () => {
    expect(connection('amqp://user:secret@host//').url).toBe('amqp://user:**@host//')
  })

  it('rejects a bad URL at construction', () => {
    expect(() => connection('amqp://host:99999//')).toThrow(InvalidUrlError)
    expect(() => connection('localhost')).toThrow(InvalidUrlError)
  })

  it('rejects an empty URL list with a ConfigurationError', () => {
    expect(() => new Connection('')).toThrow(InvalidUrlError)
    expect(() => new Connection([])).toThrow(ConfigurationError)
    expect(() => new Connection(' ; ')).toThrow(/no broker URL/)
  })

  it("rejects an unknown option with 'did you mean'", () => {
    const make = () => new Connection('memory://', { conectTimeout: 100 } as never)
    expect(make).toThrow(InvalidOptionError)
    expect(make).toThrow("Unknown Connection option 'conectTimeout': did you mean 'connectTimeout'?")
    expect(() => new Connection('memory://', { hearbeat: 10 } as never)).toThrow("did you mean 'heartbeat'?")
    expect(() => new Connection('memory://', { zzzzzzzz: 1 } as never)).toThrow(
      /^Unknown Connection option 'zzzzzzzz'$/,
    )
  })

  it.each([
    ['connectTimeout', '5000', /'connectTimeout' must be a number >= 0, got "5000"/],
    ['connectTimeout', -1, /a number >= 0/],
    ['heartbeat', Number.NaN, /'heartbeat' must be a number >= 0/],
    ['ssl', 'yes', /'ssl' must be true, false or an object/],
    ['failoverStrategy', 'random', /'round-robin' or 'shuffle'/],
    ['reconnect', 1, /'reconnect' must be true, false or an object/],
    ['retryPolicy', [], /'retryPolicy' must be an object/],
    ['transportOptions', 'x', /'transportOptions' must be an object/],
    ['transport', { name: 'x' }, /'transport' must be a TransportDriver/],
    ['logger', console.log, /'logger' must be an object with debug, info, warn and error methods/],
    ['logger', { info() {} }, /debug, info, warn and error/],
  ])('rejects %s = %s with InvalidOptionError', (key, value, message) => {
    const make = () => new Connection('memory://', { [key]: value } as never)
    expect(make).toThrow(InvalidOptionError)
    expect(make).toThrow(message)
  })

  it('ignores options set to undefined', () => {
    expect(() => connection('memory://', { connectTimeout: undefined, ssl: undefined })).not.toThrow()
  })

  it('rejects options that are not an object', () => {
    expect(() => new Connection('memory://', null as never)).toThrow(InvalidOptionError)
    expect(() => new Connection('memory://', [] as never)).toThrow(InvalidOptionError)
  })

  it('checks the retry and reconnect policies, naming the field', () => {
    expect(() => new Connection('memory://', { retryPolicy: { maxRetries: -1 } })).toThrow(
      /retryPolicy\.maxRetries must be a number >= 0/,
    )
    expect(() => new Connection('memory://', { reconnect: { factor: 0 } })).toThrow(InvalidOptionError)
  })

  it('knows the capabilities only once the transport is known', async () => {
    const conn = connection(unique())
    expect(() => conn.capabilities).toThrow(QError)
    await conn.connect()
    expect(conn.capabilities).toBe(memoryCapabilities)
    const transport = createMemoryTransport()
    expect(connection('memory://', { transport }).capabilities).toBe(transport.capabilities)
  })

  it('shuffle keeps every alternate', () => {
    const urls = ['memory://a', 'memory://b', 'memory://c', 'memory://d']
    const conn = connection(urls, { failoverStrategy: 'shuffle' })
    expect(conn.urls.map((u) => u.href).sort()).toEqual(urls)
  })
})

describe('Connection: lifecycle', () => {
  it('replaces a default channel that was closed under it', async () => {
    const conn = connection(`memory://default-channel-${Math.random()}`)
    const first = await conn.defaultChannel()
    expect(await conn.defaultChannel()).toBe(first)
    await first.close()
    const second = await conn.defaultChannel()
    expect(second).not.toBe(first)
    expect(second.isOpen).toBe(true)
  })

  it('goes idle -> connecting -> connected -> closed', async () => {
    const conn = connection(unique())
    expect(conn.state).toBe('idle')
    const p = conn.connect()
    expect(conn.state).toBe('connecting')
    await expect(p).resolves.toBe(conn)
    expect(conn.state).toBe('connected')
    expect(conn.connected).toBe(true)
    await conn.close()
    expect(conn.state).toBe('closed')
    expect(conn.connected).toBe(false)
  })

  it("emits 'connected' with the masked URL and reconnected: false", async () => {
    const driver = new LossyDriver()
    const conn = connection('memory://user:secret@broker', { transport: driver })
    const events = record(conn)
    await conn.connect()
    expect(events).toEqual([['connected', { url: 'memory://user:**@broker', reconnected: false }]])
  })

  it('opens one transport connection for concurrent connects', async () => {
    const driver = new LossyDriver()
    const conn = connection(unique(), { transport: driver })
    await Promise.all([conn.connect(), conn.connect(), conn.channel(), conn.defaultChannel()])
    await conn.connect()
    expect(driver.attempts).toHaveLength(1)
  })

  it('hands the transport its options: query merged under transportOptions, timeouts, ssl', async () => {
    const driver = new LossyDriver()
    const conn = connection('memory://h/?visibility_timeout=10&region=eu&polling_interval=1', {
      transport: driver,
      transportOptions: { region: 'us', extra: true },
      connectTimeout: 1234,
      heartbeat: 30,
    })
    await conn.connect()
    const ctx = driver.contexts[0]!
    expect(ctx.transportOptions).toEqual({
      visibilityTimeout: 10,
      pollingInterval: 1,
      region: 'us',
      extra: true,
    })
    expect(ctx.connectTimeout).toBe(1234)
    expect(ctx.heartbeat).toBe(30)
    expect(ctx.ssl).toBe(false)
    expect(ctx.logger).toBe(silent)
  })

  it('uses the context defaults, with TLS on for amqps:// and rediss://', async () => {
    const driver = new LossyDriver()
    await connection('memory://d', { transport: driver }).connect()
    await connection('amqps://d', { transport: driver }).connect()
    await connection('rediss://d', { transport: driver, ssl: { servername: 'x' } }).connect()
    expect(driver.contexts.map((c) => [c.connectTimeout, c.heartbeat, c.ssl])).toEqual([
      [4000, 0, false],
      [4000, 0, true],
      [4000, 0, { servername: 'x' }],
    ])
  })

  it('shares one default channel', async () => {
    const conn = connection(unique())
    const [a, b] = await Promise.all([conn.defaultChannel(), conn.defaultChannel()])
    expect(a).toBe(b)
    expect(await conn.channel()).not.toBe(a)
  })

  it('close() is idempotent: the same promise, one closed event, no error the second time', async () => {
    const conn = connection(unique())
    const events = record(conn)
    await conn.connect()
    const first = conn.close()
    const second = conn.close()
    expect(second).toBe(first)
    await expect(first).resolves.toBeUndefined()
    await expect(conn.close()).resolves.toBeUndefined()
    expect(conn.drain()).toBe(first)
    expect(events.filter(([name]) => name === 'closed')).toHaveLength(1)
  })

  it('closes the transport connection and its channels', async () => {
    const driver = new LossyDriver()
    const conn = connection(unique(), { transport: driver })
    const channel = await conn.channel()
    expect(channel.isOpen).toBe(true)
    await conn.close()
    expect(channel.isOpen).toBe(false)
    expect(await driver.live[0]!.conn.closed()).toBeUndefined()
  })

  it('closes a connection that never connected', async () => {
    const conn = connection(unique())
    await conn.close()
    expect(conn.state).toBe('closed')
  })

  it('closed() resolves once closed', async () => {
    const conn = connection(unique())
    await conn.connect()
    let resolved = false
    void conn.closed().then(() => {
      resolved = true
    })
    await new Promise((r) => setTimeout(r, 5))
    expect(resolved).toBe(false)
    await conn.close()
    await expect(conn.closed()).resolves.toBeUndefined()
    expect(resolved).toBe(true)
  })

  it('after close, channel() and connect() reject with ClosedError', async () => {
    const conn = connection(unique())
    await conn.connect()
    await conn.close()
    await expect(conn.channel()).rejects.toBeInstanceOf(ClosedError)
    await expect(conn.connect()).rejects.toBeInstanceOf(ClosedError)
    await expect(conn.defaultChannel()).rejects.toBeInstanceOf(ClosedError)
  })

  it('works with `await using`, closing at the end of the block', async () => {
    let conn: Connection | undefined
    let channelOpen: (() => boolean) | undefined
    {
      await using c = await new Connection(unique(), { logger: silent }).connect()
      conn = c
      const channel = await c.channel()
      channelOpen = () => channel.isOpen
      expect(c.state).toBe('connected')
    }
    expect(conn.state).toBe('closed')
    expect(channelOpen()).toBe(false)
    await expect(conn.closed()).resolves.toBeUndefined()
  })

  it('closes tracked resources with close(), drains them with drain()', async () => {
    const a = { close: vi.fn(async () => {}), drain: vi.fn(async () => {}) }
    const b = { close: vi.fn(async () => {}) }
    const closing = connection(unique())
    closing.track(a)
    closing.track(b)
    await closing.close()
    expect(a.close).toHaveBeenCalledOnce()
    expect(a.drain).not.toHaveBeenCalled()
    expect(b.close).toHaveBeenCalledOnce()

    const c = { close: vi.fn(async () => {}), drain: vi.fn(async () => {}) }
    const d = { close: vi.fn(async () => {}) }
    const e = { close: vi.fn(async () => {}) }
    const draining = connection(unique())
    draining.track(c)
    draining.track(d)
    const untrack = draining.track(e)
    untrack()
    await draining.drain()
    expect(c.drain).toHaveBeenCalledOnce()
    expect(c.close).not.toHaveBeenCalled()
    expect(d.close).toHaveBeenCalledOnce()
    expect(e.close).not.toHaveBeenCalled()
  })

  it('still closes when a resource fails to close, and logs it', async () => {
    const logger = { ...silent, warn: vi.fn() }
    const conn = connection(unique(), { logger })
    await conn.connect()
    conn.track({ close: async () => Promise.reject(new Error('stuck')) })
    await expect(conn.close()).resolves.toBeUndefined()
    expect(conn.state).toBe('closed')
    expect(logger.warn).toHaveBeenCalledWith('errors while closing the connection', expect.any(Error))
  })
})

describe('Connection: failover', () => {
  it("is 'disconnected' again when connect() gives up", async () => {
    const transport: TransportDriver = {
      name: 'always-down',
      capabilities: createMemoryTransport().capabilities,
      classifyError: () => 'connection',
      async connect() {
        throw new ConnectionError('connect ECONNREFUSED')
      },
    }
    const conn = connection('memory://down', { transport, retryPolicy: { maxRetries: 1, intervalStep: 1 } })
    await expect(conn.connect()).rejects.toBeInstanceOf(ConnectionError)
    expect(conn.state).toBe('disconnected')
  })

  it('connects to the next alternate when one refuses (tiny driver over a memory transport)', async () => {
    const memory = createMemoryTransport()
    const attempts: string[] = []
    const transport: TransportDriver = {
      name: 'failover-test',
      capabilities: memory.capabilities,
      classifyError: () => 'fatal',
      async connect(url, context) {
        attempts.push(url.href)
        if (url.scheme === 'fail') throw new ConnectionError(`connect ECONNREFUSED ${url.hostname}`)
        return memory.connect(url, context)
      },
    }
    const conn = connection(['fail://a', 'memory://b'], { transport })
    const events = record(conn)
    await conn.connect()
    expect(attempts).toEqual(['fail://a', 'memory://b'])
    expect(conn.state).toBe('connected')
    expect(conn.url).toBe('memory://b')
    // Alternates within one round are tried back to back; 'reconnecting' is for the wait between rounds.
    expect(events).toEqual([['connected', { url: 'memory://b', reconnected: false }]])
    // It really is broker 'b' of that memory transport.
    const channel = await conn.channel()
    await channel.declareQueue(new (await import('./queue.js')).Queue('failover-q'))
    expect(memory.broker('b').hasQueue('failover-q')).toBe(true)
  })

  it("retries whole rounds with backoff, emitting 'reconnecting' before each wait", async () => {
    const driver = new LossyDriver()
    driver.failNext = 4 // two full rounds of two alternates
    const conn = connection(['memory://x', 'memory://y'], {
      transport: driver,
      retryPolicy: { maxRetries: 3, intervalStart: 1, intervalStep: 2, factor: 1 },
    })
    const events = record(conn)
    await conn.connect()
    expect(driver.attempts).toEqual(['memory://x', 'memory://y', 'memory://x', 'memory://y', 'memory://x'])
    expect(
      events.map(([name, p]) => (name === 'reconnecting' ? [name, p.attempt, p.delay] : [name])),
    ).toEqual([['reconnecting', 1, 1], ['reconnecting', 2, 3], ['connected']])
    const reconnecting = events[0]![1] as ConnectionEvents['reconnecting']
    expect(reconnecting.error).toBeInstanceOf(ConnectionError)
  })

  it('gives up after maxRetries rounds with the last connection error', async () => {
    const driver = new LossyDriver()
    driver.down.add('x').add('y')
    const conn = connection(['memory://x', 'memory://y'], {
      transport: driver,
      retryPolicy: { ...fast, maxRetries: 2 },
    })
    const err = await conn.connect().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect((err as Error).message).toContain('ECONNREFUSED')
    expect(driver.attempts).toHaveLength(6)
    expect(conn.connected).toBe(false)
  })

  it('does not retry an error that is not a connection error', async () => {
    const attempts: string[] = []
    const transport: TransportDriver = {
      name: 'bad-credentials',
      capabilities: memoryCapabilities,
      classifyError: () => 'fatal',
      async connect(url) {
        attempts.push(url.href)
        throw Object.assign(new Error('ACCESS_REFUSED - Login was refused'), { code: 403 })
      },
    }
    const conn = connection(['memory://a', 'memory://b'], { transport, retryPolicy: fast })
    const err = await conn.connect().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(QError)
    expect(err).not.toBeInstanceOf(ConnectionError)
    expect((err as Error).message).toContain('ACCESS_REFUSED')
    expect((err as Error).cause).toBeInstanceOf(Error)
    expect(attempts).toEqual(['memory://a'])
  })

  it('retries a driver error that the driver classifies as a connection error', async () => {
    let calls = 0
    const memory = createMemoryTransport()
    const transport: TransportDriver = {
      name: 'classify',
      capabilities: memoryCapabilities,
      classifyError: (err) => ((err as { code?: string }).code === 'ECONNRESET' ? 'connection' : 'fatal'),
      async connect(url, context) {
        if (++calls === 1) throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })
        return memory.connect(url, context)
      },
    }
    const conn = connection('memory://c', { transport, retryPolicy: fast })
    await conn.connect()
    expect(calls).toBe(2)
  })
})

describe('Connection: ensure()', () => {
  it('retries a function that fails with ConnectionError, then returns its value', async () => {
    const conn = connection(unique())
    const events = record(conn)
    let calls = 0
    const result = await conn.ensure(
      async () => {
        calls++
        if (calls <= 2) throw new ConnectionError(`lost ${calls}`)
        return 'done'
      },
      { maxRetries: 3, intervalStart: 0, intervalStep: 1 },
    )
    expect(result).toBe('done')
    expect(calls).toBe(3)
    const reconnecting = events.filter(([name]) => name === 'reconnecting').map(([, p]) => p)
    expect(reconnecting).toMatchObject([
      { attempt: 1, delay: 0 },
      { attempt: 2, delay: 1 },
    ])
  })

  it('does not retry a ChannelError', async () => {
    const conn = connection(unique())
    const fn = vi.fn(async () => {
      throw new ChannelError('NOT_FOUND - no queue', { replyCode: 404 })
    })
    await expect(conn.ensure(fn, { maxRetries: 5, intervalStart: 0 })).rejects.toBeInstanceOf(ChannelError)
    expect(fn).toHaveBeenCalledOnce()
  })

  it('does not retry other errors, and wraps them as QError keeping the cause', async () => {
    const conn = connection(unique())
    const boom = new TypeError('boom')
    const fn = vi.fn(async () => {
      throw boom
    })
    const err = await conn.ensure(fn, { maxRetries: 5, intervalStart: 0 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(QError)
    expect((err as Error).cause).toBe(boom)
    expect(fn).toHaveBeenCalledOnce()
  })

  it('gives up after maxRetries retries, throwing the last error', async () => {
    const conn = connection(unique())
    let calls = 0
    const err = await conn
      .ensure(
        async () => {
          throw new ConnectionError(`lost ${++calls}`)
        },
        { maxRetries: 2, intervalStart: 0, intervalStep: 1 },
      )
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConnectionError)
    expect((err as Error).message).toBe('lost 3')
    expect(calls).toBe(3)
  })

  it("uses the connection's retryPolicy by default, and merges a partial policy over it", async () => {
    const conn = connection(unique(), { retryPolicy: { maxRetries: 1, intervalStart: 0, intervalStep: 1 } })
    let calls = 0
    const failing = async () => {
      calls++
      throw new ConnectionError('down')
    }
    await expect(conn.ensure(failing)).rejects.toBeInstanceOf(ConnectionError)
    expect(calls).toBe(2)
    calls = 0
    await expect(conn.ensure(failing, { maxRetries: 3 })).rejects.toBeInstanceOf(ConnectionError)
    expect(calls).toBe(4)
  })

  it('retries raw errors the transport classifies as connection errors', async () => {
    const driver = new LossyDriver()
    const conn = connection(unique(), { transport: driver })
    let calls = 0
    const value = await conn.ensure(
      async () => {
        if (++calls === 1) throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })
        return calls
      },
      { intervalStart: 0 },
    )
    expect(value).toBe(2)
  })

  it('stops retrying once the connection is closed', async () => {
    const conn = connection(unique())
    await conn.close()
    const fn = vi.fn(async () => {
      throw new ConnectionError('down')
    })
    await expect(conn.ensure(fn, { maxRetries: 5, intervalStart: 0 })).rejects.toBeInstanceOf(ConnectionError)
    expect(fn).toHaveBeenCalledOnce()
  })
})

describe('Connection: automatic reconnection', () => {
  it('reports a lost connection, reconnects, and a Consumer receives again (messages kept by the broker)', async () => {
    const driver = new LossyDriver()
    const url = 'memory://reconnect'
    const conn = connection(url, {
      transport: driver,
      reconnect: { intervalStart: 1, intervalStep: 1, factor: 1 },
    })
    const events = record(conn)
    await conn.connect()

    const received: Array<[unknown, boolean]> = []
    const consumer = new Consumer(conn, {
      queues: 'rc-q',
      onMessage: async (body, message) => {
        received.push([body, message.redelivered])
        // The first delivery of message 1 is held, unacked, when the connection goes.
        if ((body as { n: number }).n === 1 && !message.redelivered) return
        await message.ack()
      },
    })
    await consumer.consume()
    const producer = new Producer(conn)
    await producer.publish({ n: 1 }, { routingKey: 'rc-q' })
    await until(() => received.length === 1)

    // Lose the connection; the first two reconnection attempts are refused.
    driver.failNext = 2
    const disconnected = nextEvent(conn, 'disconnected')
    const reconnected = nextEvent(conn, 'connected', (p) => p.reconnected)
    const lostWith = new ConnectionError('Connection reset by peer')
    await driver.live[0]!.lose(lostWith)
    expect(await disconnected).toEqual({ error: lostWith })

    // Meanwhile another client publishes to the same broker.
    const other = connection(url, { transport: driver.memory })
    await new Producer(other).publish({ n: 2 }, { routingKey: 'rc-q' })

    expect(await reconnected).toEqual({ url, reconnected: true })
    expect(conn.state).toBe('connected')
    expect(driver.attempts).toHaveLength(4)

    // The unacked message comes back redelivered, then the one sent while we were away.
    await until(() => received.length === 3)
    expect(received).toEqual([
      [{ n: 1 }, false],
      [{ n: 1 }, true],
      [{ n: 2 }, false],
    ])

    // Publishing through the reconnected connection works again (the default channel was replaced).
    await producer.publish({ n: 3 }, { routingKey: 'rc-q' })
    await until(() => received.length === 4)
    expect(received[3]).toEqual([{ n: 3 }, false])

    expect(events.map(([name, p]) => (name === 'reconnecting' ? `${name} ${p.attempt}` : name))).toEqual([
      'connected',
      'disconnected',
      'error',
      'reconnecting 1',
      'reconnecting 2',
      'connected',
    ])
    expect(events[2]).toEqual(['error', lostWith])
    await consumer.close()
  })

  it('redeclares entities on the new connection', async () => {
    const driver = new LossyDriver()
    const conn = connection('memory://redeclare', { transport: driver })
    await conn.connect()
    const producer = new Producer(conn, { exchange: 'ex-redeclare' })
    await producer.publish('x', { routingKey: 'k' })
    expect(conn.declared.size).toBe(1)
    const reconnected = nextEvent(conn, 'connected', (p) => p.reconnected)
    await driver.live[0]!.lose(new ConnectionError('gone'))
    await reconnected
    expect(conn.declared.size).toBe(0)
    const broker = driver.memory.broker('redeclare')
    broker.exchanges.delete('ex-redeclare') // the broker forgot it (a restart)
    await producer.publish('y', { routingKey: 'k' })
    expect(broker.exchanges.has('ex-redeclare')).toBe(true)
    expect(conn.declared.size).toBe(1)
  })

  it("a connection that ends cleanly is reported without an 'error' event", async () => {
    const driver = new LossyDriver()
    const conn = connection(unique(), { transport: driver })
    const events = record(conn)
    await conn.connect()
    const reconnected = nextEvent(conn, 'connected', (p) => p.reconnected)
    await driver.live[0]!.lose(undefined)
    await reconnected
    expect(events.map(([name]) => name)).toEqual(['connected', 'disconnected', 'connected'])
    expect(events[1]).toEqual(['disconnected', { error: undefined }])
  })

  it('with reconnect: false, stays disconnected', async () => {
    const driver = new LossyDriver()
    const conn = connection(unique(), { transport: driver, reconnect: false })
    await conn.connect()
    const disconnected = nextEvent(conn, 'disconnected')
    await driver.live[0]!.lose(new ConnectionError('gone'))
    await disconnected
    await new Promise((r) => setTimeout(r, 10))
    expect(conn.state).toBe('disconnected')
    expect(driver.attempts).toHaveLength(1)
  })

  it('does not reconnect after close()', async () => {
    const driver = new LossyDriver()
    const conn = connection(unique(), { transport: driver })
    const events = record(conn)
    await conn.connect()
    await conn.close()
    await new Promise((r) => setTimeout(r, 10))
    expect(events.map(([name]) => name)).toEqual(['connected', 'closed'])
    expect(driver.attempts).toHaveLength(1)
  })

  it('close() during a reconnection backoff does not wait for the backoff', async () => {
    const driver = new LossyDriver()
    driver.down.add('backoff')
    const conn = connection('memory://backoff', {
      transport: driver,
      reconnect: { intervalStart: 60_000, intervalMax: 60_000 },
    })
    driver.down.delete('backoff')
    await conn.connect()
    driver.down.add('backoff')
    const waiting = nextEvent(conn, 'reconnecting')
    await driver.live[0]!.lose(new ConnectionError('gone'))
    await waiting
    const events = record(conn)
    const started = Date.now()
    await conn.close()
    expect(Date.now() - started).toBeLessThan(1000)
    expect(conn.state).toBe('closed')
    // A deliberate close is not an error.
    await new Promise((r) => setTimeout(r, 5))
    expect(events.map(([name]) => name)).toEqual(['closed'])
  })
})
