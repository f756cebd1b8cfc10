/** Headers of every type, properties and raw bytes through RabbitMQ and back, TypeScript to TypeScript. */
import { Connection, Consumer, Producer, Queue } from '@q/kombu'
import { Inbox } from '@q/kombu-testing'
import { expect, it } from 'vitest'
import { amqpUrl } from '../test/broker.js'
import { transport } from './index.js'

it('headers keep their values and types: ints small and 64-bit, floats, null, booleans, nested, dates, bytes, bigints', async () => {
  await using conn = await new Connection(amqpUrl(), { transport }).connect()
  const queue = new Queue('', { exclusive: true })
  const { queue: name } = await (await conn.channel()).declareQueue(queue)
  const inbox = new Inbox<Buffer>({ ack: true })
  await new Consumer(conn, {
    queues: new Queue(name, { exclusive: true }),
    autoDeclare: false,
    onMessage: inbox.onMessage,
  }).consume()
  const headers = {
    small: 1,
    neg: -1,
    int32: -2147483647,
    big: 2 ** 40,
    bigneg: -(2 ** 53 - 1),
    huge: 2n ** 62n + 1n,
    float: -0.5,
    none: null,
    yes: true,
    list: [1, [2, 'three'], { four: 4 }, null],
    table: { deep: { deeper: [true] } },
    when: new Date(Date.UTC(2024, 1, 29, 12, 0, 0)),
    bytes: Buffer.from([0, 255, 1]),
    text: 'plain',
  }
  const body = Buffer.from([0, 1, 2, 253, 254, 255])
  await new Producer(conn).publish(body, {
    routingKey: name,
    contentType: 'application/data',
    headers,
    priority: 3,
    expiration: 60_000,
    messageId: 'm-1',
    timestamp: 1_700_000_000,
    userId: 'guest',
    confirm: true,
  })
  const [m] = await inbox.collect(1)
  expect(m!.headers).toEqual(headers)
  expect(m!.rawBody.equals(body)).toBe(true)
  expect(m!.contentType).toBe('application/data')
  expect(m!.properties).toEqual({
    deliveryMode: 2,
    priority: 3,
    expiration: '60000',
    messageId: 'm-1',
    timestamp: 1_700_000_000,
    userId: 'guest',
  })
})
