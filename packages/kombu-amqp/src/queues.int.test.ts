/**
 * Queue arguments on RabbitMQ: x-expires, dead-lettering, quorum and stream queues (which refuse a
 * global prefetch), single active consumer. Priority and TTL are covered by the contract suite.
 */
import { randomUUID } from 'node:crypto'
import type { Delivery } from '@q/kombu'
import {
  type Channel,
  ChannelError,
  Connection,
  ConnectionError,
  Consumer,
  Exchange,
  type Message,
  Producer,
  Queue,
} from '@q/kombu'
import { elapse, eventually, Inbox } from '@q/kombu-testing'
import { afterEach, describe, expect, it } from 'vitest'
import { amqpUrl } from '../test/broker.js'
import { createAmqpTransport, transport } from './index.js'

const opened: Connection[] = []
const cleanup: Array<(ch: Channel) => Promise<unknown>> = []
async function connect(driver = transport): Promise<Connection> {
  const conn = new Connection(amqpUrl(), { transport: driver, logger: quiet })
  opened.push(conn)
  return conn.connect()
}
const quiet = { debug() {}, info() {}, warn() {}, error() {} }
afterEach(async () => {
  for (const c of opened.splice(0)) await c.close()
  const conn = await new Connection(amqpUrl(), { transport }).connect()
  const ch = await conn.channel()
  for (const step of cleanup.splice(0)) await step(ch).catch(() => {})
  await conn.close()
})
function named(label: string): string {
  const name = `q-args-${label}-${randomUUID().slice(0, 8)}`
  cleanup.push(
    (ch) => ch.deleteQueue(name),
    (ch) => ch.deleteExchange(name),
  )
  return name
}

describe('queue arguments', () => {
  it('expires (x-expires): an unused queue goes away', async () => {
    const conn = await connect()
    const channel = await conn.channel()
    const queue = new Queue(named('expires'), { expires: 200 })
    await channel.declareQueue(queue)
    // A passive declare counts as a use and would restart the clock: let the time pass, then look once.
    await elapse(1500)
    await expect(channel.declareQueue(queue, { passive: true })).rejects.toMatchObject({ replyCode: 404 })
  })

  it('dead-lettering: a rejected message goes to the dead-letter exchange, with its x-death history', async () => {
    const conn = await connect()
    const dlx = new Exchange(named('dlx'), { type: 'direct' })
    const dead = new Queue(named('dead'), { exchange: dlx, routingKey: 'dead' })
    const work = new Queue(named('work'), { deadLetterExchange: dlx.name, deadLetterRoutingKey: 'dead' })
    const graveyard = new Inbox({ ack: true })
    await new Consumer(conn, { queues: dead, onMessage: graveyard.onMessage }).consume()
    await new Consumer(conn, { queues: work, onMessage: (_b, m) => m.reject() }).consume()
    await new Producer(conn).publish(
      { job: 1 },
      { routingKey: work.name, confirm: true, headers: { attempt: 1 } },
    )
    const [m] = await graveyard.collect(1)
    expect(m!.body).toEqual({ job: 1 })
    expect(m!.headers.attempt).toBe(1)
    const [death] = m!.headers['x-death'] as Array<Record<string, unknown>>
    expect(death).toMatchObject({
      reason: 'rejected',
      queue: work.name,
      exchange: '',
      count: 1,
      'routing-keys': [work.name],
    })
    expect(death!.time).toBeInstanceOf(Date)
  })

  it('a quorum queue under a global prefetch: consumed with a per-consumer prefetch instead', async () => {
    const conn = await connect()
    const channel = await conn.channel()
    const queue = new Queue(named('quorum'), { arguments: { 'x-queue-type': 'quorum' } })
    await channel.qos({ prefetchCount: 2, global: true })
    await channel.declareQueue(queue)
    const producer = new Producer(conn)
    for (let i = 0; i < 5; i++) await producer.publish(i, { routingKey: queue.name, confirm: true })
    const got: Delivery[] = []
    await channel.consume(queue.name, (d) => got.push(d))
    await eventually(() => got.length, 2, { what: 'deliveries' })
    // The window holds: two unacknowledged, three waiting.
    await new Promise((r) => setTimeout(r, 200))
    expect(got).toHaveLength(2)
    await channel.ack(got[1]!.deliveryTag, true)
    await eventually(() => got.length, 4, { what: 'deliveries' })
    expect(conn.state).toBe('connected')
  })

  it('a quorum queue under a global prefetch on a channel already consuming globally: refused, connection kept', async () => {
    const conn = await connect()
    const channel = await conn.channel()
    const classic = new Queue(named('classic'))
    const quorum = new Queue(named('quorum'), { arguments: { 'x-queue-type': 'quorum' } })
    await (await conn.channel()).declareQueue(quorum)
    await channel.declareQueue(classic)
    await channel.qos({ prefetchCount: 2, global: true })
    await channel.consume(classic.name, () => {})
    await expect(channel.consume(quorum.name, () => {})).rejects.toMatchObject({ replyCode: 540 })
    expect(conn.state).toBe('connected')
  })

  it("a quorum queue this driver never saw declared: RabbitMQ's 540 is learned, and the next connection gets it right", async () => {
    const queue = new Queue(named('learned'), { arguments: { 'x-queue-type': 'quorum' } })
    await (await (await connect()).channel()).declareQueue(queue)
    const driver = createAmqpTransport()
    const conn = await connect(driver)
    const first = await conn.channel()
    await first.qos({ prefetchCount: 1, global: true })
    await expect(first.consume(queue.name, () => {})).rejects.toBeInstanceOf(ConnectionError)
    await eventually(() => conn.state, 'connected', { timeout: 5000, what: 'the reconnection' })
    const again = await conn.channel()
    await again.qos({ prefetchCount: 1, global: true })
    await again.consume(queue.name, () => {})
    expect(conn.state).toBe('connected')
  })

  it('a stream queue: consumed from the first offset, with a prefetch', async () => {
    const conn = await connect()
    const channel = await conn.channel()
    const queue = new Queue(named('stream'), { arguments: { 'x-queue-type': 'stream' } })
    await channel.declareQueue(queue)
    const producer = new Producer(conn)
    for (const body of ['a', 'b', 'c'])
      await producer.publish(body, { routingKey: queue.name, confirm: true })
    await channel.qos({ prefetchCount: 10, global: true })
    const got: Delivery[] = []
    await channel.consume(queue.name, (d) => got.push(d), { arguments: { 'x-stream-offset': 'first' } })
    await eventually(() => got.length, 3, { what: 'deliveries' })
    expect(got.map((d) => d.body.toString())).toEqual(['a', 'b', 'c'])
    expect(got[0]!.headers['x-stream-offset']).toBe(0)
    for (const d of got) await channel.ack(d.deliveryTag)
  })

  it('single active consumer: one consumer gets everything until it goes, then the next takes over', async () => {
    const queue = new Queue(named('sac'), { arguments: { 'x-single-active-consumer': true } })
    const [a, b] = [new Inbox<number>({ ack: true }), new Inbox<number>({ ack: true })]
    const first = await new Consumer(await connect(), { queues: queue, onMessage: a.onMessage }).consume()
    await new Consumer(await connect(), { queues: queue, onMessage: b.onMessage }).consume()
    const producer = new Producer(await connect())
    for (let i = 0; i < 4; i++) await producer.publish(i, { routingKey: queue.name, confirm: true })
    await a.collect(4)
    await first.close()
    await producer.publish(4, { routingKey: queue.name, confirm: true })
    expect((await b.collect(1)).map((m: Message<number>) => m.body)).toEqual([4])
    expect(b.messages).toHaveLength(1)
  })

  it('redeclaring a queue with other arguments is a ChannelError (the connection stays)', async () => {
    const conn = await connect()
    const queue = new Queue(named('redeclare'), { messageTtl: 1000 })
    const channel = await conn.channel()
    await channel.declareQueue(queue)
    await expect(channel.declareQueue(queue.with({ messageTtl: 2000 }))).rejects.toBeInstanceOf(ChannelError)
    expect(conn.state).toBe('connected')
  })
})
