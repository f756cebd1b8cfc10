/**
 * @q/kombu-redis against a live Python Kombu peer (Debian's python3-kombu and python3-redis)
 * through the machine's Redis, both directions: bodies, headers and properties, priority order,
 * a topic exchange, fanout (pub/sub), and the unacked structures (each side restores what the
 * other left when it died). The Python side is python/redis_peer.py. Database 13, flushed.
 */
import { spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Connection, Consumer, Exchange, type Message, Producer, Queue } from '@q/kombu'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PYTHON, requirePeer, runPython } from './peers.js'

const DB = 13
const url = `${(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379').replace(/\/\d*$/, '')}/${DB}`
const PEER = readFileSync(fileURLToPath(new URL('../python/redis_peer.py', import.meta.url)), 'utf8')
const kombu = requirePeer('kombu')
const redisPy = requirePeer('redis')
const skip = kombu.skip || redisPy.skip
const run = randomBytes(3).toString('hex')
const name = (label: string) => `q-interop-${run}-${label}`

interface PyMessage {
  body: unknown
  headers: Record<string, unknown>
  properties: Record<string, unknown>
  delivery_info: Record<string, unknown>
  redelivered: boolean
  content_type: string
}

/** Runs the Python peer with a JSON request; returns its last JSON line. */
function peer<T>(request: Record<string, unknown>): T {
  const lines = runPython(PEER, JSON.stringify({ url, ...request }))
    .trim()
    .split('\n')
  return JSON.parse(lines[lines.length - 1]!) as T
}

/** Starts the Python peer without waiting; resolves `ready` at its first line, `done` with its last. */
function peerAsync<T>(request: Record<string, unknown>): { ready: Promise<void>; done: Promise<T> } {
  const child = spawn(PYTHON, ['-c', PEER], { stdio: ['pipe', 'pipe', 'pipe'] })
  child.stdin.end(JSON.stringify({ url, ...request }))
  let out = ''
  let err = ''
  let onReady!: () => void
  const ready = new Promise<void>((r) => {
    onReady = r
  })
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString()
    if (out.includes('\n')) onReady()
  })
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString()
  })
  const done = new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
    child.on('exit', (code) => {
      clearTimeout(timer)
      if (code !== 0) return reject(new Error(`python failed (${code}): ${err}`))
      const lines = out.trim().split('\n')
      resolve(JSON.parse(lines[lines.length - 1]!) as T)
    })
  })
  return { ready, done }
}

function flush(): void {
  spawnSync('redis-cli', ['-u', url, 'FLUSHDB'], { stdio: 'ignore' })
}

async function collect<T>(
  conn: Connection,
  queue: Queue,
  n: number,
  prefetchCount = 0,
): Promise<Message<T>[]> {
  const got: Message<T>[] = []
  const consumer = new Consumer<T>(conn, {
    queues: queue,
    prefetchCount,
    onMessage: async (_body, m) => {
      got.push(m)
      await m.ack()
    },
  })
  await consumer.consume()
  const deadline = Date.now() + 10_000
  while (got.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
  await consumer.close()
  return got
}

describe.skipIf(skip)(`Redis interop with Python Kombu${skip ? ` [skipped: ${kombu.reason}]` : ''}`, () => {
  let conn: Connection
  beforeAll(async () => {
    flush()
    conn = await new Connection(url).connect() // @q/kombu-redis, loaded by scheme
  })
  afterAll(async () => {
    await conn?.close()
    flush()
  })

  it('Python publishes, Node consumes: body, headers, properties, delivery info', async () => {
    const q = {
      name: name('py2node'),
      exchange: { name: name('py2node'), type: 'direct' },
      routing_key: 'rk',
    }
    peer({
      command: 'publish',
      messages: [
        {
          exchange: q.exchange,
          routing_key: 'rk',
          body: { n: 1, s: 'h\u00e9' },
          headers: { h: [1, 'x'] },
          correlation_id: 'c-1',
          declare: [q],
        },
        { exchange: q.exchange, routing_key: 'rk', body: { packed: true }, serializer: 'msgpack' },
      ],
    })
    const got = await collect(
      conn,
      new Queue(q.name, { exchange: new Exchange(q.exchange.name), routingKey: 'rk' }),
      2,
    )
    expect(got.map((m) => m.body)).toEqual([{ n: 1, s: 'h\u00e9' }, { packed: true }])
    expect(got[0]!.headers).toEqual({ h: [1, 'x'] })
    expect(got[0]!.properties).toMatchObject({ correlationId: 'c-1', deliveryMode: 2, priority: 0 })
    expect(got[0]!.deliveryInfo).toMatchObject({
      exchange: q.exchange.name,
      routingKey: 'rk',
      redelivered: false,
    })
    expect(got[1]!.contentType).toBe('application/x-msgpack')
  })

  it('Node publishes, Python consumes: body, headers, properties, delivery info', async () => {
    const exchange = new Exchange(name('node2py'), { type: 'direct' })
    const queue = new Queue(name('node2py'), { exchange, routingKey: 'rk' })
    const producer = new Producer(conn, { exchange })
    await producer.publish(
      { n: 2 },
      { routingKey: 'rk', headers: { h: { a: null } }, correlationId: 'c-2', declare: [queue] },
    )
    await producer.publish('text body', { routingKey: 'rk', serializer: 'text' })
    const { messages } = peer<{ messages: PyMessage[] }>({
      command: 'consume',
      queue: { name: queue.name, exchange: { name: exchange.name, type: 'direct' }, routing_key: 'rk' },
      count: 2,
      timeout: 10,
    })
    expect(messages.map((m) => m.body)).toEqual([{ n: 2 }, 'text body'])
    expect(messages[0]!.headers).toEqual({ h: { a: null } })
    expect(messages[0]!.properties).toMatchObject({ correlation_id: 'c-2', delivery_mode: 2, priority: 0 })
    expect(messages[0]!.delivery_info).toEqual({ exchange: exchange.name, routing_key: 'rk' })
  })

  it('priority: lower first, both directions, as Kombu buckets them', async () => {
    const priorities = [9, 0, 5, 3, 7, 1]
    const expected = [0, 1, 5, 3, 7, 9] // golden redis_semantics_checks.json
    const fromPy = { name: name('pri-py'), exchange: null, routing_key: name('pri-py') }
    peer({
      command: 'publish',
      messages: priorities.map((priority) => ({ routing_key: fromPy.name, body: priority, priority })),
    })
    const got = await collect<number>(conn, new Queue(fromPy.name), 6, 1)
    expect(got.map((m) => m.body)).toEqual(expected)

    const toPy = new Queue(name('pri-node'))
    for (const priority of priorities)
      await new Producer(conn).publish(priority, { routingKey: toPy.name, priority })
    const { messages } = peer<{ messages: PyMessage[] }>({
      command: 'consume',
      queue: { name: toPy.name, exchange: null, routing_key: toPy.name },
      count: 6,
      timeout: 10,
    })
    expect(messages.map((m) => m.body)).toEqual(expected)
  })

  it('topic exchange: a Python binding routes what Node publishes, and the reverse', async () => {
    const ex = { name: name('topic'), type: 'topic' }
    const pyQueue = { name: name('topic-py'), exchange: ex, routing_key: 'a.#' }
    peer({
      command: 'publish',
      messages: [{ exchange: ex, routing_key: 'none', body: 'declare only', declare: [pyQueue] }],
    })
    const exchange = new Exchange(ex.name, { type: 'topic' })
    for (const rk of ['a.b.c', 'b.a', 'a'])
      await new Producer(conn, { exchange }).publish(rk, { routingKey: rk })
    const { messages } = peer<{ messages: PyMessage[] }>({
      command: 'consume',
      queue: pyQueue,
      count: 2,
      timeout: 10,
    })
    expect(messages.map((m) => m.body)).toEqual(['a.b.c', 'a'])

    const nodeQueue = new Queue(name('topic-node'), { exchange, routingKey: '*.x' })
    const channel = await conn.channel()
    await channel.declareExchange(exchange)
    await channel.declareQueue(nodeQueue)
    await channel.bindQueue(nodeQueue.name, ex.name, '*.x')
    peer({
      command: 'publish',
      messages: ['a.x', 'a.b.x', 'b.x'].map((rk) => ({ exchange: ex, routing_key: rk, body: rk })),
    })
    // Python routes with the regex we stored (Kombu's, which lets `*` match `a.b`: kombu's own quirk).
    const got = await collect(conn, nodeQueue, 3)
    expect(got.map((m) => m.body).sort()).toEqual(['a.b.x', 'a.x', 'b.x'])
  })

  it('fanout: Python subscribers get what Node publishes, Node subscribers what Python publishes', async () => {
    const ex = { name: name('fan'), type: 'fanout' }
    const sub = peerAsync<{ messages: PyMessage[] }>({
      command: 'subscribe',
      queue: { name: name('fan-py'), exchange: ex, routing_key: '' },
      count: 2,
      timeout: 10,
    })
    await sub.ready
    const exchange = new Exchange(ex.name, { type: 'fanout' })
    const producer = new Producer(conn, { exchange })
    await producer.publish({ to: 'python', n: 1 })
    await producer.publish({ to: 'python', n: 2 })
    const { messages } = await sub.done
    expect(messages.map((m) => m.body)).toEqual([
      { to: 'python', n: 1 },
      { to: 'python', n: 2 },
    ])
    expect(messages[0]!.delivery_info).toMatchObject({ exchange: ex.name, routing_key: '' })

    const got: unknown[] = []
    const consumer = await new Consumer(conn, {
      queues: new Queue(name('fan-node'), { exchange, routingKey: '' }),
      noAck: true,
      onMessage: (body) => void got.push(body),
    }).consume()
    peer({
      command: 'publish',
      messages: [1, 2, 3].map((n) => ({ exchange: ex, routing_key: '', body: { to: 'node', n } })),
    })
    const deadline = Date.now() + 5000
    while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    await consumer.close()
    expect(got).toEqual([1, 2, 3].map((n) => ({ to: 'node', n })))
  })

  it("visibility timeout: Node restores what a dead Python worker held, Python restores Node's", async () => {
    const options = { visibilityTimeout: 1 }
    const queue = new Queue(name('vt'))
    await new Producer(conn).publish('held by python', { routingKey: queue.name })
    const took = peer<{ took: string }>({
      command: 'take_and_die',
      transport_options: { visibility_timeout: 1 },
      queue: { name: queue.name, exchange: null, routing_key: queue.name },
    })
    expect(took.took).toBe('held by python')
    await new Promise((r) => setTimeout(r, 1200))
    await using nodeConn = await new Connection(url, { transportOptions: options }).connect()
    const [m] = await collect<string>(nodeConn, queue, 1)
    expect(m?.body).toBe('held by python')
    expect(m?.redelivered).toBe(true)

    // The reverse: a Node worker killed (SIGKILL) while it holds the message.
    await new Producer(conn).publish('held by node', { routingKey: queue.name })
    const holder = spawn(
      process.execPath,
      ['--conditions=@q/source', '--import', 'tsx', 'test/holder.ts', url, '', queue.name, '1', '1'],
      {
        cwd: fileURLToPath(new URL('../../packages/kombu-redis/', import.meta.url)),
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    await new Promise<void>((resolve, reject) => {
      holder.stdout.on('data', (c: Buffer) => c.toString().includes('held 1') && resolve())
      holder.on('exit', (code) => reject(new Error(`holder exited with ${code}`)))
    })
    // Past its start-up restore scan: a worker killed while holding the scan's lock delays
    // everyone's restores by the lock's life (Kombu's too).
    await new Promise((r) => setTimeout(r, 300))
    holder.kill('SIGKILL')
    await new Promise((r) => setTimeout(r, 1500))
    const { message } = peer<{ message: PyMessage | null }>({
      command: 'restore_visible',
      transport_options: { visibility_timeout: 1 },
      queue: { name: queue.name },
    })
    expect(message?.body).toBe('held by node')
    expect(message?.redelivered).toBe(true)
    expect(message?.headers).toMatchObject({ redelivered: true })
  })
})
