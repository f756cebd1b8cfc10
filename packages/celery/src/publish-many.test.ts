/**
 * Batches of calls (`task.applyMany`, `app.sendTasks`): each message is the one `applyAsync`
 * would send, batches are routed once per options, signals and the backend see every call.
 */
import { Connection, createMemoryTransport, type Delivery } from '@q/kombu'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Celery, type CeleryOptions } from './app.js'
import { ConfigurationError } from './errors.js'

let seq = 0
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

async function setup(options: CeleryOptions = {}) {
  const name = `publish-many-${++seq}`
  const transport = createMemoryTransport()
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
  /** Every message of a queue, in delivery order. */
  const takeAll = async (queue = 'celery'): Promise<Delivery[]> => {
    const out: Delivery[] = []
    for (let d = await channel.get(queue, { noAck: true }); d; d = await channel.get(queue, { noAck: true }))
      out.push(d)
    return out
  }
  return { app, takeAll, broker: transport.broker(name) }
}

const argsOf = (d: Delivery) => (JSON.parse(d.body.toString('utf8')) as unknown[])[0]

/** A message without what differs from one call to the next. */
function shape(d: Delivery) {
  const { id: _id, root_id: _root, argsrepr: _a, kwargsrepr: _k, ...headers } = d.headers
  const { correlationId: _c, ...properties } = d.properties
  return { headers, properties, contentType: d.contentType, info: d.deliveryInfo }
}

describe('applyMany', () => {
  it('sends one message per call, in order, as applyAsync would', async () => {
    const { app, takeAll } = await setup()
    const add = app.task('proj.add', (x: number, y: number) => x + y)
    const results = await add.applyMany([[1, 2], [3, 4], { args: [5, 6], kwargs: { z: 1 } }])
    await add.applyAsync([7, 8])
    const got = await takeAll()
    expect(got.map(argsOf)).toEqual([
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
    ])
    expect(results.map((r) => r.id)).toEqual(got.slice(0, 3).map((d) => d.headers.id))
    expect(new Set(results.map((r) => r.id)).size).toBe(3)
    for (const [i, d] of got.entries()) {
      expect(d.properties.correlationId).toBe(d.headers.id)
      expect(d.headers.root_id).toBe(d.headers.id)
      expect(shape(d)).toEqual(shape(got[3]!))
      expect(d.headers.argsrepr).toBe(`(${[i * 2 + 1, i * 2 + 2].join(', ')})`)
    }
    expect(JSON.parse(got[2]!.body.toString())[1]).toEqual({ z: 1 })
  })

  it('applies batch options under each call’s own, and routes per options', async () => {
    const { app, takeAll } = await setup({ taskCreateMissingQueues: true })
    const add = app.task('proj.add', (x: number) => x, { queue: 'math' })
    await add.applyMany([[1], { args: [2], options: { queue: 'other', priority: 3 } }, [3]], { priority: 5 })
    const math = await takeAll('math')
    const other = await takeAll('other')
    expect(math.map(argsOf)).toEqual([[1], [3]])
    expect(math.map((d) => d.properties.priority)).toEqual([5, 5])
    expect(other.map(argsOf)).toEqual([[2]])
    expect(other[0]!.properties.priority).toBe(3)
  })

  it('sets expires per message, and sends the signals of every call', async () => {
    const { app, takeAll } = await setup()
    const before = vi.fn()
    const after = vi.fn()
    app.signals.on('beforeTaskPublish', before)
    app.signals.on('afterTaskPublish', after)
    const results = await app.sendTasks('proj.remote', [[1], [2]], { expires: 60 })
    const got = await takeAll()
    expect(got.map((d) => d.properties.expiration)).toEqual(['60000', '60000'])
    expect(got.every((d) => typeof d.headers.expires === 'string')).toBe(true)
    expect(before.mock.calls.map(([p]) => p.id)).toEqual(results.map((r) => r.id))
    expect(after.mock.calls.map(([p]) => p.id)).toEqual(results.map((r) => r.id))
  })

  it('routes each call when a router function may look at the arguments', async () => {
    const { app, takeAll } = await setup({
      taskCreateMissingQueues: true,
      taskRoutes: [(_name: string, args: unknown[]) => ((args[0] as number) % 2 ? 'odd' : 'even')],
    })
    await app.sendTasks('proj.n', [[1], [2], [3], [4]])
    expect((await takeAll('odd')).map(argsOf)).toEqual([[1], [3]])
    expect((await takeAll('even')).map(argsOf)).toEqual([[2], [4]])
  })

  it('refuses one taskId for a whole batch, and bad calls, without sending anything', async () => {
    const { app, takeAll } = await setup()
    await expect(app.sendTasks('t', [[1], [2]], { taskId: 'same' })).rejects.toBeInstanceOf(
      ConfigurationError,
    )
    await expect(app.sendTasks('t', [[1], 'nope' as never])).rejects.toBeInstanceOf(ConfigurationError)
    await expect(app.sendTasks('t', [{ args: [1], kwargs: [] as never }])).rejects.toBeInstanceOf(
      ConfigurationError,
    )
    expect(await takeAll()).toEqual([])
    expect(await app.sendTasks('t', [])).toEqual([])
  })

  it('calls the backend’s onTaskCall for every call that stores a result', async () => {
    const { app } = await setup({ backend: 'rpc://' })
    const backend = (await app.backend())!
    const onTaskCall = vi.spyOn(backend, 'onTaskCall')
    const results = await app.sendTasks('t', [[1], { args: [2], options: { ignoreResult: true } }, [3]])
    expect(onTaskCall.mock.calls.map(([id]) => id)).toEqual([results[0]!.id, results[2]!.id])
  })

  it('once connected, applyAsync and applyMany reach the broker before any await', async () => {
    const { app, broker } = await setup()
    const add = app.task('proj.add', (x: number, y: number) => x + y)
    await add.delay(1, 2) // connects and declares
    const one = add.delay(3, 4)
    expect(broker.size('celery')).toBe(2)
    const many = add.applyMany([
      [5, 6],
      [7, 8],
    ])
    expect(broker.size('celery')).toBe(4)
    await Promise.all([one, many])
  })

  it('runs the calls here when taskAlwaysEager is set', async () => {
    const { app, takeAll } = await setup({ taskAlwaysEager: true })
    const add = app.task('proj.add', (x: number, y: number) => x + y)
    const results = await add.applyMany([
      [1, 2],
      [3, 4],
    ])
    expect(await Promise.all(results.map((r) => r.get()))).toEqual([3, 7])
    expect(await takeAll()).toEqual([])
  })
})
