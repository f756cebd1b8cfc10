/**
 * Batched publishing (`Producer.publishMany`): a batch arrives whole and in order, is routed to
 * every queue its exchange and routing key reach, and keeps priorities. Transports whose channel
 * has no `publishMany` go through the producer's fallback (one publish per message) and must
 * pass the same cases.
 */
import { Binding, type Connection, type ExchangeType, Producer, type PublishManyOptions } from '@q/kombu'
import { expect } from 'vitest'
import { eventually } from '../inbox.js'
import type { Kit } from '../kit.js'
import { routes, type Suite } from '../suite.js'

/** Publishes a batch, confirmed where the transport has confirms. */
async function publishMany(
  kit: Kit,
  conn: Connection,
  bodies: readonly unknown[],
  options: PublishManyOptions,
): Promise<void> {
  await new Producer(conn, { autoDeclare: false }).publishMany(bodies, {
    confirm: kit.caps.publisherConfirms,
    ...options,
  })
}

/** Binds one queue per binding key to a new exchange of `type`, each with a consuming inbox. */
async function boundQueues(kit: Kit, conn: Connection, type: ExchangeType, keys: Record<string, string>) {
  const exchange = kit.exchange(type, { type })
  const inboxes: Record<string, ReturnType<Kit['inbox']>> = {}
  for (const [label, key] of Object.entries(keys)) {
    const queue = kit.queue(label, { bindings: [new Binding(exchange, key)] })
    inboxes[label] = kit.inbox({ ack: true })
    await kit.consume(conn, { queues: queue, onMessage: inboxes[label]!.onMessage })
  }
  return { exchange, inboxes }
}

/** Cases of the "batched publish" group. */
export function publishManyCases(suite: Suite): void {
  const { caps } = suite

  suite.test(
    'publishMany: a batch of 500 arrives complete and in order',
    async (kit) => {
      const total = 500
      const conn = await kit.connect()
      const queue = kit.queue('q')
      const inbox = kit.inbox<{ seq: number }>({ ack: true, timeout: 20_000 })
      await kit.consume(conn, { queues: queue, prefetchCount: 100, onMessage: inbox.onMessage })
      const bodies = Array.from({ length: total }, (_, seq) => ({ seq }))
      await publishMany(kit, conn, bodies.slice(0, 200), { exchange: '', routingKey: queue.name })
      await publishMany(kit, conn, bodies.slice(200), { exchange: '', routingKey: queue.name })
      const got = await inbox.collect(total)
      const firstOutOfOrder = got.findIndex((m, i) => m.body.seq !== i)
      expect(firstOutOfOrder, `message ${firstOutOfOrder} is out of order`).toBe(-1)
      expect(inbox.messages).toHaveLength(total)
    },
    { timeout: 30_000 },
  )

  suite.test(
    'publishMany: a direct exchange routes the batch to every queue bound with its key',
    async (kit) => {
      const conn = await kit.connect()
      const { exchange, inboxes } = await boundQueues(kit, conn, 'direct', { one: 'k', two: 'k', other: 'x' })
      await publishMany(kit, conn, ['a', 'b', 'c'], { exchange: exchange.name, routingKey: 'k' })
      await publishMany(kit, conn, ['x'], { exchange: exchange.name, routingKey: 'x' })
      expect((await inboxes.one!.collect(3)).map((m) => m.body)).toEqual(['a', 'b', 'c'])
      expect((await inboxes.two!.collect(3)).map((m) => m.body)).toEqual(['a', 'b', 'c'])
      // The batch to 'x' was published after the batch to 'k': once it is in, nothing else comes.
      expect((await inboxes.other!.collect(1)).map((m) => m.body)).toEqual(['x'])
    },
    { requires: routes(caps, 'direct') },
  )

  suite.test(
    'publishMany: a topic exchange routes the batch to every matching queue',
    async (kit) => {
      const conn = await kit.connect()
      const { exchange, inboxes } = await boundQueues(kit, conn, 'topic', {
        all: '#',
        star: 'a.*',
        none: 'b.#',
      })
      await publishMany(kit, conn, [1, 2, 3, 4], { exchange: exchange.name, routingKey: 'a.b' })
      await publishMany(kit, conn, [5], { exchange: exchange.name, routingKey: 'b.c' })
      expect((await inboxes.all!.collect(5)).map((m) => m.body)).toEqual([1, 2, 3, 4, 5])
      expect((await inboxes.star!.collect(4)).map((m) => m.body)).toEqual([1, 2, 3, 4])
      expect((await inboxes.none!.collect(1)).map((m) => m.body)).toEqual([5])
    },
    { requires: routes(caps, 'topic') },
  )

  suite.test(
    'publishMany: per-message priorities are honoured within a batch',
    async (kit) => {
      const conn = await kit.connect()
      const queue = kit.queue('q', { maxPriority: 10 })
      await (await conn.channel()).declareQueue(queue)
      const published = [3, 9, 0, 6, 9, 3]
      await publishMany(
        kit,
        conn,
        published.map((p, i) => `p${p}#${i}`),
        { exchange: '', routingKey: queue.name, each: published.map((priority) => ({ priority })) },
      )
      await eventually(() => kit.size(conn, queue.name), published.length, {
        timeout: kit.ms(2000),
        what: 'queue size',
      })
      const inbox = kit.inbox<string>({ ack: true })
      await kit.consume(conn, { queues: queue, prefetchCount: 1, onMessage: inbox.onMessage })
      const got = (await inbox.collect(published.length)).map((m) => m.body)
      expect(got).toEqual(
        caps.priority === 'higher-first'
          ? ['p9#1', 'p9#4', 'p6#3', 'p3#0', 'p3#5', 'p0#2']
          : ['p0#2', 'p3#0', 'p3#5', 'p6#3', 'p9#1', 'p9#4'],
      )
    },
    { requires: { ok: caps.priority !== 'none', reason: 'transport has no message priority' } },
  )
}
