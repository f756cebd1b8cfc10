/**
 * Remote control end to end on the memory broker: app.control and app.control.inspect() talking
 * to q workers started in this process.
 */
import { createMemoryTransport, type MemoryTransport, type NodeReply } from '@q/kombu'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Celery } from '../app.js'
import { TaskRevokedError } from '../errors.js'
import type { TaskContext } from '../task-types.js'
import type { Worker } from '../worker/worker.js'
import { WorkerControl } from './worker-control.js'

let seq = 0
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

/** An app on its own memory broker and result store, with a few tasks. */
function makeApp(transport: MemoryTransport = createMemoryTransport()) {
  const name = `ctl-${++seq}`
  const app = new Celery('ctl', {
    broker: `memory://${name}`,
    backend: `memory://${name}`,
    connection: { transport },
    env: {},
    logger: { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() },
  })
  cleanups.push(() => app.close())
  const ran = vi.fn()
  app.task('ctl.add', (x: number, y: number) => {
    ran(x, y)
    return x + y
  })
  app.task(
    'ctl.wait',
    async (ctx: TaskContext, ms: number) => {
      await new Promise((resolve, reject) => {
        const t = setTimeout(resolve, ms)
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(t)
          reject(ctx.signal.reason)
        })
      })
      return 'done'
    },
    { bind: true, rateLimit: '100/s', maxRetries: 5 },
  )
  app.task('celery.hidden', () => null)
  return { app, ran, transport, name }
}

async function startWorker(app: Celery, hostname: string, concurrency = 2): Promise<Worker> {
  const w = await (await app.worker({ hostname, concurrency, logLevel: 'error' })).start()
  cleanups.push(() => w.stop())
  return w
}

/** Ask only w1@test: the call returns as soon as it answered. */
const W1 = { destination: 'w1@test', reply: true, timeout: 2000 }

const merged = <T>(replies: NodeReply<T>[]) => Object.assign({}, ...replies) as Record<string, T>

describe('app.control', () => {
  it('pings two workers of one process', async () => {
    const { app } = makeApp()
    await startWorker(app, 'w1@test')
    await startWorker(app, 'w2@test')
    const replies = await app.control.ping({ timeout: 300 })
    expect(replies).toHaveLength(2)
    expect(merged(replies)).toEqual({ 'w1@test': { ok: 'pong' }, 'w2@test': { ok: 'pong' } })
    // With a destination, the call returns as soon as that worker answered.
    const t0 = Date.now()
    expect(await app.control.ping({ destination: 'w2@test', timeout: 5000 })).toEqual([
      { 'w2@test': { ok: 'pong' } },
    ])
    expect(Date.now() - t0).toBeLessThan(2000)
    expect(await app.control.inspect({ pattern: 'w1@*', timeout: 200 }).ping()).toEqual({
      'w1@test': { ok: 'pong' },
    })
  })

  it('revokes a task before it arrives: REVOKED is stored and the task does not run', async () => {
    const { app, ran } = makeApp()
    const worker = await startWorker(app, 'w1@test')
    const id = 'revoked-before-arrival'
    expect(await app.control.revoke(id, W1)).toEqual([
      { 'w1@test': { ok: `tasks ${id} flagged as revoked` } },
    ])
    expect(worker.revoked.has(id)).toBe(true)
    const r = await app.sendTask('ctl.add', [1, 2], {}, { taskId: id })
    await expect(r.get({ timeout: 2000 })).rejects.toBeInstanceOf(TaskRevokedError)
    expect(await r.state()).toBe('REVOKED')
    expect(ran).not.toHaveBeenCalled()
  })

  it('app.revoke() and AsyncResult.revoke() broadcast to the workers', async () => {
    const { app } = makeApp()
    const worker = await startWorker(app, 'w1@test')
    await app.revoke(['a1', 'a2'])
    await app.asyncResult('a3').revoke()
    await vi.waitFor(() => expect(worker.revoked.list()).toEqual(['a1', 'a2', 'a3']))
    expect(await app.control.inspect({ destination: 'w1@test' }).revoked()).toEqual({
      'w1@test': ['a1', 'a2', 'a3'],
    })
  })

  it("revoke with terminate aborts a running task's signal: REVOKED (terminated)", async () => {
    const { app } = makeApp()
    await startWorker(app, 'w1@test')
    const r = await app.sendTask('ctl.wait', [10_000])
    await vi.waitFor(async () => {
      const active = await app.control.inspect({ destination: 'w1@test' }).active()
      expect(active['w1@test']?.map((t) => t.id)).toEqual([r.id])
    })
    const reply = await app.control.revoke(r.id, { ...W1, terminate: true, signal: 'SIGKILL' })
    expect(reply).toEqual([{ 'w1@test': { ok: `terminate: ${r.id}` } }])
    const err = await r.get({ timeout: 2000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TaskRevokedError)
    expect(String((err as Error).message)).toMatch(/terminated/)
    expect(await app.control.terminate('unknown-id', W1)).toEqual([
      { 'w1@test': { ok: 'terminate: tasks unknown' } },
    ])
  })

  it('sets rate and time limits, and reports unknown tasks', async () => {
    const { app } = makeApp()
    const worker = await startWorker(app, 'w1@test')
    const spy = vi.spyOn(worker.strategy, 'setRateLimit')
    expect(await app.control.rateLimit('ctl.add', '10/m', W1)).toEqual([
      { 'w1@test': { ok: 'new rate limit set successfully' } },
    ])
    expect(spy).toHaveBeenCalledWith('ctl.add', '10/m')
    expect(await app.control.rateLimit('ctl.add', null, W1)).toEqual([
      { 'w1@test': { ok: 'rate limit disabled successfully' } },
    ])
    expect(await app.control.rateLimit('nope', '1/s', W1)).toEqual([{ 'w1@test': { error: 'unknown task' } }])
    expect(await app.control.rateLimit('ctl.add', 'fast', W1)).toEqual([
      { 'w1@test': { error: expect.stringMatching(/^Invalid rate limit string/) } },
    ])
    expect(await app.control.timeLimit('ctl.add', { soft: 10, hard: 20 }, W1)).toEqual([
      { 'w1@test': { ok: 'time limits set successfully' } },
    ])
    expect(app.getTask('ctl.add').options).toMatchObject({ timeLimit: 20, softTimeLimit: 10 })
    expect(await app.control.timeLimit('nope', { hard: 1 }, W1)).toEqual([
      { 'w1@test': { error: 'unknown task' } },
    ])
  })

  it('adds and cancels consumers', async () => {
    const { app, ran } = makeApp()
    await startWorker(app, 'w1@test')
    expect(await app.control.addConsumer('extra', W1)).toEqual([{ 'w1@test': { ok: 'add consumer extra' } }])
    const queues = async () =>
      (await app.control.inspect({ destination: 'w1@test' }).activeQueues())['w1@test']?.map((q) => q.name)
    await vi.waitFor(async () => expect(await queues()).toEqual(['celery', 'extra']))
    const r = await app.sendTask('ctl.add', [2, 2], {}, { queue: 'extra' })
    expect(await r.get({ timeout: 2000 })).toBe(4)
    expect(ran).toHaveBeenCalledWith(2, 2)
    expect(await app.control.cancelConsumer('extra', W1)).toEqual([
      { 'w1@test': { ok: 'no longer consuming from extra' } },
    ])
    expect(await queues()).toEqual(['celery'])
    expect(await app.control.cancelConsumer('celery', W1)).toEqual([
      { 'w1@test': { error: expect.stringMatching(/queues the worker started with/) } },
    ])
  })

  it('toggles task events, answers heartbeat and shuts a worker down', async () => {
    const { app } = makeApp()
    const worker = await startWorker(app, 'w1@test')
    const one = async (p: Promise<NodeReply[]>) => (await p)[0]
    expect(await one(app.control.enableEvents(W1))).toEqual({
      'w1@test': { ok: 'task events enabled' },
    })
    expect(await one(app.control.enableEvents(W1))).toEqual({
      'w1@test': { ok: 'task events already enabled' },
    })
    expect(await one(app.control.disableEvents(W1))).toEqual({
      'w1@test': { ok: 'task events disabled' },
    })
    expect(await one(app.control.heartbeat(W1))).toEqual({ 'w1@test': null })
    expect(await one(app.control.broadcast('autoscale', { ...W1, arguments: { max: 4, min: 1 } }))).toEqual({
      'w1@test': { error: "ValueError('Autoscale not enabled')" },
    })
    const stopped = vi.spyOn(worker, 'stop')
    expect(await app.control.broadcast('shutdown', { reply: true, timeout: 200 })).toEqual([])
    await vi.waitFor(() => expect(stopped).toHaveBeenCalled())
    await worker.stop()
    expect(await app.control.ping({ timeout: 100 })).toEqual([])
  })
})

describe('app.control.inspect()', () => {
  it('lists registered tasks without celery.* built-ins, with attributes on demand', async () => {
    const { app } = makeApp()
    await startWorker(app, 'w1@test')
    const inspect = app.control.inspect({ destination: ['w1@test'] })
    expect(await inspect.registered()).toEqual({ 'w1@test': ['ctl.add', 'ctl.wait [rate_limit=100/s]'] })
    expect(await inspect.registered('rate_limit', 'max_retries')).toEqual({
      'w1@test': ['ctl.add [max_retries=3]', 'ctl.wait [rate_limit=100/s max_retries=5]'],
    })
  })

  it('describes active, reserved and queried tasks as Request.info()', async () => {
    const { app } = makeApp()
    await startWorker(app, 'w1@test', 1)
    const running = await app.sendTask('ctl.wait', [10_000], {}, { taskId: 'run-1' })
    const waiting = await app.sendTask('ctl.wait', [1], {}, { taskId: 'wait-1' })
    const inspect = app.control.inspect({ destination: 'w1@test' })
    await vi.waitFor(async () => expect((await inspect.reserved())['w1@test']).toHaveLength(1))
    const active = (await inspect.active())['w1@test']!
    expect(active).toHaveLength(1)
    const info = active[0]!
    expect(Object.keys(info).sort()).toEqual(
      [
        'id',
        'name',
        'args',
        'kwargs',
        'type',
        'hostname',
        'time_start',
        'acknowledged',
        'delivery_info',
        'worker_pid',
      ].sort(),
    )
    expect(info).toMatchObject({
      id: running.id,
      name: 'ctl.wait',
      type: 'ctl.wait',
      args: [10_000],
      kwargs: {},
      hostname: 'w1@test',
      acknowledged: true,
      worker_pid: process.pid,
      delivery_info: { exchange: '', routing_key: 'celery', priority: 0, redelivered: false },
    })
    expect(info.time_start).toBeCloseTo(Date.now() / 1000, -1)
    const safe = (await inspect.active({ safe: true }))['w1@test']![0]!
    expect(safe).toMatchObject({ args: '(10000,)', kwargs: '{}' })
    const reserved = (await inspect.reserved())['w1@test']!
    expect(reserved[0]).toMatchObject({
      id: waiting.id,
      time_start: null,
      acknowledged: false,
      worker_pid: null,
    })
    expect(await inspect.scheduled()).toEqual({ 'w1@test': [] })
    const q = (await inspect.queryTask(running.id, [waiting.id, 'nope']))['w1@test']!
    expect(Object.keys(q).sort()).toEqual([running.id, waiting.id].sort())
    expect(q[running.id]![0]).toBe('active')
    expect(q[waiting.id]![0]).toBe('reserved')
    await app.control.revoke([running.id, waiting.id], { terminate: true })
  })

  it('reports stats in the shape Celery does', async () => {
    const { app } = makeApp()
    const worker = await startWorker(app, 'w1@test', 3)
    expect(await (await app.sendTask('ctl.add', [1, 1])).get({ timeout: 2000 })).toBe(2)
    const stats = (await app.control.inspect({ destination: 'w1@test' }).stats())['w1@test']!
    expect(Object.keys(stats).sort()).toEqual(
      ['total', 'pid', 'clock', 'uptime', 'pool', 'broker', 'prefetch_count', 'rusage'].sort(),
    )
    expect(stats.total).toEqual({ 'ctl.add': 1 })
    expect(stats.pid).toBe(process.pid)
    expect(stats.clock).toMatch(/^\d+$/)
    expect(stats.uptime).toBeGreaterThanOrEqual(0)
    expect(stats.pool).toMatchObject({ 'max-concurrency': 3, processes: [process.pid] })
    expect(stats.prefetch_count).toBe(worker.prefetchCount)
    expect(stats.broker).toMatchObject({
      transport: 'memory',
      failover_strategy: 'round-robin',
      alternates: [],
    })
    expect(stats.rusage.utime).toBeGreaterThan(0)
    expect(stats.rusage.maxrss).toBeGreaterThan(0)
  })

  it('answers clock, hello and active_queues', async () => {
    const { app } = makeApp()
    const worker = await startWorker(app, 'w1@test')
    worker.revoke(['r1'])
    const inspect = app.control.inspect({ destination: 'w1@test' })
    const clock = (await inspect.clock())['w1@test']!.clock
    expect(clock).toBeGreaterThan(0)
    const hello = (await inspect.hello('other@node', { r2: [123.5, 'r2'] }))['w1@test']!
    expect(Object.keys(hello!.revoked).sort()).toEqual(['r1', 'r2'])
    const [ts, id] = hello!.revoked.r1!
    expect(id).toBe('r1')
    expect(Number.isInteger(ts)).toBe(false)
    expect(hello!.clock).toBeGreaterThan(clock)
    expect(worker.revoked.has('r2')).toBe(true)
    expect(await inspect.hello('w1@test')).toEqual({ 'w1@test': null })
    const [queue] = (await inspect.activeQueues())['w1@test']!
    expect(queue).toEqual({
      name: 'celery',
      exchange: {
        name: 'celery',
        type: 'direct',
        arguments: null,
        durable: true,
        passive: false,
        auto_delete: false,
        delivery_mode: null,
        no_declare: false,
      },
      routing_key: 'celery',
      queue_arguments: null,
      binding_arguments: null,
      consumer_arguments: null,
      durable: true,
      exclusive: false,
      auto_delete: false,
      no_ack: false,
      alias: null,
      bindings: [],
      no_declare: null,
      expires: null,
      message_ttl: null,
      max_length: null,
      max_length_bytes: null,
      max_priority: null,
    })
  })
})

describe('mingle', () => {
  it('a starting worker learns the revoked ids and clock of the others', async () => {
    const { app } = makeApp()
    const old = await startWorker(app, 'old@test')
    old.revoke(['r-old'])
    app.control.clock.value = 500
    const fresh = await app.worker({ hostname: 'new@test', logLevel: 'error' })
    fresh.revoke(['r-new'])
    const conn = app.createConnection()
    cleanups.push(() => conn.close())
    const wc = new WorkerControl(fresh, conn, { mingle: true, mingleTimeout: 300 })
    expect(await wc.mingle()).toEqual(['old@test'])
    expect(fresh.revoked.has('r-old')).toBe(true)
    expect(old.revoked.has('r-new')).toBe(true)
    expect(wc.clock.value).toBeGreaterThan(500)
  })

  it('is off by default on the memory transport, where Celery does not mingle', async () => {
    const { app } = makeApp()
    const conn = app.createConnection()
    cleanups.push(() => conn.close())
    const w = await app.worker({ hostname: 'solo@test', logLevel: 'error' })
    const wc = new WorkerControl(w, conn)
    const mingle = vi.spyOn(wc, 'mingle')
    await wc.start()
    expect(mingle).not.toHaveBeenCalled()
    expect(wc.node.listening).toBe(true)
    await wc.stop()
    expect(wc.node.listening).toBe(false)
  })
})

describe('WorkerControl without fanout', () => {
  it('starts no node, as Celery leaves remote control out on such transports (SQS)', async () => {
    const memory = createMemoryTransport()
    const { app } = makeApp({ ...memory, capabilities: { ...memory.capabilities, fanout: false } })
    const w = await startWorker(app, 'nofan@test')
    expect(await app.control.ping({ destination: 'nofan@test', timeout: 100 })).toEqual([])
    expect(w.revoked.size).toBe(0)
  })
})
