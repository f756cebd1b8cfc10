/** AmqpChannel.publishMany on RabbitMQ: order, backpressure, headers, confirms, and acks in bulk. */

import type { Delivery } from '@q/kombu'
import { Connection, Queue } from '@q/kombu'
import { expect, it } from 'vitest'
import { amqpUrl } from '../test/broker.js'
import { transport } from './index.js'

const N = 5_000

it('publishes a large batch in order (past the socket buffer), headers intact, and acks it all', async () => {
  await using conn = await new Connection(amqpUrl(), { transport }).connect()
  const channel = await conn.channel()
  const { queue } = await channel.declareQueue(new Queue('', { exclusive: true }))
  const messages = Array.from({ length: N }, (_, i) => ({
    body: Buffer.from(`${i}`.padEnd(300, '.')),
    contentType: 'text/plain',
    contentEncoding: 'utf-8',
    headers: { id: `task-${i}`, retries: i, timelimit: [null, i], ignore_result: i % 2 === 0 },
    properties: { deliveryMode: 2 as const },
  }))
  await channel.publishMany!(messages, '', queue)
  await channel.publishMany!(messages.slice(0, 10), '', queue, { confirm: true })
  await channel.qos({ prefetchCount: 1000 })
  const got: Delivery[] = []
  const done = new Promise<void>((resolve) => {
    void channel.consume(queue, (d) => {
      got.push(d)
      void channel.ack(d.deliveryTag)
      if (got.length === N + 10) resolve()
    })
  })
  await done
  expect(got.slice(0, N).map((d) => d.body.toString().trimEnd().replace(/\.+$/, ''))).toEqual(
    messages.map((_, i) => `${i}`),
  )
  expect(got[N - 1]!.headers).toEqual(messages[N - 1]!.headers)
  expect(got[N]!.headers).toEqual(messages[0]!.headers)
  // Every ack went out (coalesced): nothing is left for the broker to redeliver.
  await new Promise((r) => setTimeout(r, 200))
  await channel.close()
  const check = await conn.channel()
  expect(
    (await check.declareQueue(new Queue(queue, { exclusive: true }), { passive: true })).messageCount,
  ).toBe(0)
})
