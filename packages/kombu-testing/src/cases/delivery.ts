/** Delivery order and timing: priorities, time to live, delayed delivery and volume. */
import { Producer } from '@q/kombu'
import { expect } from 'vitest'
import { elapse, eventually } from '../inbox.js'
import type { Suite } from '../suite.js'

/** Cases of the "priority" group. */
export function priorityCases(suite: Suite): void {
  const order = suite.caps.priority
  suite.test(
    'priority: messages are delivered in priority order, FIFO within a priority',
    async (kit) => {
      const conn = await kit.connect()
      const queue = kit.queue('q', { maxPriority: 10 })
      await (await conn.channel()).declareQueue(queue)
      const published = [3, 9, 0, 6, 9, 3]
      for (const [i, priority] of published.entries()) {
        await kit.publishTo(conn, queue.name, `p${priority}#${i}`, { priority })
      }
      await eventually(() => kit.size(conn, queue.name), published.length, {
        timeout: kit.ms(2000),
        what: 'queue size',
      })
      const inbox = kit.inbox<string>({ ack: true })
      await kit.consume(conn, { queues: queue, prefetchCount: 1, onMessage: inbox.onMessage })
      const got = (await inbox.collect(published.length)).map((m) => m.body)
      const expected =
        order === 'higher-first'
          ? ['p9#1', 'p9#4', 'p6#3', 'p3#0', 'p3#5', 'p0#2']
          : ['p0#2', 'p3#0', 'p3#5', 'p6#3', 'p9#1', 'p9#4']
      expect(got).toEqual(expected)
    },
    { requires: { ok: order !== 'none', reason: 'transport has no message priority' } },
  )
}

/** Cases of the "time to live" group. */
export function ttlCases(suite: Suite): void {
  const ttl = { ok: suite.caps.ttl, reason: 'transport has no TTL' }

  suite.test(
    'TTL: a message past its expiration is not delivered',
    async (kit) => {
      const conn = await kit.connect()
      const queue = kit.queue('q')
      await (await conn.channel()).declareQueue(queue)
      const life = kit.ms(100)
      await kit.publishTo(conn, queue.name, 'short', { expiration: life })
      await kit.publishTo(conn, queue.name, 'long', { expiration: 60_000 })
      await kit.publishTo(conn, queue.name, 'forever')
      // A TTL is about time passing: this wait is the point of the test, not a synchronisation.
      await elapse(life + kit.ms(100))
      const inbox = kit.inbox<string>({ ack: true })
      await kit.consume(conn, { queues: queue, onMessage: inbox.onMessage })
      await inbox.until((m) => m.body === 'forever')
      expect(inbox.bodies).toEqual(['long', 'forever'])
      expect(inbox.messages[0]!.properties.expiration).toBe('60000')
    },
    { requires: ttl },
  )

  suite.test(
    'TTL: messages older than the queue messageTtl are not delivered',
    async (kit) => {
      const conn = await kit.connect()
      const life = kit.ms(100)
      const queue = kit.queue('q', { messageTtl: life })
      await (await conn.channel()).declareQueue(queue)
      await kit.publishTo(conn, queue.name, 'old')
      await elapse(life + kit.ms(100))
      // Expired messages leave the queue: they are not counted as ready any more.
      await eventually(() => kit.size(conn, queue.name), 0, {
        timeout: kit.ms(2000),
        what: 'queue size after expiry',
      })
      const inbox = kit.inbox<string>({ ack: true })
      await kit.consume(conn, { queues: queue, onMessage: inbox.onMessage })
      // With a consumer waiting, a fresh message is delivered well within its TTL.
      await kit.publishTo(conn, queue.name, 'fresh')
      await inbox.until((m) => m.body === 'fresh')
      expect(inbox.bodies).toEqual(['fresh'])
    },
    { requires: ttl },
  )
}

/** Cases of the "delayed delivery" group. */
export function delayCases(suite: Suite): void {
  suite.test(
    'delay: a delayed message arrives no sooner than its delay, after later undelayed ones',
    async (kit) => {
      const conn = await kit.connect()
      const queue = kit.queue('q')
      const inbox = kit.inbox<string>({ ack: true })
      await kit.consume(conn, { queues: queue, onMessage: inbox.onMessage })
      const start = Date.now()
      await kit.publishTo(conn, queue.name, 'late', { delay: 300 })
      await kit.publishTo(conn, queue.name, 'now')
      await inbox.until((m) => m.body === 'late', kit.ms(3000))
      expect(inbox.bodies).toEqual(['now', 'late'])
      // Timers may fire a little early against Date.now(); 250 ms leaves room for that only.
      expect(inbox.arrivals[1]! - start).toBeGreaterThanOrEqual(250)
    },
    { requires: { ok: suite.caps.delayedDelivery, reason: 'transport has no delayed delivery' } },
  )
}

/** Cases of the "volume" group. */
export function volumeCases(suite: Suite): void {
  suite.test(
    '10,000 messages arrive complete and in order',
    async (kit) => {
      const total = 10_000
      const conn = await kit.connect()
      const queue = kit.queue('q')
      const inbox = kit.inbox<{ seq: number }>({ ack: true, timeout: 30_000 })
      await kit.consume(conn, { queues: queue, prefetchCount: 100, onMessage: inbox.onMessage })
      const producer = new Producer(conn, { autoDeclare: false })
      for (let seq = 0; seq < total; seq++) {
        await producer.publish({ seq }, { exchange: '', routingKey: queue.name })
      }
      const got = await inbox.collect(total)
      const firstOutOfOrder = got.findIndex((m, i) => m.body.seq !== i)
      expect(firstOutOfOrder, `message ${firstOutOfOrder} is out of order`).toBe(-1)
      expect(inbox.messages).toHaveLength(total)
      expect(await kit.size(conn, queue.name)).toBe(0)
    },
    { timeout: 60_000 },
  )
}
