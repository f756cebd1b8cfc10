/**
 * Acknowledgements: ack, reject, requeue, double settlement, prefetch, and what happens to
 * unacknowledged messages when their consumer or connection goes away.
 */
import { type Connection, type Consumer, MessageStateError, type Queue } from '@q/kombu'
import { expect } from 'vitest'
import { eventually } from '../inbox.js'
import type { Kit } from '../kit.js'
import type { Suite } from '../suite.js'

/** Consumes `queue` on a new connection and returns every body up to a sentinel published now. */
export async function remaining(
  kit: Kit,
  queue: Queue,
): Promise<Array<{ body: unknown; redelivered: boolean }>> {
  const conn = await kit.connect()
  const inbox = kit.inbox({ ack: true })
  await kit.consume(conn, { queues: queue, onMessage: inbox.onMessage })
  await kit.publishTo(conn, queue.name, 'sentinel')
  const got = await inbox.until((m) => m.body === 'sentinel')
  return got.slice(0, -1).map((m) => ({ body: m.body, redelivered: m.redelivered }))
}

/** Publishes `n` numbered messages (0, 1, ...) to a new queue before anyone consumes it. */
export async function filled(kit: Kit, conn: Connection, n: number): Promise<Queue> {
  const queue = kit.queue('q')
  await (await conn.channel()).declareQueue(queue)
  for (let i = 0; i < n; i++) await kit.publishTo(conn, queue.name, i)
  await eventually(() => kit.size(conn, queue.name), n, { timeout: kit.ms(2000), what: 'queue size' })
  return queue
}

/** Cases of the "acknowledgements" group. */
export function ackCases(suite: Suite): void {
  const acks = { ok: suite.caps.acknowledgements, reason: 'transport does not track acknowledgements' }

  suite.test(
    'ack: an acknowledged message is not delivered again after the connection closes',
    async (kit) => {
      const conn = await kit.connect()
      const queue = await filled(kit, conn, 1)
      const inbox = kit.inbox()
      await kit.consume(conn, { queues: queue, onMessage: inbox.onMessage })
      const [m] = await inbox.collect(1)
      await m!.ack()
      expect(m!.state).toBe('ACK')
      await conn.close()
      expect(await remaining(kit, queue)).toEqual([])
    },
  )

  suite.test('reject: a rejected message is dropped, not requeued', async (kit) => {
    const conn = await kit.connect()
    const queue = await filled(kit, conn, 2)
    const inbox = kit.inbox()
    await kit.consume(conn, { queues: queue, prefetchCount: 1, onMessage: inbox.onMessage })
    const [m] = await inbox.collect(1)
    await m!.reject()
    expect(m!.state).toBe('REJECTED')
    const [next] = (await inbox.collect(2)).slice(1)
    expect(next!.body).toBe(1)
    await next!.ack()
    await conn.close()
    expect(await remaining(kit, queue)).toEqual([])
  })

  suite.test(
    'requeue: a requeued message comes back, flagged redelivered, and nothing is lost',
    async (kit) => {
      const conn = await kit.connect()
      const queue = await filled(kit, conn, 2)
      const inbox = kit.inbox()
      await kit.consume(conn, { queues: queue, prefetchCount: 1, onMessage: inbox.onMessage })
      const [first] = await inbox.collect(1)
      expect(first!.body).toBe(0)
      expect(first!.redelivered).toBe(false)
      await first!.requeue()
      expect(first!.state).toBe('REQUEUED')
      // The requeued message goes back to its place at the head of the queue, but RabbitMQ may
      // hand the freed prefetch slot to the next message before the requeue lands (its QoS
      // limiter is a separate process), so which of the two arrives next is not a contract.
      const again = (await inbox.collect(2))[1]!
      await again.ack()
      const other = (await inbox.collect(3))[2]!
      await other.ack()
      const byBody = new Map([again, other].map((m) => [m.body, m.redelivered]))
      expect(byBody).toEqual(
        new Map([
          [0, true],
          [1, false],
        ]),
      )
      await conn.close()
      expect(await remaining(kit, queue)).toEqual([])
    },
    { requires: acks },
  )

  suite.test('settling a message twice throws MessageStateError', async (kit) => {
    const conn = await kit.connect()
    const queue = await filled(kit, conn, 2)
    const inbox = kit.inbox()
    await kit.consume(conn, { queues: queue, onMessage: inbox.onMessage })
    const [a, b] = await inbox.collect(2)
    await a!.ack()
    await expect(a!.ack()).rejects.toBeInstanceOf(MessageStateError)
    await expect(a!.reject()).rejects.toBeInstanceOf(MessageStateError)
    await expect(a!.requeue()).rejects.toBeInstanceOf(MessageStateError)
    await b!.reject()
    await expect(b!.ack()).rejects.toBeInstanceOf(MessageStateError)
    expect([a!.state, b!.state]).toEqual(['ACK', 'REJECTED'])
    // The channel is still usable after the refused settlements.
    await kit.publishTo(conn, queue.name, 'after')
    const [, , c] = await inbox.collect(3)
    expect(c!.body).toBe('after')
    await c!.ack()
  })

  suite.test(
    'prefetch: no more than prefetchCount messages are unacknowledged at a time',
    async (kit) => {
      const conn = await kit.connect()
      const queue = await filled(kit, conn, 5)
      const inbox = kit.inbox<number>()
      await kit.consume(conn, { queues: queue, prefetchCount: 2, onMessage: inbox.onMessage })
      await inbox.collect(2)
      // Three stay ready in the queue: the window is full with two unacknowledged.
      expect(await kit.size(conn, queue.name)).toBe(3)
      expect(inbox.messages).toHaveLength(2)
      await inbox.messages[0]!.ack()
      await inbox.collect(3)
      expect(await kit.size(conn, queue.name)).toBe(2)
      expect(inbox.messages).toHaveLength(3)
      for (let i = 1; i < 5; i++) {
        await inbox.collect(i + 1)
        await inbox.messages[i]!.ack()
      }
      expect(inbox.bodies).toEqual([0, 1, 2, 3, 4])
    },
    { requires: acks },
  )

  for (const [what, close] of [
    ['closing a consumer', (_conn: Connection, consumer: Consumer) => consumer.close()],
    ['closing the connection', (conn: Connection) => conn.close()],
  ] as const) {
    suite.test(
      `${what} requeues its unacknowledged messages for another consumer`,
      async (kit) => {
        const conn = await kit.connect()
        const queue = await filled(kit, conn, 3)
        const inbox = kit.inbox()
        const consumer = await kit.consume(conn, { queues: queue, onMessage: inbox.onMessage })
        const held = await inbox.collect(3)
        expect(held.every((m) => !m.redelivered)).toBe(true)
        await close(conn, consumer)
        expect(await remaining(kit, queue)).toEqual([0, 1, 2].map((body) => ({ body, redelivered: true })))
      },
      { requires: acks },
    )
  }
}
