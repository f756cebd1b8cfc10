/**
 * Exchange types: which queues a message reaches. Each case binds queues, publishes labelled
 * messages, then sends a sentinel straight to every queue (default exchange): once a queue's
 * sentinel arrives, everything routed to it before has arrived too, so the labels before the
 * sentinel are exactly what was routed there, with no waiting for absences.
 */
import { Binding, type Connection, type ExchangeType, type Queue } from '@q/kombu'
import { expect } from 'vitest'
import type { Kit } from '../kit.js'
import { routes, type Suite } from '../suite.js'

interface Routed {
  /** Binding of each queue: a routing key, or headers-exchange arguments. */
  bindings: Record<string, string | Record<string, unknown>>
  /** Messages to publish, each with a routing key or headers; the body is its label. */
  publish: Array<{ label: string; routingKey?: string; headers?: Record<string, unknown> }>
}

const SENTINEL = '\u0000sentinel'

/** Declares the exchange and queues, publishes, and returns the labels each queue received, in order. */
async function route(kit: Kit, type: ExchangeType, spec: Routed): Promise<Record<string, string[]>> {
  const conn = await kit.connect()
  const exchange = kit.exchange(type, { type })
  const queues = Object.entries(spec.bindings).map(([label, binding]) =>
    kit.queue(label, {
      bindings: [
        typeof binding === 'string' ? new Binding(exchange, binding) : new Binding(exchange, '', binding),
      ],
    }),
  )
  const inboxes = queues.map(() => kit.inbox<string>({ ack: true }))
  for (const [i, queue] of queues.entries()) {
    await kit.consume(conn, { queues: queue, onMessage: inboxes[i]!.onMessage })
  }
  for (const m of spec.publish) {
    await kit.publish(conn, m.label, {
      exchange: exchange.name,
      routingKey: m.routingKey ?? '',
      headers: m.headers,
    })
  }
  await sentinels(kit, conn, queues)
  const result: Record<string, string[]> = {}
  for (const [i, label] of Object.keys(spec.bindings).entries()) {
    const got = await inboxes[i]!.until(
      (m) => m.body === SENTINEL,
      undefined,
      `the sentinel of queue '${label}'`,
    )
    result[label] = got.map((m) => m.body).filter((b) => b !== SENTINEL)
  }
  return result
}

async function sentinels(kit: Kit, conn: Connection, queues: Queue[]): Promise<void> {
  for (const q of queues) await kit.publishTo(conn, q.name, SENTINEL)
}

/** Cases of the "exchange types" group. */
export function routingCases(suite: Suite): void {
  const { caps } = suite

  suite.test(
    'direct: routes on the exact routing key',
    async (kit) => {
      const got = await route(kit, 'direct', {
        bindings: { a: 'a', b: 'b' },
        publish: ['a', 'b', 'c', 'a.b', 'A', 'a'].map((k, i) => ({ label: `${k}#${i}`, routingKey: k })),
      })
      expect(got).toEqual({ a: ['a#0', 'a#5'], b: ['b#1'] })
    },
    { requires: routes(caps, 'direct') },
  )

  suite.test(
    'topic: * matches exactly one word',
    async (kit) => {
      const keys = ['a.b.c', 'a.c', 'a.b.b.c', 'x.b.c', 'a.xyz.c', 'a.b.c.d']
      const got = await route(kit, 'topic', {
        bindings: { star: 'a.*.c' },
        publish: keys.map((k) => ({ label: k, routingKey: k })),
      })
      expect(got).toEqual({ star: ['a.b.c', 'a.xyz.c'] })
    },
    { requires: routes(caps, 'topic') },
  )

  suite.test(
    'topic: # matches zero or more words',
    async (kit) => {
      const keys = ['a', 'a.b', 'a.b.c', 'b.a', 'ab.c', 'b', 'x.a.y']
      const got = await route(kit, 'topic', {
        bindings: { tail: 'a.#', middle: 'x.#.y' },
        publish: keys.map((k) => ({ label: k, routingKey: k })),
      })
      expect(got).toEqual({ tail: ['a', 'a.b', 'a.b.c'], middle: ['x.a.y'] })
    },
    { requires: routes(caps, 'topic') },
  )

  suite.test(
    'topic: # alone matches every routing key',
    async (kit) => {
      const keys = ['a', 'a.b.c', 'x.y', '']
      const got = await route(kit, 'topic', {
        bindings: { all: '#', exact: 'x.y' },
        publish: keys.map((k) => ({ label: k || '(empty)', routingKey: k })),
      })
      expect(got).toEqual({ all: ['a', 'a.b.c', 'x.y', '(empty)'], exact: ['x.y'] })
    },
    { requires: routes(caps, 'topic') },
  )

  suite.test(
    'fanout: every bound queue gets a copy, whatever the routing key',
    async (kit) => {
      const got = await route(kit, 'fanout', {
        bindings: { one: 'x', two: '' },
        publish: [
          { label: 'first', routingKey: 'k1' },
          { label: 'second', routingKey: 'something.else' },
        ],
      })
      expect(got).toEqual({ one: ['first', 'second'], two: ['first', 'second'] })
    },
    { requires: [routes(caps, 'fanout'), { ok: caps.fanout, reason: 'transport has no fanout' }] },
  )

  suite.test(
    'headers: x-match all needs every bound header',
    async (kit) => {
      const got = await route(kit, 'headers', {
        bindings: { all: { 'x-match': 'all', format: 'pdf', type: 'report' } },
        publish: [
          { label: 'both', headers: { format: 'pdf', type: 'report' } },
          { label: 'format only', headers: { format: 'pdf' } },
          { label: 'both and more', headers: { format: 'pdf', type: 'report', extra: 'x' } },
          { label: 'wrong format', headers: { format: 'zip', type: 'report' } },
          { label: 'none', headers: {} },
        ],
      })
      expect(got).toEqual({ all: ['both', 'both and more'] })
    },
    { requires: routes(caps, 'headers') },
  )

  suite.test(
    'headers: x-match any needs one bound header',
    async (kit) => {
      const got = await route(kit, 'headers', {
        bindings: { any: { 'x-match': 'any', format: 'pdf', type: 'log' } },
        publish: [
          { label: 'format', headers: { format: 'pdf' } },
          { label: 'type', headers: { type: 'log' } },
          { label: 'wrong format', headers: { format: 'zip' } },
          { label: 'none', headers: {} },
          { label: 'wrong format, right type', headers: { format: 'zip', type: 'log' } },
        ],
      })
      expect(got).toEqual({ any: ['format', 'type', 'wrong format, right type'] })
    },
    { requires: routes(caps, 'headers') },
  )

  suite.test('the default exchange routes by queue name', async (kit) => {
    const conn = await kit.connect()
    const queue = kit.queue('q')
    const other = kit.queue('other')
    const inbox = kit.inbox<string>({ ack: true })
    await kit.consume(conn, { queues: queue, onMessage: inbox.onMessage })
    await (await conn.channel()).declareQueue(other)
    await kit.publishTo(conn, other.name, 'for the other queue')
    await kit.publishTo(conn, queue.name, 'hello')
    expect((await inbox.collect(1)).map((m) => m.body)).toEqual(['hello'])
    expect(inbox.messages[0]!.deliveryInfo).toMatchObject({ exchange: '', routingKey: queue.name })
    expect(await kit.size(conn, other.name)).toBe(1)
  })
}
