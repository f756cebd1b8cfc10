/**
 * The rpc:// backend on the memory broker: results travel to the caller's reply queue (named by
 * its oid), as Celery's; only that caller sees them.
 */
import { Connection, createMemoryTransport, type MemoryTransport, Queue } from '@q/kombu'
import { afterEach, describe, expect, it } from 'vitest'
import { Celery } from '../app.js'
import { TaskError, TimeoutError } from '../errors.js'
import type { Worker } from '../worker/worker.js'

let seq = 0
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function setup(transport: MemoryTransport = createMemoryTransport()) {
  const name = `rpc-${++seq}`
  const make = (main: string, extra: Record<string, unknown> = {}) => {
    const app = new Celery(main, {
      broker: `memory://${name}`,
      backend: 'rpc://',
      connection: { transport },
      env: {},
      ...extra,
    })
    cleanups.push(() => app.close())
    return app
  }
  const server = make('server', { taskTrackStarted: true })
  server.task('rpc.add', (x: number, y: number) => x + y)
  server.task('rpc.fail', () => {
    throw new TypeError('bad input')
  })
  const worker: Worker = await (await server.worker({ concurrency: 2, logLevel: 'error' })).start()
  cleanups.push(() => worker.stop())
  return { make, name, transport, server }
}

describe('rpc:// results', () => {
  it('reach the caller through its reply queue', async () => {
    const { make } = await setup()
    const client = make('client')
    const r = await client.sendTask<number>('rpc.add', [2, 3])
    expect(await r.get({ timeout: 2000 })).toBe(5)
    expect(await r.state()).toBe('SUCCESS')
  })

  it('declare the reply queue as Celery: named by the oid, transient, auto-delete, x-expires', async () => {
    const { make, transport, name } = await setup()
    const client = make('client')
    await (await client.sendTask('rpc.add', [1, 1])).get({ timeout: 2000 })
    const spec = transport.broker(name).queues.get(client.oid)?.spec
    expect(spec).toMatchObject({ name: client.oid, durable: false, autoDelete: true, expires: 86_400_000 })
    expect(spec?.arguments).toMatchObject({ 'x-expires': 86_400_000 })
  })

  it('are not seen by another app instance', async () => {
    const { make } = await setup()
    const client = make('client')
    const other = make('other')
    const r = await client.sendTask<number>('rpc.add', [2, 2])
    expect(await r.get({ timeout: 2000 })).toBe(4)
    await expect(other.asyncResult(r.id).get({ timeout: 50 })).rejects.toBeInstanceOf(TimeoutError)
    expect(await other.asyncResult(r.id).state()).toBe('PENDING')
  })

  it('bring failures as typed errors, and intermediate states as updates', async () => {
    const { make } = await setup()
    const client = make('client')
    const seen: string[] = []
    const r = await client.sendTask('rpc.fail')
    const err = await r.get({ timeout: 2000, onUpdate: (m) => seen.push(m.status) }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TaskError)
    expect(err).toMatchObject({ name: 'TypeError', excModule: 'builtins', excArgs: ['bad input'] })
    expect(seen.every((s) => s === 'STARTED')).toBe(true)
  })

  it('are sent as Celery’s messages: default exchange, correlation id, transient, no date_done', async () => {
    const { make, transport, name } = await setup()
    const client = make('client')
    const peek = await new Connection(`memory://${name}`, { transport }).connect()
    cleanups.push(() => peek.close())
    const channel = await peek.channel()
    await channel.declareQueue(new Queue('peek.replies', { durable: false }))
    const r = await client.sendTask('rpc.add', [4, 5], {}, { replyTo: 'peek.replies' })
    let d = await channel.get('peek.replies', { noAck: true })
    for (let i = 0; !d || JSON.parse(d.body.toString()).status !== 'SUCCESS'; i++) {
      if (i > 400) throw new Error('no SUCCESS reply')
      await new Promise((res) => setTimeout(res, 5))
      d = (await channel.get('peek.replies', { noAck: true })) ?? d
    }
    expect(d.deliveryInfo).toMatchObject({ exchange: '', routingKey: 'peek.replies' })
    expect(d.properties).toMatchObject({ correlationId: r.id, deliveryMode: 1 })
    expect(d.contentType).toBe('application/json')
    const body = JSON.parse(d.body.toString()) as Record<string, unknown>
    expect(Object.keys(body)).toEqual(['task_id', 'status', 'result', 'traceback', 'children'])
    expect(body).toEqual({ task_id: r.id, status: 'SUCCESS', result: 9, traceback: null, children: [] })
  })
})
