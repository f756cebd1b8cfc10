import { afterEach, describe, expect, it, vi } from 'vitest'
import { ChannelError, NotSupportedError, UnroutableError } from '../errors.js'
import { Exchange } from '../exchange.js'
import { Queue } from '../queue.js'
import { MemoryBroker, memoryCapabilities } from '../transports/memory.js'
import type { Delivery, OutgoingMessage } from '../types.js'
import { VirtualChannel } from './channel.js'

const channels: VirtualChannel[] = []
afterEach(async () => {
  await Promise.all(channels.splice(0).map((c) => c.close()))
})

function channelOn(broker: MemoryBroker, options: { onClose?: () => void } = {}): VirtualChannel {
  const ch = new VirtualChannel({
    primitives: broker,
    capabilities: memoryCapabilities,
    exchanges: broker.exchanges,
    bindings: broker.bindings,
    ...options,
  })
  channels.push(ch)
  return ch
}

function setup() {
  const broker = new MemoryBroker()
  return { broker, ch: channelOn(broker) }
}

function msg(text: string, headers: Record<string, unknown> = {}): OutgoingMessage {
  return {
    body: Buffer.from(text),
    contentType: 'text/plain',
    contentEncoding: 'utf-8',
    headers,
    properties: {},
  }
}

const text = (d: Delivery | null) => d?.body.toString()

async function until(predicate: () => boolean, timeout = 2000): Promise<void> {
  const end = Date.now() + timeout
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeout} ms`)
    await new Promise((r) => setTimeout(r, 2))
  }
}

async function withQueue(ch: VirtualChannel, name: string, ...bodies: string[]) {
  await ch.declareQueue(new Queue(name))
  for (const b of bodies) await ch.publish(msg(b), '', name)
}

describe('VirtualChannel: delivery tags and acknowledgements', () => {
  it('numbers deliveries 1, 2, 3 ... per channel, across get and consume', async () => {
    const { broker, ch } = setup()
    await withQueue(ch, 'q', 'a', 'b', 'c', 'd')
    const got = [await ch.get('q'), await ch.get('q', { noAck: true })]
    expect(got.map((d) => d?.deliveryTag)).toEqual([1, 2])
    const consumed: Delivery[] = []
    await ch.consume('q', (d) => consumed.push(d))
    await until(() => consumed.length === 2)
    expect(consumed.map((d) => d.deliveryTag)).toEqual([3, 4])
    expect(consumed.map((d) => d.body.toString())).toEqual(['c', 'd'])
    // Another channel counts on its own.
    await ch.cancel(consumed[0]!.deliveryInfo.consumerTag!)
    await ch.publish(msg('e'), '', 'q')
    expect(broker.size('q')).toBe(1)
    expect((await channelOn(broker).get('q'))?.deliveryTag).toBe(1)
    expect((await ch.get('q'))?.deliveryTag).toBeUndefined()
  })

  it('reports where a delivery came from', async () => {
    const { ch } = setup()
    await ch.declareExchange(new Exchange('ex'))
    await withQueue(ch, 'q')
    await ch.bindQueue('q', 'ex', 'rk')
    await ch.publish(msg('x', { h: 1 }), 'ex', 'rk')
    const d = await ch.get('q')
    expect(d).toMatchObject({
      contentType: 'text/plain',
      contentEncoding: 'utf-8',
      headers: { h: 1 },
      deliveryInfo: { exchange: 'ex', routingKey: 'rk', queue: 'q', redelivered: false },
    })
    expect(d!.deliveryInfo).not.toHaveProperty('consumerTag')
  })

  it('gets null from an empty or unknown queue', async () => {
    const { ch } = setup()
    await withQueue(ch, 'empty')
    expect(await ch.get('empty')).toBeNull()
    expect(await ch.get('unknown')).toBeNull()
  })

  it('ack removes the message for good', async () => {
    const { broker, ch } = setup()
    await withQueue(ch, 'q', 'a')
    const d = await ch.get('q')
    await ch.ack(d!.deliveryTag)
    await ch.recover()
    expect(broker.size('q')).toBe(0)
  })

  it('ack of an unknown tag is a ChannelError (406), also once acked or for a noAck delivery', async () => {
    const { ch } = setup()
    await withQueue(ch, 'q', 'a', 'b')
    const err = await ch.ack(99).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ChannelError)
    expect((err as ChannelError).replyCode).toBe(406)
    expect((err as Error).message).toContain('unknown delivery tag 99')
    const d = await ch.get('q')
    await ch.ack(d!.deliveryTag)
    await expect(ch.ack(d!.deliveryTag)).rejects.toBeInstanceOf(ChannelError)
    const noAck = await ch.get('q', { noAck: true })
    await expect(ch.ack(noAck!.deliveryTag)).rejects.toBeInstanceOf(ChannelError)
    await expect(ch.reject(12345, true)).rejects.toBeInstanceOf(ChannelError)
  })

  it('ack with multiple acknowledges that tag and every lower one', async () => {
    const { broker, ch } = setup()
    await withQueue(ch, 'q', 'a', 'b', 'c', 'd')
    const tags = []
    for (let i = 0; i < 4; i++) tags.push((await ch.get('q'))!.deliveryTag)
    await ch.ack(tags[2]!, true)
    await expect(ch.ack(tags[0]!)).rejects.toBeInstanceOf(ChannelError)
    await expect(ch.ack(tags[1]!)).rejects.toBeInstanceOf(ChannelError)
    // The higher one is still unacked: recover gives it back.
    await ch.recover()
    expect(broker.size('q')).toBe(1)
    expect(text(await ch.get('q'))).toBe('d')
  })

  it('ack with multiple and tag 0 acknowledges everything outstanding (AMQP basic.ack)', async () => {
    const { broker, ch } = setup()
    await withQueue(ch, 'q', 'a', 'b')
    await ch.get('q')
    await ch.get('q')
    await ch.ack(0, true)
    await ch.recover()
    expect(broker.size('q')).toBe(0)
  })

  it('reject drops the message, or requeues it at the head flagged redelivered', async () => {
    const { broker, ch } = setup()
    await withQueue(ch, 'q', 'a', 'b', 'c')
    const a = await ch.get('q')
    await ch.reject(a!.deliveryTag, false)
    expect(broker.size('q')).toBe(2)
    const b = await ch.get('q')
    await ch.reject(b!.deliveryTag, true)
    const again = await ch.get('q')
    expect(text(again)).toBe('b')
    expect(again!.deliveryInfo.redelivered).toBe(true)
    expect(again!.deliveryTag).not.toBe(b!.deliveryTag)
  })
})

describe('VirtualChannel: recover and close', () => {
  it('recover() redelivers every unacked message, in order, flagged redelivered', async () => {
    const { ch } = setup()
    await withQueue(ch, 'q', 'm1', 'm2', 'm3')
    await ch.get('q')
    await ch.get('q')
    await ch.recover()
    const after = [await ch.get('q'), await ch.get('q'), await ch.get('q')]
    expect(after.map(text)).toEqual(['m1', 'm2', 'm3'])
    expect(after.map((d) => d!.deliveryInfo.redelivered)).toEqual([true, true, false])
  })

  it('recover() redelivers to the consumer', async () => {
    const { ch } = setup()
    await withQueue(ch, 'q', 'a')
    const got: Delivery[] = []
    await ch.consume('q', (d) => got.push(d))
    await until(() => got.length === 1)
    await ch.recover()
    await until(() => got.length === 2)
    expect(got[1]!.deliveryInfo.redelivered).toBe(true)
    expect(got[1]!.deliveryTag).toBe(2)
  })

  it('close() requeues unacked messages in their original order, and is idempotent', async () => {
    const broker = new MemoryBroker()
    const onClose = vi.fn()
    const ch = channelOn(broker, { onClose })
    await withQueue(ch, 'q', 'm1', 'm2', 'm3', 'm4')
    const first = await ch.get('q')
    await ch.get('q')
    await ch.get('q')
    await ch.ack(first!.deliveryTag)
    const closing = ch.close()
    expect(ch.close()).toBe(closing)
    await closing
    expect(ch.isOpen).toBe(false)
    expect(onClose).toHaveBeenCalledOnce()
    await expect(ch.closed()).resolves.toBeUndefined()

    const other = channelOn(broker)
    const after = [await other.get('q'), await other.get('q'), await other.get('q')]
    expect(after.map(text)).toEqual(['m2', 'm3', 'm4'])
    expect(after.map((d) => d!.deliveryInfo.redelivered)).toEqual([true, true, false])
  })

  it('refuses work once closed', async () => {
    const { ch } = setup()
    await ch.close()
    await expect(ch.publish(msg('x'), '', 'q')).rejects.toBeInstanceOf(ChannelError)
    await expect(ch.declareQueue(new Queue('q'))).rejects.toBeInstanceOf(ChannelError)
    await expect(ch.consume('q', () => {})).rejects.toBeInstanceOf(ChannelError)
    await expect(ch.get('q')).rejects.toBeInstanceOf(ChannelError)
  })

  it('stops delivering to its consumers once closed', async () => {
    const { broker, ch } = setup()
    await withQueue(ch, 'q')
    const got: Delivery[] = []
    await ch.consume('q', (d) => got.push(d))
    await ch.close()
    const other = channelOn(broker)
    await other.publish(msg('late'), '', 'q')
    await new Promise((r) => setTimeout(r, 20))
    expect(got).toHaveLength(0)
    expect(broker.size('q')).toBe(1)
  })
})

describe('VirtualChannel: publishing and routing', () => {
  it('drops a message to the default exchange for an undeclared queue', async () => {
    const { broker, ch } = setup()
    await expect(ch.publish(msg('x'), '', 'nowhere')).resolves.toBeUndefined()
    expect(broker.hasQueue('nowhere')).toBe(false)
    expect(broker.size('nowhere')).toBe(0)
  })

  it('rejects it with UnroutableError when mandatory', async () => {
    const { ch } = setup()
    const err = await ch.publish(msg('x'), '', 'nowhere', { mandatory: true }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(UnroutableError)
    expect((err as Error).message).toContain('NO_ROUTE')
  })

  it('rejects a mandatory message that an exchange routes nowhere', async () => {
    const { ch } = setup()
    await ch.declareExchange(new Exchange('t', { type: 'topic' }))
    await withQueue(ch, 'q')
    await ch.bindQueue('q', 't', 'a.*')
    await expect(ch.publish(msg('x'), 't', 'b.c', { mandatory: true })).rejects.toBeInstanceOf(
      UnroutableError,
    )
    await expect(ch.publish(msg('x'), 't', 'a.c', { mandatory: true })).resolves.toBeUndefined()
  })

  it('routes through a topic exchange by words, storing Kombu patterns', async () => {
    const { broker, ch } = setup()
    await ch.declareExchange(new Exchange('logs', { type: 'topic' }))
    for (const [q, key] of [
      ['all', '#'],
      ['errors', '*.error'],
      ['db', 'db.#'],
    ]) {
      await withQueue(ch, q!)
      await ch.bindQueue(q!, 'logs', key!)
    }
    expect(broker.bindings.rows('logs').map((r) => r.pattern)).toEqual([
      '^.*?$',
      String.raw`^.*?[^\.]\.error$`,
      String.raw`^db\..*?$`,
    ])
    await ch.publish(msg('1'), 'logs', 'db.error')
    await ch.publish(msg('2'), 'logs', 'web.error')
    await ch.publish(msg('3'), 'logs', 'db.slow.query')
    expect([broker.size('all'), broker.size('errors'), broker.size('db')]).toEqual([3, 2, 2])
  })

  it('routes through fanout and headers exchanges', async () => {
    const { broker, ch } = setup()
    await ch.declareExchange(new Exchange('fan', { type: 'fanout' }))
    await ch.declareExchange(new Exchange('hdr', { type: 'headers' }))
    await withQueue(ch, 'f1')
    await withQueue(ch, 'f2')
    await ch.bindQueue('f1', 'fan', 'ignored')
    await ch.bindQueue('f2', 'fan', '')
    await ch.bindQueue('f1', 'hdr', '', { 'x-match': 'any', a: 1, b: 2 })
    await ch.publish(msg('f'), 'fan', 'any-key')
    expect([broker.size('f1'), broker.size('f2')]).toEqual([1, 1])
    await ch.publish(msg('h'), 'hdr', '')
    await ch.publish(msg('h', { a: 2, c: 1 }), 'hdr', '')
    expect(broker.size('f1')).toBe(1)
    await ch.publish(msg('h', { b: 2 }), 'hdr', '')
    expect(broker.size('f1')).toBe(2)
  })

  it('binding twice is a no-op; unbinding stops the routing', async () => {
    const { broker, ch } = setup()
    await ch.declareExchange(new Exchange('d'))
    await withQueue(ch, 'q')
    await ch.bindQueue('q', 'd', 'k')
    await ch.bindQueue('q', 'd', 'k')
    expect(broker.bindings.rows('d')).toHaveLength(1)
    await ch.publish(msg('1'), 'd', 'k')
    expect(broker.size('q')).toBe(1)
    await ch.unbindQueue('q', 'd', 'k')
    await ch.publish(msg('2'), 'd', 'k')
    expect(broker.size('q')).toBe(1)
  })

  it('needs delayedDelivery for a delay', async () => {
    const broker = new MemoryBroker()
    const ch = new VirtualChannel({
      primitives: broker,
      capabilities: { ...memoryCapabilities, delayedDelivery: false },
      exchanges: broker.exchanges,
      bindings: broker.bindings,
    })
    channels.push(ch)
    await withQueue(ch, 'q')
    await expect(ch.publish(msg('x'), '', 'q', { delay: 10 })).rejects.toBeInstanceOf(NotSupportedError)
    await expect(ch.publish(msg('x'), '', 'q', { delay: 0 })).resolves.toBeUndefined()
  })
})

describe('VirtualChannel: declaring', () => {
  it('deleting an exchange removes its bindings, as in AMQP', async () => {
    const { ch } = setup()
    await ch.declareExchange(new Exchange('gone', { type: 'direct' }))
    await ch.declareQueue(new Queue('gone-q'))
    await ch.bindQueue('gone-q', 'gone', 'k')
    await ch.deleteExchange('gone')
    await ch.declareExchange(new Exchange('gone', { type: 'direct' }))
    await ch.publish(msg('after'), 'gone', 'k')
    expect(await ch.get('gone-q')).toBeNull()
  })

  it('redeclaring an exchange with another type is a ChannelError 406', async () => {
    const { ch } = setup()
    await ch.declareExchange(new Exchange('x', { type: 'direct' }))
    await ch.declareExchange(new Exchange('x', { type: 'direct' }))
    const err = await ch.declareExchange(new Exchange('x', { type: 'topic' })).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ChannelError)
    expect((err as ChannelError).replyCode).toBe(406)
    expect((err as ChannelError).replyText).toBe('PRECONDITION_FAILED')
    expect((err as Error).message).toContain("inequivalent arg 'type' for exchange 'x'")
    // The channel survives.
    expect(ch.isOpen).toBe(true)
    await expect(ch.declareQueue(new Queue('still-works'))).resolves.toMatchObject({ queue: 'still-works' })
  })

  it('a passive declare of a missing exchange or queue is a ChannelError 404', async () => {
    const { ch } = setup()
    const ex = await ch.declareExchange(new Exchange('missing'), { passive: true }).catch((e: unknown) => e)
    expect(ex).toBeInstanceOf(ChannelError)
    expect((ex as ChannelError).replyCode).toBe(404)
    await expect(ch.declareQueue(new Queue('missing'), { passive: true })).rejects.toMatchObject({
      replyCode: 404,
    })
    await ch.declareExchange(new Exchange('there'))
    await expect(
      ch.declareExchange(new Exchange('there', { type: 'topic' }), { passive: true }),
    ).resolves.toBeUndefined()
  })

  it('binding to the default exchange is a ChannelError', async () => {
    const { ch } = setup()
    await withQueue(ch, 'q')
    const err = await ch.bindQueue('q', '', 'q').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ChannelError)
    expect((err as ChannelError).replyCode).toBe(403)
  })

  it("declareQueue('') makes a server-named amq.gen- queue", async () => {
    const { broker, ch } = setup()
    const a = await ch.declareQueue(new Queue(''))
    const b = await ch.declareQueue(new Queue(''))
    expect(a.queue).toMatch(/^amq\.gen-[0-9a-f-]{36}$/)
    expect(b.queue).not.toBe(a.queue)
    expect(broker.hasQueue(a.queue)).toBe(true)
    await ch.publish(msg('x'), '', a.queue)
    expect(broker.size(a.queue)).toBe(1)
  })

  it('reports message and consumer counts', async () => {
    const { ch } = setup()
    await withQueue(ch, 'counted', 'a', 'b')
    expect(await ch.declareQueue(new Queue('counted'))).toEqual({
      queue: 'counted',
      messageCount: 2,
      consumerCount: 0,
    })
    await ch.qos({ prefetchCount: 1 })
    const got: Delivery[] = []
    await ch.consume('counted', (d) => got.push(d), { consumerTag: 'c1' })
    await until(() => got.length === 1)
    expect(await ch.declareQueue(new Queue('counted'))).toEqual({
      queue: 'counted',
      messageCount: 1,
      consumerCount: 1,
    })
  })

  it('purges and deletes queues, reporting how many messages went', async () => {
    const { broker, ch } = setup()
    await ch.declareExchange(new Exchange('pd'))
    await withQueue(ch, 'p', 'a', 'b', 'c')
    await ch.bindQueue('p', 'pd', 'k')
    expect(await ch.purgeQueue('p')).toBe(3)
    expect(broker.hasQueue('p')).toBe(true)
    await ch.publish(msg('d'), '', 'p')
    expect(await ch.deleteQueue('p')).toBe(1)
    expect(broker.hasQueue('p')).toBe(false)
    expect(broker.bindings.rows('pd')).toEqual([])
  })
})

describe('VirtualChannel: consumers', () => {
  it('refuses a consumer tag in use', async () => {
    const { ch } = setup()
    await withQueue(ch, 'q')
    await ch.consume('q', () => {}, { consumerTag: 'dup' })
    const err = await ch.consume('q', () => {}, { consumerTag: 'dup' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ChannelError)
    expect((err as ChannelError).replyCode).toBe(530)
  })

  it('cancel() stops a consumer', async () => {
    const { broker, ch } = setup()
    await withQueue(ch, 'q', 'a')
    const got: Delivery[] = []
    const tag = await ch.consume('q', (d) => got.push(d))
    await until(() => got.length === 1)
    expect(got[0]!.deliveryInfo.consumerTag).toBe(tag)
    await ch.cancel(tag)
    await ch.publish(msg('b'), '', 'q')
    await new Promise((r) => setTimeout(r, 20))
    expect(got).toHaveLength(1)
    expect(broker.size('q')).toBe(1)
  })

  it('keeps to the prefetch window, counting only unacked deliveries', async () => {
    const { ch } = setup()
    await withQueue(ch, 'q', 'a', 'b', 'c')
    await ch.qos({ prefetchCount: 1 })
    const got: Delivery[] = []
    await ch.consume('q', (d) => got.push(d))
    await until(() => got.length === 1)
    await new Promise((r) => setTimeout(r, 20))
    expect(got).toHaveLength(1)
    await ch.ack(got[0]!.deliveryTag)
    await until(() => got.length === 2)
    await ch.reject(got[1]!.deliveryTag, false)
    await until(() => got.length === 3)
    expect(got.map((d) => d.body.toString())).toEqual(['a', 'b', 'c'])
  })

  it('noAck consumers are not limited by prefetch and need no ack', async () => {
    const { broker, ch } = setup()
    await withQueue(ch, 'q', 'a', 'b', 'c')
    await ch.qos({ prefetchCount: 1 })
    const got: Delivery[] = []
    await ch.consume('q', (d) => got.push(d), { noAck: true })
    await until(() => got.length === 3)
    await ch.close()
    expect(broker.size('q')).toBe(0)
  })

  it('shares a queue round-robin between its consumers', async () => {
    const { ch } = setup()
    await withQueue(ch, 'q')
    const byTag: Record<string, number> = { one: 0, two: 0 }
    await ch.consume('q', () => byTag.one!++, { consumerTag: 'one', noAck: true })
    await ch.consume('q', () => byTag.two!++, { consumerTag: 'two', noAck: true })
    for (let i = 0; i < 10; i++) await ch.publish(msg(String(i)), '', 'q')
    await until(() => byTag.one! + byTag.two! === 10)
    expect(byTag).toEqual({ one: 5, two: 5 })
  })
})
