/**
 * A channel error (the broker's channel.close) fails one operation with a ChannelError carrying
 * the server's reply; the channel goes on with a new amqplib channel, its consumers with it, and
 * the connection and the other channels never notice.
 */
import { randomUUID } from 'node:crypto'
import { ChannelError, Connection, Consumer, Producer, Queue } from '@q/kombu'
import { Inbox } from '@q/kombu-testing'
import { afterEach, describe, expect, it } from 'vitest'
import { amqpUrl } from '../test/broker.js'
import { transport } from './index.js'

const opened: Connection[] = []
const queues: string[] = []
async function connect(): Promise<Connection> {
  const conn = new Connection(amqpUrl(), { transport })
  opened.push(conn)
  return conn.connect()
}
afterEach(async () => {
  for (const c of opened.splice(0)) await c.close()
  const conn = await new Connection(amqpUrl(), { transport }).connect()
  const channel = await conn.channel()
  for (const q of queues.splice(0)) await channel.deleteQueue(q).catch(() => {})
  await conn.close()
})
const name = (label: string) => `q-chan-${label}-${randomUUID().slice(0, 8)}`
/** A durable queue deleted after the test (an auto-delete one would go with the errored channel's consumer). */
function queue_(label: string): Queue {
  const q = new Queue(name(label))
  queues.push(q.name)
  return q
}

describe('channel errors', () => {
  it("PRECONDITION_FAILED on a redeclare carries the server's reply, and the channel goes on", async () => {
    const conn = await connect()
    const channel = await conn.channel()
    const queue = new Queue(name('prio'), { maxPriority: 10, autoDelete: true })
    await channel.declareQueue(queue)
    const err = await channel.declareQueue(queue.with({ maxPriority: 5 })).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ChannelError)
    expect(err).toMatchObject({ replyCode: 406 })
    expect((err as ChannelError).replyText).toMatch(
      /^PRECONDITION_FAILED - inequivalent arg 'x-max-priority'/,
    )
    expect(channel.isOpen).toBe(true)
    // The next operation runs on a new amqplib channel, transparently.
    expect((await channel.declareQueue(queue)).queue).toBe(queue.name)
    await channel.deleteQueue(queue.name)
  })

  it('NOT_FOUND on a passive declare leaves the consumers of the same channel and of others running', async () => {
    const conn = await connect()
    const queue = queue_('live')
    const other = queue_('other')
    const inbox = new Inbox<string>({ ack: true })
    const otherInbox = new Inbox<string>({ ack: true })
    const consumer = await new Consumer(conn, { queues: queue, onMessage: inbox.onMessage }).consume()
    await new Consumer(conn, { queues: other, onMessage: otherInbox.onMessage }).consume()
    const producer = new Producer(conn)
    await producer.publish('before', { routingKey: queue.name, confirm: true })
    await inbox.collect(1)
    // A channel error on the consumer's own channel: its consumer moves to the new channel.
    const channel = (consumer as unknown as { channel: import('@q/kombu').Channel }).channel
    await expect(channel.declareQueue(new Queue(name('missing')), { passive: true })).rejects.toMatchObject({
      replyCode: 404,
    })
    await producer.publish('after', { routingKey: queue.name, confirm: true })
    await producer.publish('other', { routingKey: other.name, confirm: true })
    expect((await inbox.collect(2)).map((m) => m.body)).toEqual(['before', 'after'])
    expect((await otherInbox.collect(1)).map((m) => m.body)).toEqual(['other'])
    expect(conn.state).toBe('connected')
  })

  it('an ack asked for before an operation the broker refuses is not lost with the channel', async () => {
    const conn = await connect()
    const queue = queue_('acked')
    const inbox = new Inbox<string>()
    const consumer = await new Consumer(conn, { queues: queue, onMessage: inbox.onMessage }).consume()
    const producer = new Producer(conn)
    await producer.publish('acked', { routingKey: queue.name, confirm: true })
    const [acked] = await inbox.collect(1)
    const channel = (consumer as unknown as { channel: import('@q/kombu').Channel }).channel
    // Not awaited: the ack is batched until the end of the turn, and the refused declare follows.
    const ack = acked!.ack()
    await expect(channel.declareQueue(new Queue(name('missing')), { passive: true })).rejects.toBeInstanceOf(
      ChannelError,
    )
    await ack
    await producer.publish('next', { routingKey: queue.name, confirm: true })
    // Had the ack gone after the declare, the broker would have delivered 'acked' again first.
    expect((await inbox.collect(2)).map((m) => m.body)).toEqual(['acked', 'next'])
    await inbox.messages[1]!.ack()
  })

  it('an ack for a message of a channel that has been replaced is refused, not sent to the wrong message', async () => {
    const conn = await connect()
    const queue = queue_('stale')
    const inbox = new Inbox<string>()
    const consumer = await new Consumer(conn, { queues: queue, onMessage: inbox.onMessage }).consume()
    await new Producer(conn).publish('held', { routingKey: queue.name, confirm: true })
    const [held] = await inbox.collect(1)
    const channel = (consumer as unknown as { channel: import('@q/kombu').Channel }).channel
    await expect(channel.declareQueue(new Queue(name('missing')), { passive: true })).rejects.toBeInstanceOf(
      ChannelError,
    )
    // The broker requeued it when the old channel closed, and delivers it again on the new one.
    const [, again] = await inbox.collect(2)
    expect(again!.redelivered).toBe(true)
    await expect(held!.ack()).rejects.toThrow(/channel that delivered it has closed/)
    await again!.ack()
  })

  it('a message nacked by the broker (x-overflow reject-publish) fails with MessageNackedError', async () => {
    const conn = await connect()
    const queue = new Queue(name('full'), {
      maxLength: 1,
      autoDelete: true,
      arguments: { 'x-overflow': 'reject-publish' },
    })
    await (await conn.channel()).declareQueue(queue)
    const producer = new Producer(conn)
    await producer.publish('first', { routingKey: queue.name, confirm: true })
    const err = await producer
      .publish('second', { routingKey: queue.name, confirm: true })
      .catch((e: unknown) => e)
    expect((err as Error).name).toBe('MessageNackedError')
    expect(err).toBeInstanceOf(ChannelError)
    await (await conn.channel()).deleteQueue(queue.name)
  })
})
