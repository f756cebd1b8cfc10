import { afterEach, describe, expect, it, vi } from 'vitest'
import { Connection } from '../connection.js'
import { Exchange } from '../exchange.js'
import { Queue } from '../queue.js'
import { createMemoryTransport, type MemoryTransport } from '../transports/memory.js'
import type { Delivery, Logger } from '../types.js'
import { LamportClock } from './clock.js'
import { Mailbox } from './mailbox.js'
import type { MailboxNode } from './node.js'
import { NO_REPLY, type PidboxHandlers, type PidboxRequest } from './types.js'

const open: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close()
})

function quietLogger(): Logger {
  return { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() }
}

/** One in-process broker; every connection made by `connect()` reaches it. */
function broker() {
  const memory: MemoryTransport = createMemoryTransport()
  const connect = () => {
    const c = new Connection('memory://pidbox', { transport: memory, logger: quietLogger() })
    open.push(c)
    return c
  }
  return { memory, state: memory.broker('pidbox'), connect }
}

const pong: PidboxHandlers = { ping: () => ({ ok: 'pong' }) }

async function startNode(
  mailbox: Mailbox,
  name: string,
  handlers: PidboxHandlers = pong,
): Promise<MailboxNode> {
  const node = await mailbox.node(name, handlers).listen()
  open.push(node)
  return node
}

/** A queue bound to an exchange, read with basic.get: sees what crosses the exchange. */
async function tap(conn: Connection, exchange: Exchange, routingKey = '') {
  const ch = await conn.channel()
  const name = `tap.${exchange.name}.${routingKey}`
  await ch.declareExchange(exchange)
  await ch.declareQueue(new Queue(name, { durable: false }))
  await ch.bindQueue(name, exchange.name, routingKey)
  return {
    async next(): Promise<Delivery | null> {
      return ch.get(name, { noAck: true })
    },
  }
}

describe('Mailbox: entities', () => {
  it('names its exchanges and queues as Kombu, with Celery settings as x-arguments', () => {
    const { connect } = broker()
    const mb = new Mailbox(connect(), { queueTtl: 300_000, queueExpires: 10_000, replyQueueTtl: 300_000 })
    expect(mb.exchange).toMatchObject({
      name: 'celery.pidbox',
      type: 'fanout',
      durable: false,
      autoDelete: false,
    })
    expect(mb.replyExchange).toMatchObject({ name: 'reply.celery.pidbox', type: 'direct', durable: false })
    const q = mb.getQueue('w1@host')
    expect(q.name).toBe('w1@host.celery.pidbox')
    expect(q).toMatchObject({ durable: false, autoDelete: true, noAck: true, routingKey: '' })
    expect(q.arguments).toEqual({ 'x-expires': 10_000, 'x-message-ttl': 300_000 })
    const r = mb.getReplyQueue('oid-1')
    expect(r.name).toBe('oid-1.reply.celery.pidbox')
    expect(r).toMatchObject({ routingKey: 'oid-1', durable: false, autoDelete: true })
    expect(r.exchange.name).toBe('reply.celery.pidbox')
    expect(r.arguments).toEqual({ 'x-expires': 10_000, 'x-message-ttl': 300_000 })
  })

  it('takes a namespace and a direct type', () => {
    const { connect } = broker()
    const mb = new Mailbox(connect(), { namespace: 'app', type: 'direct' })
    expect(mb.exchange).toMatchObject({ name: 'app.pidbox', type: 'direct' })
    expect(mb.replyExchange.name).toBe('reply.app.pidbox')
    expect(mb.getQueue('n').name).toBe('n.app.pidbox')
    expect(() => new Mailbox(connect(), { type: 'topic' as 'direct' })).toThrow(/fanout' or 'direct/)
  })

  it('rejects a destination that is not an array', async () => {
    const { connect } = broker()
    const mb = new Mailbox(connect())
    await expect(mb.broadcast('ping', { destination: 'a@b' as unknown as string[] })).rejects.toThrow(
      /array of node names/,
    )
  })
})

describe('Mailbox: call and cast', () => {
  it('calls one node and returns as soon as every destination replied', async () => {
    const { connect } = broker()
    await startNode(new Mailbox(connect()), 'a@x')
    const client = new Mailbox(connect())
    const t0 = Date.now()
    const replies = await client.call(['a@x'], 'ping', {}, { timeout: 5000 })
    expect(replies).toEqual([{ 'a@x': { ok: 'pong' } }])
    expect(Date.now() - t0).toBeLessThan(2000)
  })

  it('broadcasts to every node and collects until the timeout', async () => {
    const { connect } = broker()
    await startNode(new Mailbox(connect()), 'a@x')
    await startNode(new Mailbox(connect()), 'b@x')
    const replies = await new Mailbox(connect()).multicall('ping', {}, { timeout: 200 })
    expect(replies).toHaveLength(2)
    expect(Object.assign({}, ...replies)).toEqual({ 'a@x': { ok: 'pong' }, 'b@x': { ok: 'pong' } })
  })

  it('runs a request only on its destinations', async () => {
    const { connect } = broker()
    const a = vi.fn(() => 'A')
    const b = vi.fn(() => 'B')
    await startNode(new Mailbox(connect()), 'a@x', { who: a })
    await startNode(new Mailbox(connect()), 'b@x', { who: b })
    const replies = await new Mailbox(connect()).call(['b@x'], 'who', { n: 1 }, { timeout: 2000 })
    expect(replies).toEqual([{ 'b@x': 'B' }])
    expect(a).not.toHaveBeenCalled()
    expect(b).toHaveBeenCalledWith({ n: 1 }, expect.objectContaining({ hostname: 'b@x', method: 'who' }))
  })

  it('matches nodes by glob and by pcre pattern', async () => {
    const { connect } = broker()
    for (const n of ['web1@x', 'web2@x', 'db1@x']) await startNode(new Mailbox(connect()), n)
    const client = new Mailbox(connect())
    const names = (rs: Array<Record<string, unknown>>) => rs.flatMap((r) => Object.keys(r)).sort()
    expect(
      names(await client.multicall('ping', {}, { pattern: 'web*', matcher: 'glob', timeout: 150 })),
    ).toEqual(['web1@x', 'web2@x'])
    expect(
      names(await client.multicall('ping', {}, { pattern: 'db|web2', matcher: 'pcre', timeout: 150 })),
    ).toEqual(['db1@x', 'web2@x'])
    // Without a matcher the pattern is a glob (Kombu would broadcast).
    expect(names(await client.multicall('ping', {}, { pattern: 'db?@x', timeout: 150 }))).toEqual(['db1@x'])
  })

  it('stops at the limit, and returns what came when the timeout passes', async () => {
    const { connect } = broker()
    await startNode(new Mailbox(connect()), 'a@x')
    await startNode(new Mailbox(connect()), 'b@x')
    const client = new Mailbox(connect())
    const t0 = Date.now()
    expect(await client.multicall('ping', {}, { limit: 1, timeout: 5000 })).toHaveLength(1)
    expect(Date.now() - t0).toBeLessThan(2000)
    const t1 = Date.now()
    expect(await client.call(['nobody@x'], 'ping', {}, { timeout: 100 })).toEqual([])
    expect(Date.now() - t1).toBeGreaterThanOrEqual(90)
  })

  it('hands each reply to the callback as it comes, and stops when the signal aborts', async () => {
    const { connect } = broker()
    await startNode(new Mailbox(connect()), 'a@x')
    const seen: unknown[] = []
    const client = new Mailbox(connect())
    const ac = new AbortController()
    const t0 = Date.now()
    const replies = await client.multicall(
      'ping',
      {},
      {
        timeout: 10_000,
        signal: ac.signal,
        callback: (r) => {
          seen.push(r)
          ac.abort()
        },
      },
    )
    expect(seen).toEqual([{ 'a@x': { ok: 'pong' } }])
    expect(replies).toEqual(seen)
    expect(Date.now() - t0).toBeLessThan(2000)
  })

  it('casts without a reply queue and without replies', async () => {
    const { connect, state } = broker()
    const ran = vi.fn()
    await startNode(new Mailbox(connect()), 'a@x', { poke: ran })
    expect(await new Mailbox(connect()).cast(['a@x'], 'poke', { k: 'v' })).toBeUndefined()
    await vi.waitFor(() => expect(ran).toHaveBeenCalledWith({ k: 'v' }, expect.anything()))
    expect([...state.queues.keys()].filter((q) => q.includes('.reply.'))).toEqual([])
  })

  it('reports unknown commands and errors as Python reprs, and sends nothing for NO_REPLY', async () => {
    const { connect } = broker()
    await startNode(new Mailbox(connect()), 'a@x', {
      boom: () => {
        throw new TypeError("it's broken")
      },
      later: async () => {
        throw new Error('no')
      },
      quiet: () => NO_REPLY,
      nothing: () => undefined,
    })
    const c = new Mailbox(connect())
    const one = async (cmd: string) => (await c.call(['a@x'], cmd, {}, { timeout: 200 }))[0]
    expect(await one('no_such_command')).toEqual({ 'a@x': { error: "KeyError('no_such_command')" } })
    expect(await one('boom')).toEqual({ 'a@x': { error: `TypeError("it's broken")` } })
    expect(await one('later')).toEqual({ 'a@x': { error: "Error('no')" } })
    expect(await one('nothing')).toEqual({ 'a@x': null })
    expect(await one('quiet')).toBeUndefined()
    expect(await one('toString')).toEqual({ 'a@x': { error: "KeyError('toString')" } })
  })

  it('ignores replies that carry another ticket', async () => {
    const { connect } = broker()
    const forger = new Mailbox(connect())
    await startNode(forger, 'a@x', {
      ping: async (_args, ctx) => {
        const to = ctx.request.reply_to!
        await forger.reply({ 'intruder@x': 'stale' }, to, 'someone-elses-ticket')
        return { ok: 'pong' }
      },
    })
    const replies = await new Mailbox(connect()).multicall('ping', {}, { timeout: 200 })
    expect(replies).toEqual([{ 'a@x': { ok: 'pong' } }])
  })

  it('deletes its reply queue and binding after each call', async () => {
    const { connect, state } = broker()
    await startNode(new Mailbox(connect()), 'a@x')
    await new Mailbox(connect()).call(['a@x'], 'ping', {}, { timeout: 500 })
    await new Mailbox(connect()).call(['zz@x'], 'ping', {}, { timeout: 20 })
    expect([...state.queues.keys()].filter((q) => q.includes('.reply.'))).toEqual([])
    expect(await state.bindings.rows('reply.celery.pidbox')).toEqual([])
  })

  it('runs concurrent calls side by side, each with its own replies', async () => {
    const { connect } = broker()
    await startNode(new Mailbox(connect()), 'a@x', {
      echo: async (args) => {
        await new Promise((r) => setTimeout(r, Number(args.delay)))
        return args.n
      },
    })
    const c = new Mailbox(connect())
    const [r1, r2] = await Promise.all([
      c.call(['a@x'], 'echo', { n: 1, delay: 60 }, { timeout: 2000 }),
      c.call(['a@x'], 'echo', { n: 2, delay: 0 }, { timeout: 2000 }),
    ])
    expect(r1).toEqual([{ 'a@x': 1 }])
    expect(r2).toEqual([{ 'a@x': 2 }])
  })

  it('stops listening on close', async () => {
    const { connect } = broker()
    const node = await startNode(new Mailbox(connect()), 'a@x')
    expect(node.listening).toBe(true)
    await node.close()
    expect(node.listening).toBe(false)
    expect(await new Mailbox(connect()).call(['a@x'], 'ping', {}, { timeout: 100 })).toEqual([])
  })
})

describe('Mailbox: Lamport clock', () => {
  it('forwards on send, adjusts on receipt, and carries the clock in headers', async () => {
    const { connect } = broker()
    const nodeClock = new LamportClock(100)
    await startNode(new Mailbox(connect(), { clock: nodeClock }), 'a@x')
    const clientClock = new LamportClock(5)
    await new Mailbox(connect(), { clock: clientClock }).call(['a@x'], 'ping', {}, { timeout: 1000 })
    // Client: 5 -> 6 (request); node: max(100, 6) + 1 = 101, reply 102; client: max(6, 102) + 1.
    expect(nodeClock.value).toBe(102)
    expect(clientClock.value).toBe(103)
  })
})

describe('Mailbox: wire format', () => {
  it('publishes requests as Kombu does: fanout, key "", persistent, clock and expires headers', async () => {
    const { connect } = broker()
    const requests = await tap(connect(), new Exchange('celery.pidbox', { type: 'fanout', durable: false }))
    const client = new Mailbox(connect(), { clock: new LamportClock(6) })
    const before = Date.now() / 1000
    await client.call(['capture@golden'], 'ping', {}, { timeout: 50 })
    const d = (await requests.next())!
    expect(d.deliveryInfo).toMatchObject({ exchange: 'celery.pidbox', routingKey: '' })
    expect(d.properties.deliveryMode).toBe(2)
    expect(d.contentType).toBe('application/json')
    expect(d.headers.clock).toBe(7)
    expect(d.headers.expires).toBeGreaterThanOrEqual(before + 0.05)
    expect(d.headers.expires).toBeLessThan(before + 5)
    const body = JSON.parse(d.body.toString()) as PidboxRequest
    expect(Object.keys(body)).toEqual([
      'method',
      'arguments',
      'destination',
      'pattern',
      'matcher',
      'ticket',
      'reply_to',
    ])
    expect(body).toMatchObject({ method: 'ping', arguments: {}, destination: ['capture@golden'] })
    expect(body.reply_to!.exchange).toBe('reply.celery.pidbox')

    await client.cast(null, 'ping')
    const cast = (await requests.next())!
    expect(cast.headers.expires).toBe(0)
    expect(JSON.parse(cast.body.toString())).toEqual({
      method: 'ping',
      arguments: {},
      destination: null,
      pattern: null,
      matcher: null,
    })
  })

  it('sends replies as Kombu does: direct reply exchange, transient, ticket and clock headers', async () => {
    const { connect } = broker()
    const conn = connect()
    const replies = await tap(
      conn,
      new Exchange('reply.celery.pidbox', { type: 'direct', durable: false }),
      'oid-9',
    )
    const mb = new Mailbox(connect(), { clock: new LamportClock(41) })
    const node = mb.node('n@x', pong)
    const reply = await node.dispatch({
      method: 'ping',
      arguments: {},
      destination: null,
      pattern: null,
      matcher: null,
      ticket: 't-1',
      reply_to: { exchange: 'reply.celery.pidbox', routing_key: 'oid-9' },
    })
    expect(reply).toEqual({ ok: 'pong' })
    const d = (await replies.next())!
    expect(d.deliveryInfo).toMatchObject({ exchange: 'reply.celery.pidbox', routingKey: 'oid-9' })
    expect(d.properties.deliveryMode).toBe(1)
    expect(d.headers).toEqual({ ticket: 't-1', clock: 42 })
    expect(JSON.parse(d.body.toString())).toEqual({ 'n@x': { ok: 'pong' } })
  })
})
