/** Declaring, binding, sizing, purging and deleting queues and exchanges. */
import { ChannelError, Exchange, Queue } from '@q/kombu'
import { expect } from 'vitest'
import { eventually } from '../inbox.js'
import type { Suite } from '../suite.js'

/** Cases of the "declare and bind" group. */
export function declareCases(suite: Suite): void {
  suite.test('connections made by connect() share one broker', async (kit) => {
    const [a, b] = [await kit.connect(), await kit.connect()]
    const queue = kit.queue('q')
    await (await a.channel()).declareQueue(queue)
    await kit.publishTo(a, queue.name, 'seen from the other connection')
    // If this fails, `connect` in the suite options makes a new broker (or vhost) per call.
    await eventually(() => kit.size(b, queue.name), 1, {
      timeout: kit.ms(2000),
      what: 'size seen by a second connection',
    })
  })

  suite.test('redeclaring an exchange, a queue and a binding is idempotent', async (kit) => {
    const conn = await kit.connect()
    const channel = await conn.channel()
    const exchange = kit.exchange('ex', { type: 'direct' })
    const queue = kit.queue('q')
    for (let i = 0; i < 2; i++) {
      await channel.declareExchange(exchange)
      const declared = await channel.declareQueue(queue)
      expect(declared).toMatchObject({ queue: queue.name, messageCount: 0 })
      await channel.bindQueue(queue.name, exchange.name, 'rk')
    }
    await kit.publish(conn, 'one', { exchange: exchange.name, routingKey: 'rk' })
    // Bound twice, routed once: a duplicated binding would deliver two copies.
    await eventually(() => kit.size(conn, queue.name), 1, { timeout: kit.ms(2000), what: 'queue size' })
    const inbox = kit.inbox<string>({ ack: true })
    await kit.consume(conn, { queues: queue, onMessage: inbox.onMessage })
    await kit.publishTo(conn, queue.name, 'sentinel')
    await inbox.until((m) => m.body === 'sentinel')
    expect(inbox.bodies).toEqual(['one', 'sentinel'])
  })

  suite.test('redeclaring an exchange with another type fails with ChannelError', async (kit) => {
    const conn = await kit.connect()
    const exchange = kit.exchange('ex', { type: 'direct' })
    await (await conn.channel()).declareExchange(exchange)
    const channel = await conn.channel()
    await expect(channel.declareExchange(exchange.with({ type: 'fanout' }))).rejects.toBeInstanceOf(
      ChannelError,
    )
  })

  suite.test('passive declare of a missing queue fails with ChannelError', async (kit) => {
    const conn = await kit.connect()
    const channel = await conn.channel()
    const missing = new Queue(kit.name('missing'))
    await expect(channel.declareQueue(missing, { passive: true })).rejects.toBeInstanceOf(ChannelError)
  })

  suite.test('passive declare of a missing exchange fails with ChannelError', async (kit) => {
    const conn = await kit.connect()
    const channel = await conn.channel()
    const missing = new Exchange(kit.name('missing'))
    await expect(channel.declareExchange(missing, { passive: true })).rejects.toBeInstanceOf(ChannelError)
  })

  suite.test('unbinding a queue stops routing to it', async (kit) => {
    const conn = await kit.connect()
    const channel = await conn.channel()
    const exchange = kit.exchange('ex')
    const queue = kit.queue('q')
    await channel.declareExchange(exchange)
    await channel.declareQueue(queue)
    await channel.bindQueue(queue.name, exchange.name, 'rk')
    await kit.publish(conn, 'bound', { exchange: exchange.name, routingKey: 'rk' })
    await channel.unbindQueue(queue.name, exchange.name, 'rk')
    await kit.publish(conn, 'unbound', { exchange: exchange.name, routingKey: 'rk' })
    await kit.publishTo(conn, queue.name, 'sentinel')
    const inbox = kit.inbox<string>({ ack: true })
    await kit.consume(conn, { queues: queue.name, autoDeclare: false, onMessage: inbox.onMessage })
    await inbox.until((m) => m.body === 'sentinel')
    expect(inbox.bodies).toEqual(['bound', 'sentinel'])
  })
}

/** Cases of the "queues" group. */
export function queueCases(suite: Suite): void {
  suite.test('declareQueue reports the number of ready messages', async (kit) => {
    const conn = await kit.connect()
    const channel = await conn.channel()
    const queue = kit.queue('q')
    expect((await channel.declareQueue(queue)).messageCount).toBe(0)
    for (const n of [1, 2, 3]) await kit.publishTo(conn, queue.name, n)
    await eventually(async () => (await channel.declareQueue(queue)).messageCount, 3, {
      timeout: kit.ms(2000),
      what: 'messageCount',
    })
    const passive = await channel.declareQueue(queue, { passive: true })
    expect(passive).toMatchObject({ queue: queue.name, messageCount: 3, consumerCount: 0 })
  })

  suite.test('get fetches one message at a time, or null when the queue is empty', async (kit) => {
    const conn = await kit.connect()
    const queue = kit.queue('q')
    const channel = await conn.channel()
    await channel.declareQueue(queue)
    for (const body of ['a', 'b']) await kit.publishTo(conn, queue.name, body)
    await eventually(() => kit.size(conn, queue.name), 2, { timeout: kit.ms(2000), what: 'queue size' })
    const first = await channel.get(queue.name)
    expect(first?.body.toString('utf8')).toBe('a')
    expect(first?.deliveryInfo.redelivered).toBe(false)
    await channel.ack(first!.deliveryTag)
    const second = await channel.get(queue.name)
    expect(second?.body.toString('utf8')).toBe('b')
    expect(await channel.get(queue.name)).toBeNull()
    // Not acknowledged: closing the channel gives it back, flagged redelivered.
    await channel.close()
    const other = await conn.channel()
    const again = await other.get(queue.name, { noAck: true })
    expect(again?.body.toString('utf8')).toBe('b')
    expect(again?.deliveryInfo.redelivered).toBe(true)
    expect(await other.get(queue.name)).toBeNull()
  })

  suite.test('purge removes every ready message and returns how many', async (kit) => {
    const conn = await kit.connect()
    const channel = await conn.channel()
    const queue = kit.queue('q')
    await channel.declareQueue(queue)
    for (const n of [1, 2, 3, 4]) await kit.publishTo(conn, queue.name, n)
    await eventually(() => kit.size(conn, queue.name), 4, { timeout: kit.ms(2000), what: 'queue size' })
    expect(await channel.purgeQueue(queue.name)).toBe(4)
    expect(await kit.size(conn, queue.name)).toBe(0)
    expect(await channel.purgeQueue(queue.name)).toBe(0)
  })

  suite.test('deleteQueue removes the queue with its messages', async (kit) => {
    const conn = await kit.connect()
    const channel = await conn.channel()
    const queue = kit.queue('q')
    await channel.declareQueue(queue)
    for (const n of [1, 2]) await kit.publishTo(conn, queue.name, n)
    await eventually(() => kit.size(conn, queue.name), 2, { timeout: kit.ms(2000), what: 'queue size' })
    expect(await channel.deleteQueue(queue.name)).toBe(2)
    const probe = await conn.channel()
    await expect(probe.declareQueue(queue, { passive: true })).rejects.toBeInstanceOf(ChannelError)
  })

  suite.test('a queue declared without a name gets a unique server name', async (kit) => {
    const conn = await kit.connect()
    const channel = await conn.channel()
    const first = await channel.declareQueue(
      new Queue('', { durable: false, exclusive: true, autoDelete: true }),
    )
    kit.track({ queue: first.queue })
    const second = await channel.declareQueue(
      new Queue('', { durable: false, exclusive: true, autoDelete: true }),
    )
    kit.track({ queue: second.queue })
    expect(first.queue).not.toBe('')
    expect(second.queue).not.toBe(first.queue)
    await kit.publishTo(conn, first.queue, 'hello')
    await eventually(() => kit.size(conn, first.queue), 1, { timeout: kit.ms(2000), what: 'queue size' })
    expect(await kit.size(conn, second.queue)).toBe(0)
  })
}
