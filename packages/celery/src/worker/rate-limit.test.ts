/**
 * Rate limits: Celery's rate strings, the token bucket, and a worker that delays only the
 * limited task.
 */
import { createMemoryTransport } from '@q/kombu'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Celery, type CeleryOptions } from '../app.js'
import { ConfigurationError } from '../errors.js'
import { parseRate, TokenBucket } from './rate-limit.js'
import type { Worker } from './worker.js'

let seq = 0
const cleanups: Array<() => Promise<void>> = []
beforeEach(() => {
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
})
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
  vi.restoreAllMocks()
})

async function setup(options: CeleryOptions = {}) {
  const name = `rate-${++seq}`
  const memory = createMemoryTransport()
  const app = new Celery('rl', {
    broker: `memory://${name}`,
    backend: `memory://${name}`,
    connection: { transport: memory },
    env: {},
    ...options,
  })
  cleanups.push(() => app.close())
  const done: Array<[string, number]> = []
  const t0 = Date.now()
  app.signals.on('taskSuccess', (p) => done.push([p.request.task, Date.now() - t0]))
  const start = async (): Promise<Worker> => {
    const w = await (await app.worker({ logLevel: 'error', concurrency: 10 })).start()
    cleanups.push(() => w.stop())
    return w
  }
  return { app, start, done, broker: memory.broker(name) }
}

async function until(cond: () => boolean, timeout = 3000): Promise<void> {
  const end = Date.now() + timeout
  while (!cond()) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeout} ms`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('parseRate', () => {
  it('reads Celery’s rate strings as tasks per second', () => {
    expect(parseRate('10/s')).toBe(10)
    expect(parseRate('120/m')).toBe(2)
    expect(parseRate('3600/h')).toBe(1)
    expect(parseRate('5')).toBe(5)
    expect(parseRate(' 2.5 / s ')).toBe(2.5)
    expect(parseRate(7)).toBe(7)
  })

  it('reads no limit as 0', () => {
    expect(parseRate(null)).toBe(0)
    expect(parseRate(undefined)).toBe(0)
    expect(parseRate('')).toBe(0)
  })

  it('rejects what it cannot read', () => {
    expect(() => parseRate('fast')).toThrow(ConfigurationError)
    expect(() => parseRate('10/d')).toThrow(/Invalid rate limit/)
  })
})

describe('TokenBucket', () => {
  it('holds max(1, rate) tokens and refills at rate per second', () => {
    let now = 0
    const b = new TokenBucket(2, undefined, () => now)
    expect(b.capacity).toBe(2)
    expect(b.tryTake()).toBe(true)
    expect(b.tryTake()).toBe(true)
    expect(b.tryTake()).toBe(false)
    expect(b.waitTime()).toBe(500)
    now = 250
    expect(b.tryTake()).toBe(false)
    expect(b.waitTime()).toBe(250)
    now = 500
    expect(b.tryTake()).toBe(true)
    now = 10_000
    expect(b.tryTake()).toBe(true)
    expect(b.tryTake()).toBe(true)
    expect(b.tryTake()).toBe(false) // never more than its capacity
    expect(new TokenBucket(0.5).capacity).toBe(1)
  })
})

describe('on a worker', () => {
  it('delays only the limited task (5/s); other tasks are unaffected', async () => {
    const { app, start, done } = await setup()
    app.task('t.limited', () => 1, { rateLimit: '5/s' })
    app.task('t.free', () => 2)
    await start()
    const limited = await Promise.all(Array.from({ length: 7 }, () => app.sendTask('t.limited')))
    const free = await app.sendTask('t.free')
    await free.get({ timeout: 2000 })
    await Promise.all(limited.map((r) => r.get({ timeout: 3000 })))
    const at = (name: string) => done.filter(([n]) => n === name).map(([, t]) => t)
    const l = at('t.limited')
    expect(l).toHaveLength(7)
    // The bucket holds 5 tokens: five at once, then one every 200 ms.
    expect(l[5]! - l[0]!).toBeGreaterThanOrEqual(150)
    expect(l[6]! - l[0]!).toBeGreaterThanOrEqual(350)
    expect(at('t.free')[0]).toBeLessThan(l[5]!)
  })

  it('applies taskDefaultRateLimit, and nothing with workerDisableRateLimits', async () => {
    const limited = await setup({ taskDefaultRateLimit: '2/s' })
    limited.app.task('t.x', () => 1)
    await limited.start()
    await Promise.all(
      (await Promise.all([1, 2, 3].map(() => limited.app.sendTask('t.x')))).map((r) =>
        r.get({ timeout: 3000 }),
      ),
    )
    const times = limited.done.map(([, t]) => t).sort((a, b) => a - b)
    expect(times[2]! - times[0]!).toBeGreaterThanOrEqual(400)
    const free = await setup({ taskDefaultRateLimit: '1/s', workerDisableRateLimits: true })
    free.app.task('t.x', () => 1)
    await free.start()
    const t0 = Date.now()
    await Promise.all(
      (await Promise.all([1, 2, 3].map(() => free.app.sendTask('t.x')))).map((r) => r.get({ timeout: 3000 })),
    )
    expect(Date.now() - t0).toBeLessThan(500)
  })

  it('changes a task’s limit at run time', async () => {
    const { app, start } = await setup()
    app.task('t.x', () => 1, { rateLimit: '1/m' })
    const w = await start()
    await (await app.sendTask('t.x')).get({ timeout: 2000 })
    w.strategy.setRateLimit('t.x', null)
    const t0 = Date.now()
    await (await app.sendTask('t.x')).get({ timeout: 2000 })
    expect(Date.now() - t0).toBeLessThan(500)
  })

  it('does not run a task still waiting for its rate limit after a warm shutdown; it goes back to the queue', async () => {
    const { app, start, broker } = await setup()
    let runs = 0
    app.task('t.slow', () => ++runs, { rateLimit: '5/s' })
    const w = await start()
    for (let i = 0; i < 6; i++) await app.sendTask('t.slow')
    await until(() => runs === 5)
    await w.stop()
    await new Promise((r) => setTimeout(r, 300)) // past the moment its token would have come
    expect(runs).toBe(5)
    expect(broker.size('celery')).toBe(1)
  })
})
