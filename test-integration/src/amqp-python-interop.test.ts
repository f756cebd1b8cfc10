/**
 * @q/kombu-amqp against a live Python Kombu peer (Debian's python3-kombu, py-amqp) through the
 * machine's RabbitMQ, both directions: json and msgpack bodies, headers of every type py-amqp
 * writes, properties, priority, and a topic exchange. The Python side is python/amqp_peer.py.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Connection, Consumer, Exchange, type Message, Producer, Queue } from '@q/kombu'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requirePeer, runPython } from './peers.js'

const BASE = (process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672').replace(/\/+$/, '')
const PEER = readFileSync(fileURLToPath(new URL('../python/amqp_peer.py', import.meta.url)), 'utf8')
const kombu = requirePeer('kombu')
const msgpack = requirePeer('msgpack')

/** Runs the Python peer with a JSON request; returns its JSON answer. */
function peer<T>(request: Record<string, unknown>): T {
  return JSON.parse(runPython(PEER, JSON.stringify({ url, ...request }))) as T
}

function ctl(...args: string[]): boolean {
  try {
    execFileSync('rabbitmqctl', ['-q', ...args], { stdio: 'ignore', timeout: 60_000 })
    return true
  } catch {
    return false
  }
}

const run = randomBytes(3).toString('hex')
const vhost = `q-test-interop-${run}`
let url = `${BASE}//`
const name = (label: string) => `q-interop-${run}-${label}`

/** The values of python/amqp_peer.py's ALL_HEADERS, as TypeScript writes them. */
const ALL_HEADERS = {
  str: 'h\u00e9llo \u2713 \u{1F600}',
  int: 42,
  neg: -7,
  zero: 0,
  int32max: 2147483647,
  big: 2 ** 40,
  bigneg: -(2 ** 40),
  float: 1.5,
  none: null,
  true: true,
  false: false,
  list: [1, 'two', null, [3.5, false]],
  dict: { a: 1, nested: { b: [true, null] } },
  when: new Date(Date.UTC(2022, 0, 2, 3, 4, 5)),
  empty_list: [],
  empty_dict: {},
}
const BODY = { text: 'h\u00e9llo \u2713', n: [1, 2.5, null, true], nested: { k: 'v' } }

interface PyMessage {
  body: unknown
  content_type: string
  content_encoding: string
  headers: Record<string, unknown>
  properties: Record<string, unknown>
  delivery_info: { exchange: string; routing_key: string; redelivered: boolean }
}

describe.skipIf(kombu.skip)(
  `AMQP interop with Python Kombu${kombu.skip ? ` [skipped: ${kombu.reason}]` : ''}`,
  () => {
    const opened: Connection[] = []
    async function connect(): Promise<Connection> {
      const conn = new Connection(url)
      opened.push(conn)
      return conn.connect()
    }
    /** Consumes `count` messages of `queue` with our Consumer, then closes it (so Python gets what follows). */
    async function receive(queue: Queue, count: number): Promise<Message[]> {
      const conn = await connect()
      try {
        return await collect(conn, queue, count)
      } finally {
        await conn.close()
      }
    }
    function collect(conn: Connection, queue: Queue, count: number): Promise<Message[]> {
      const got: Message[] = []
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`received ${got.length} of ${count}`)), 10_000)
        new Consumer(conn, {
          queues: queue,
          prefetchCount: 1,
          onMessage: async (_body, message) => {
            got.push(message)
            await message.ack()
            if (got.length === count) {
              clearTimeout(timer)
              resolve(got)
            }
          },
        })
          .consume()
          .catch(reject)
      })
    }

    beforeAll(() => {
      // A vhost of our own when rabbitmqctl works here; the default one otherwise (names are unique).
      if (ctl('add_vhost', vhost) && ctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*'))
        url = `${BASE}/${vhost}`
    })
    afterAll(async () => {
      for (const c of opened) await c.close()
      if (url.endsWith(vhost)) ctl('delete_vhost', vhost)
    })

    it('Python -> TS: json and msgpack bodies, headers of every type and properties decode as Python sent them', async () => {
      const queue = { name: name('from-py') }
      const serializers = msgpack.skip ? ['json'] : ['json', 'msgpack']
      peer({
        command: 'publish',
        messages: serializers.map((serializer) => ({
          routing_key: queue.name,
          body: BODY,
          serializer,
          headers: 'all',
          correlation_id: `corr-${serializer}`,
          declare: [queue],
        })),
      })
      const got = await receive(new Queue(queue.name), serializers.length)
      for (const [i, m] of got.entries()) {
        expect(m.body).toEqual(BODY)
        expect(m.headers).toEqual({ ...ALL_HEADERS, price: '3.14' })
        expect(m.contentType).toBe(serializers[i] === 'json' ? 'application/json' : 'application/x-msgpack')
        expect(m.properties).toMatchObject({ deliveryMode: 2, correlationId: `corr-${serializers[i]}` })
        expect(m.deliveryInfo).toMatchObject({ exchange: '', routingKey: queue.name, redelivered: false })
      }
    })

    it('TS -> Python: headers of every type decode in Python exactly as Python itself writes them', async () => {
      const queue = new Queue(name('to-py'))
      const conn = await connect()
      await (await conn.channel()).declareQueue(queue)
      const producer = new Producer(conn)
      const serializers = msgpack.skip ? ['json'] : ['json', 'msgpack']
      for (const serializer of serializers) {
        await producer.publish(BODY, {
          routingKey: queue.name,
          serializer,
          headers: ALL_HEADERS,
          correlationId: 'c-1',
          confirm: true,
        })
      }
      const { messages } = peer<{ messages: PyMessage[] }>({
        command: 'consume',
        queue: { name: queue.name },
        count: serializers.length,
      })
      const expected = peer<{ headers: Record<string, unknown> }>({ command: 'expected' }).headers
      expect(messages).toHaveLength(serializers.length)
      for (const [i, m] of messages.entries()) {
        expect(m.headers).toEqual(expected)
        expect(m.body).toEqual(BODY)
        expect(m.content_type).toBe(serializers[i] === 'json' ? 'application/json' : 'application/x-msgpack')
        expect(m.content_encoding).toBe(serializers[i] === 'json' ? 'utf-8' : 'binary')
        expect(m.properties).toMatchObject({ delivery_mode: 2, correlation_id: 'c-1' })
      }
    })

    it('priority: both sides honour an x-max-priority queue declared by the other', async () => {
      const spec = { name: name('prio'), arguments: { 'x-max-priority': 10 } }
      peer({
        command: 'publish',
        messages: [1, 9, 5].map((priority) => ({
          routing_key: spec.name,
          body: `p${priority}`,
          priority,
          declare: [spec],
        })),
      })
      const queue = new Queue(spec.name, { maxPriority: 10 })
      const fromPython = await receive(queue, 3)
      expect(fromPython.map((m) => [m.body, m.properties.priority])).toEqual([
        ['p9', 9],
        ['p5', 5],
        ['p1', 1],
      ])
      const producer = new Producer(await connect())
      for (const priority of [2, 8, 4])
        await producer.publish(`p${priority}`, { routingKey: spec.name, priority, confirm: true })
      const { messages } = peer<{ messages: PyMessage[] }>({ command: 'consume', queue: spec, count: 3 })
      expect(messages.map((m) => [m.body, m.properties.priority])).toEqual([
        ['p8', 8],
        ['p4', 4],
        ['p2', 2],
      ])
    })

    it('topic exchange: routed by pattern, both directions, with the exchange and key in the delivery info', async () => {
      const exchange = { name: name('topic'), type: 'topic' }
      const spec = { name: name('topic-q'), exchange, routing_key: 'a.#' }
      peer({
        command: 'publish',
        messages: [{ exchange, routing_key: 'a.b.c', body: 'from python', declare: [spec] }],
      })
      const queue = new Queue(spec.name, {
        exchange: new Exchange(exchange.name, { type: 'topic' }),
        routingKey: 'a.#',
      })
      const [m] = await receive(queue, 1)
      expect(m!.body).toBe('from python')
      expect(m!.deliveryInfo).toMatchObject({ exchange: exchange.name, routingKey: 'a.b.c' })

      const producer = new Producer(await connect(), { exchange: queue.exchange })
      await producer.publish('not routed', { routingKey: 'b.a', confirm: true })
      await producer.publish('from ts', { routingKey: 'a.x.y', confirm: true })
      const { messages } = peer<{ messages: PyMessage[] }>({ command: 'consume', queue: spec, count: 1 })
      expect(messages.map((p) => [p.body, p.delivery_info.exchange, p.delivery_info.routing_key])).toEqual([
        ['from ts', exchange.name, 'a.x.y'],
      ])
    })
  },
)
