/**
 * The worker's plain run (no result to store, not bound, no time limits): the hot path that
 * builds no context, timers or request object. Every outcome and signal must still be what the
 * general path gives.
 */
import { createMemoryTransport } from '@q/kombu'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Celery, type CeleryOptions } from '../app.js'
import { Reject } from '../errors.js'
import type { SignalMap } from '../signals.js'
import { signature } from '../task.js'
import type { Worker, WorkerOptions } from './worker.js'

let seq = 0
const cleanups: Array<() => Promise<void>> = []
beforeEach(() => {
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
})
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
  vi.restoreAllMocks()
})

/** An app without a result backend: every run of it can take the plain path. */
function setup(options: CeleryOptions = {}) {
  const name = `plain-${++seq}`
  const memory = createMemoryTransport()
  const app = new Celery('p', {
    broker: `memory://${name}`,
    connection: { transport: memory },
    env: {},
    ...options,
  })
  cleanups.push(() => app.close())
  const start = async (o: WorkerOptions = {}): Promise<Worker> => {
    const w = await (await app.worker({ logLevel: 'warn', mingle: false, ...o })).start()
    cleanups.push(() => w.stop())
    return w
  }
  return { app, start, broker: memory.broker(name) }
}

function next<K extends keyof SignalMap>(app: Celery, signal: K): Promise<SignalMap[K]> {
  return new Promise((resolve) => {
    const off = app.signals.on(signal, (p) => {
      off()
      resolve(p)
    })
  })
}

async function until(cond: () => boolean, timeout = 2000): Promise<void> {
  const end = Date.now() + timeout
  while (!cond()) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeout} ms`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('the plain run', () => {
  it('runs synchronous and asynchronous tasks, acks them, and counts them', async () => {
    const { app, start, broker } = setup()
    const seen: unknown[] = []
    app.task('p.sync', (x: number) => seen.push(x))
    app.task('p.async', async (x: number) => {
      await new Promise((r) => setTimeout(r, 1))
      seen.push(x)
    })
    const w = await start({ concurrency: 2 })
    for (let i = 0; i < 50; i++) await app.sendTask(i % 2 ? 'p.async' : 'p.sync', [i])
    await until(() => seen.length === 50)
    await until(() => w.requests.size === 0 && w.pool.running === 0)
    expect([...seen].sort((a, b) => Number(a) - Number(b))).toEqual([...Array(50).keys()])
    expect(w.totals.get('p.sync')).toBe(25)
    expect(w.totals.get('p.async')).toBe(25)
    expect(broker.size('celery')).toBe(0)
  })

  it('passes kwargs and maps them onto params', async () => {
    const { app, start } = setup()
    const got = new Promise<unknown[]>((resolve) => {
      app.task('p.kw', (a: number, b: number) => resolve([a, b]), { params: ['a', 'b'] })
    })
    await start()
    await app.sendTask('p.kw', [1], { b: 2 })
    expect(await got).toEqual([1, 2])
  })

  it('sends prerun, success and postrun with the request, built only for them', async () => {
    const { app, start } = setup()
    app.task('p.ok', (x: number) => x * 2)
    await start()
    const prerun = next(app, 'taskPrerun')
    const success = next(app, 'taskSuccess')
    const postrun = next(app, 'taskPostrun')
    const r = await app.sendTask('p.ok', [21])
    expect((await prerun).request).toMatchObject({ id: r.id, task: 'p.ok', args: [21], isEager: false })
    expect(await success).toMatchObject({ result: 42 })
    expect(await postrun).toMatchObject({ state: 'SUCCESS', result: 42 })
  })

  it('reports a synchronous failure as the general path does, and goes on', async () => {
    const { app, start } = setup()
    app.task('p.bad', () => {
      throw new TypeError('bad input')
    })
    app.task('p.ok', () => 'ok')
    await start({ concurrency: 1 })
    const failure = next(app, 'taskFailure')
    const postrun = next(app, 'taskPostrun')
    await app.sendTask('p.bad')
    expect((await failure).error).toBeInstanceOf(TypeError)
    expect((await postrun).state).toBe('FAILURE')
    const success = next(app, 'taskSuccess')
    await app.sendTask('p.ok')
    expect((await success).result).toBe('ok')
  })

  it('retries with autoretryFor, and requeues a Reject(requeue) with acksLate', async () => {
    const { app, start, broker } = setup()
    let calls = 0
    app.task(
      'p.flaky',
      () => {
        if (calls++ === 0) throw new RangeError('once')
        return 'second time'
      },
      { autoretryFor: [RangeError], defaultRetryDelay: 0 },
    )
    let rejected = 0
    app.task(
      'p.reject',
      () => {
        if (rejected++ === 0) throw new Reject('not now', { requeue: true })
        return 'taken'
      },
      { acksLate: true },
    )
    await start()
    const retry = next(app, 'taskRetry')
    await app.sendTask('p.flaky')
    expect((await retry).request.retries).toBe(0)
    await until(() => calls === 2)
    await app.sendTask('p.reject')
    await until(() => rejected === 2)
    await until(() => broker.size('celery') === 0)
  })

  it('acks late after the run when asked', async () => {
    const { app, start } = setup({ taskAcksLate: true })
    let acked: boolean | undefined
    const w = await start()
    app.task('p.late', () => {
      acked = [...w.requests.values()][0]?.message.acknowledged
    })
    const postrun = next(app, 'taskPostrun')
    await app.sendTask('p.late')
    await postrun
    expect(acked).toBe(false)
  })

  it('terminates a running asynchronous task: REVOKED, slot freed', async () => {
    const { app, start } = setup()
    let started = false
    app.task('p.long', () => {
      started = true
      return new Promise(() => {})
    })
    app.task('p.x', () => 'next')
    const w = await start({ concurrency: 1 })
    const long = await app.sendTask('p.long')
    await until(() => started && w.pool.running === 1)
    const revoked = next(app, 'taskRevoked')
    w.revoke([long.id], true)
    expect(await revoked).toMatchObject({ id: long.id, terminated: true })
    const success = next(app, 'taskSuccess')
    await app.sendTask('p.x')
    expect((await success).result).toBe('next')
    expect(w.pool.running).toBe(0)
  })

  it('runs link callbacks after a plain success', async () => {
    const { app, start } = setup()
    const got = new Promise<unknown>((resolve) => {
      app.task('p.cb', (x: unknown) => resolve(x))
    })
    const add = app.task('p.add', (a: number, b: number) => a + b)
    await start()
    await add.applyAsync([1, 2], {}, { link: signature('p.cb') })
    expect(await got).toBe(3)
  })
})
