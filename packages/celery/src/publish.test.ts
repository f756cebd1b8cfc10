/**
 * Publishing: the message that lands in the memory broker (headers, properties, body) for each
 * call option, compared with what Python Celery 5.2.6 sent; and the reverse, the messages Python
 * sent (test/golden) published raw and executed by a q worker.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  Connection,
  createMemoryTransport,
  type Delivery,
  type MemoryTransport,
  Producer,
  Queue,
  type TransportDriver,
} from '@q/kombu'
import { afterEach, describe, expect, it } from 'vitest'
import { Celery, type CeleryOptions } from './app.js'
import { ConfigurationError } from './errors.js'
import { signature } from './task.js'
import type { Worker } from './worker/worker.js'

const GOLDEN = join(fileURLToPath(new URL('.', import.meta.url)), '../test/golden')
interface GoldenMessage {
  envelope: {
    body: string
    'content-type': string
    'content-encoding': string
    headers: Record<string, unknown>
    properties: Record<string, unknown>
  }
  body_decoded: unknown
}
const golden = (name: string, i = 0) =>
  (JSON.parse(readFileSync(join(GOLDEN, name), 'utf8')) as { messages: GoldenMessage[] }).messages[i]!

let seq = 0
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** The memory transport without delayed delivery: countdown messages land at once. */
function withoutDelay(t: MemoryTransport): TransportDriver {
  return { ...t, capabilities: { ...t.capabilities, delayedDelivery: false } }
}

async function setup(options: CeleryOptions = {}, delayed = true) {
  const name = `publish-${++seq}`
  const memory = createMemoryTransport()
  const transport = delayed ? memory : withoutDelay(memory)
  const app = new Celery('pub', {
    broker: `memory://${name}`,
    connection: { transport },
    env: {},
    ...options,
  })
  const peek = await new Connection(`memory://${name}`, { transport }).connect()
  const channel = await peek.channel()
  cleanups.push(async () => {
    await peek.close()
    await app.close()
  })
  const take = async (queue = 'celery'): Promise<Delivery> => {
    const d = await channel.get(queue, { noAck: true })
    if (!d) throw new Error(`no message in ${queue}`)
    return d
  }
  return { app, take, broker: memory.broker(name), name, transport }
}

const bodyOf = (d: Delivery) =>
  JSON.parse(d.body.toString('utf8')) as [unknown[], Record<string, unknown>, Record<string, unknown>]

describe('the published message', () => {
  it('has Celery’s headers, properties and body', async () => {
    const { app, take } = await setup()
    const r = await app.sendTask('proj.add', [2, 3], { z: 4 })
    const d = await take()
    const py = golden('publish_a_plain.redis.json').envelope
    expect(Object.keys(d.headers)).toEqual(Object.keys(py.headers))
    expect(d.headers).toMatchObject({
      lang: 'js',
      task: 'proj.add',
      id: r.id,
      root_id: r.id,
      parent_id: null,
      argsrepr: '(2, 3)',
      kwargsrepr: "{'z': 4}",
      origin: `gen${process.pid}@${app.hostname}`,
      retries: 0,
      timelimit: [null, null],
      eta: null,
      expires: null,
      ignore_result: false,
    })
    expect(d.properties).toMatchObject({ correlationId: r.id, replyTo: app.oid, deliveryMode: 2 })
    expect(d.properties.expiration).toBeUndefined()
    expect(d.contentType).toBe('application/json')
    expect(d.contentEncoding).toBe('utf-8')
    expect(bodyOf(d)).toEqual(golden('publish_a_plain.redis.json').body_decoded)
    expect(d.deliveryInfo).toMatchObject({ exchange: '', routingKey: 'celery' })
  })

  it('sets the priority property', async () => {
    const { app, take } = await setup()
    await app.sendTask('proj.add', [2, 3], {}, { priority: 7 })
    expect((await take()).properties.priority).toBe(7)
  })

  it('sets expires as a header and as expiration in ms, a string, as Celery (expires=3600 -> "3600000")', async () => {
    const { app, take } = await setup()
    const before = Date.now()
    await app.sendTask('proj.add', [2, 3], {}, { expires: 3600 })
    const d = await take()
    expect(d.properties.expiration).toBe('3600000')
    const at = Date.parse(String(d.headers.expires).replace('+00:00', 'Z'))
    expect(at).toBeGreaterThanOrEqual(before + 3600_000)
    expect(at).toBeLessThanOrEqual(Date.now() + 3600_000)
    expect(String(d.headers.expires)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/)
  })

  it('converts an expires date to a TTL from now', async () => {
    const { app, take } = await setup()
    await app.sendTask('proj.add', [], {}, { expires: new Date('2030-01-02T12:00:00Z') })
    const d = await take()
    expect(d.headers.expires).toBe('2030-01-02T12:00:00+00:00')
    const ttl = Number(d.properties.expiration)
    expect(Math.abs(ttl - (Date.parse('2030-01-02T12:00:00Z') - Date.now()))).toBeLessThan(1000)
  })

  it('writes the eta header for a countdown or an eta', async () => {
    const { app, take } = await setup({}, false)
    const before = Date.now()
    await app.sendTask('proj.add', [2, 3], {}, { countdown: 60 })
    const eta = Date.parse(String((await take()).headers.eta).replace('+00:00', 'Z'))
    expect(eta).toBeGreaterThanOrEqual(before + 60_000)
    expect(eta).toBeLessThanOrEqual(Date.now() + 60_000)
    await app.sendTask('proj.add', [], {}, { eta: new Date('2030-01-01T12:00:00Z') })
    expect((await take()).headers.eta).toBe('2030-01-01T12:00:00+00:00')
  })

  it('publishes a countdown message at once, as Celery does: the eta header says when', async () => {
    // The receiver may be a Python worker, and a delayed message only reaches its queue while a
    // q process consumes that queue: so the sender never parks it, the q worker does.
    const { app, broker } = await setup()
    await app.sendTask('proj.add', [], {}, { countdown: 0.2 })
    expect(broker.size('celery')).toBe(1)
  })

  it('puts link and linkError in the embed (publish_g sample)', async () => {
    const { app, take } = await setup()
    const mul = signature('proj.mul', [10])
    await app.sendTask(
      'proj.add',
      [2, 3],
      {},
      {
        link: mul,
        linkError: [signature('proj.on_error'), signature('proj.old_errback')],
      },
    )
    expect(bodyOf(await take())).toEqual(golden('publish_g_link_link_error.redis.json').body_decoded)
  })

  it('merges custom headers, sets shadow, timelimit [hard, soft] and ignore_result (publish_h sample)', async () => {
    const { app, take } = await setup()
    const r = await app.sendTask(
      'proj.add',
      [2, 3],
      {},
      {
        shadow: 'add-shadowed',
        timeLimit: 30,
        softTimeLimit: 20,
        ignoreResult: true,
        headers: { 'x-custom': 'hello' },
      },
    )
    const d = await take()
    const py = golden('publish_h_shadow_timelimit_ignore_result_headers.redis.json').envelope.headers
    const { lang: _1, origin: _2, ...ours } = d.headers
    const { lang: _3, origin: _4, ...theirs } = py
    expect(ours).toEqual({ ...theirs, id: r.id, root_id: r.id })
    expect(Object.keys(d.headers)).toEqual(Object.keys(py))
  })

  it('takes the task id, workflow ids, group and retries from the call', async () => {
    const { app, take } = await setup()
    const r = await app.sendTask(
      't',
      [],
      {},
      {
        taskId: 'my-id',
        parentId: 'p',
        rootId: 'root',
        groupId: 'g',
        groupIndex: 1,
        retries: 2,
      },
    )
    expect(r.id).toBe('my-id')
    expect((await take()).headers).toMatchObject({
      id: 'my-id',
      parent_id: 'p',
      root_id: 'root',
      group: 'g',
      group_index: 1,
      retries: 2,
    })
  })

  it('uses the serializer and compression asked for (msgpack, gzip as Python names them)', async () => {
    const { app, take } = await setup()
    await app.sendTask('proj.add', [2, 3], { z: 4 }, { serializer: 'msgpack' })
    const m = await take()
    expect(m.contentType).toBe('application/x-msgpack')
    expect(m.contentEncoding).toBe('binary')
    await app.sendTask('proj.add', [2, 3], {}, { compression: 'gzip' })
    const z = await take()
    expect(z.headers.compression).toBe('application/x-gzip')
    expect(Object.keys(z.headers)).toEqual(
      Object.keys(golden('publish_j_compression_gzip.redis.json').envelope.headers),
    )
  })

  it('sends transient messages with taskDefaultDeliveryMode transient', async () => {
    const { app, take } = await setup({ taskDefaultDeliveryMode: 'transient' })
    await app.sendTask('t')
    expect((await take()).properties.deliveryMode).toBe(1)
  })

  it('applies task options, overridden by call options', async () => {
    const { app, take } = await setup()
    const t = app.task('tasks.opt', (x: number) => x, {
      queue: 'opts',
      priority: 3,
      timeLimit: 10,
      softTimeLimit: 5,
      ignoreResult: true,
      expires: 60,
    })
    await t.delay(1)
    const d = await take('opts')
    expect(d.properties.priority).toBe(3)
    expect(d.headers).toMatchObject({ timelimit: [10, 5], ignore_result: true })
    expect(d.properties.expiration).toBe('60000')
    await t.applyAsync([2], {}, { queue: 'celery', priority: 1 })
    const e = await take('celery')
    expect(e.properties.priority).toBe(1)
    expect(bodyOf(e)[0]).toEqual([2])
  })

  it('sends beforeTaskPublish and afterTaskPublish around the publish', async () => {
    const { app, broker } = await setup()
    const seen: string[] = []
    app.signals.on('beforeTaskPublish', (p) => {
      seen.push(`before:${p.name}:${p.routingKey}:${broker.size('celery')}`)
      expect(p.headers.task).toBe('t.sig')
      expect(p.body).toEqual([[1], {}, { callbacks: null, errbacks: null, chain: null, chord: null }])
    })
    app.signals.on('afterTaskPublish', (p) =>
      seen.push(`after:${p.name}:${p.exchange}:${broker.size('celery')}`),
    )
    await app.sendTask('t.sig', [1])
    expect(seen).toEqual(['before:t.sig:celery:0', 'after:t.sig::1'])
  })

  it('rejects args that are not a list and kwargs that are not an object', async () => {
    const { app } = await setup()
    await expect(app.sendTask('t', 'x' as unknown as unknown[])).rejects.toThrow(ConfigurationError)
    await expect(app.sendTask('t', [], [] as unknown as Record<string, unknown>)).rejects.toThrow(
      ConfigurationError,
    )
    await expect(app.sendTask('t', [], {}, { expires: Number.NaN })).rejects.toThrow(ConfigurationError)
  })
})

describe('messages Python sent, run by a q worker', () => {
  async function runGolden(file: string, mutate?: (m: GoldenMessage['envelope']) => void) {
    const name = `publish-golden-${++seq}`
    const app = new Celery('golden', {
      broker: `memory://${name}`,
      backend: `memory://${name}`,
      acceptContent: ['json', 'msgpack'],
      env: {},
    })
    let worker: Worker | undefined
    cleanups.push(async () => {
      await worker?.stop()
      await app.close()
    })
    app.task('proj.add', (x: number, y: number, z?: number) => x + y + (z ?? 0), { params: ['x', 'y', 'z'] })
    const env = structuredClone(golden(file).envelope)
    mutate?.(env)
    const p = env.properties
    const conn = app.connection()
    await conn.connect()
    await new Producer(conn).publish(Buffer.from(env.body, 'base64'), {
      exchange: '',
      routingKey: 'celery',
      contentType: env['content-type'],
      contentEncoding: env['content-encoding'],
      headers: env.headers,
      correlationId: p.correlation_id as string,
      replyTo: p.reply_to as string,
      deliveryMode: 2,
      priority: p.priority as number,
      declare: [new Queue('celery', { exchange: 'celery', routingKey: 'celery' })],
    })
    worker = await (await app.worker({ concurrency: 1, logLevel: 'error' })).start()
    const id = (env.headers.id ?? JSON.parse(Buffer.from(env.body, 'base64').toString()).id) as string
    return { app, id }
  }

  it('runs publish_a_plain: args (2, 3) and kwargs {z: 4} mapped through params', async () => {
    const { app, id } = await runGolden('publish_a_plain.redis.json')
    expect(await app.asyncResult(id).get({ timeout: 2000 })).toBe(9)
  })

  it('runs the msgpack and gzip samples', async () => {
    const m = await runGolden('publish_i_msgpack.redis.json')
    expect(await m.app.asyncResult(m.id).get({ timeout: 2000 })).toBe(9)
    const z = await runGolden('publish_j_compression_gzip.redis.json')
    expect(await z.app.asyncResult(z.id).get({ timeout: 2000 })).toBe(5)
  })

  it('runs a protocol v1 message (task and kwargs in the body)', async () => {
    const { app, id } = await runGolden('publish_m_protocol_v1.redis.json')
    expect(await app.asyncResult(id).get({ timeout: 2000 })).toBe(9)
  })

  it('stores the chain step it sends next with Python’s pre-assigned id', async () => {
    const { app, id } = await runGolden('publish_c_chain.redis.json')
    app.task('proj.mul', (x: number, y: number) => x * y)
    expect(await app.asyncResult(id).get({ timeout: 2000 })).toBe(5)
    // mul(5, 10) then add(50, 1, z=5): ids from the embed's options.task_id.
    expect(await app.asyncResult('96820d36-3f68-4ad4-a2dd-6e878d9b6a78').get({ timeout: 2000 })).toBe(50)
    expect(await app.asyncResult('30757df4-50be-4ef4-a5ed-f41b7a0a2e05').get({ timeout: 2000 })).toBe(56)
  })
})
