/**
 * Worker log lines: Celery's text format (`[2026-11-22 10:00:00,123: INFO/MainProcess] Task
 * tasks.add[<id>] succeeded in 0.001s: 5`) and JSON lines, from the logger and from a worker.
 */
import { createMemoryTransport } from '@q/kombu'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Celery } from '../app.js'
import type { TaskContext } from '../task-types.js'
import type { Worker, WorkerOptions } from './worker.js'
import { WorkerLog } from './worker-log.js'

const PREFIX = /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}: (DEBUG|INFO|WARNING|ERROR)\/MainProcess\] /

describe('WorkerLog', () => {
  it('writes Celery’s text format, with Celery’s level names', () => {
    const lines: string[] = []
    const log = new WorkerLog('debug', 'text', 'w@h', (l) => lines.push(l))
    log.log('info', 'hello')
    log.log('warn', 'careful')
    log.log('error', 'broken')
    log.log('debug', 'details')
    expect(lines).toHaveLength(4)
    for (const l of lines) expect(l).toMatch(PREFIX)
    expect(lines.map((l) => l.replace(PREFIX, '$1 '))).toEqual([
      'INFO hello',
      'WARNING careful',
      'ERROR broken',
      'DEBUG details',
    ])
  })

  it('stamps lines with the local time, milliseconds after a comma', () => {
    const lines: string[] = []
    vi.useFakeTimers({ toFake: ['Date'], now: new Date(2026, 10, 22, 10, 0, 0, 123) })
    try {
      new WorkerLog('info', 'text', 'w@h', (l) => lines.push(l)).log('info', 'x')
    } finally {
      vi.useRealTimers()
    }
    expect(lines[0]).toBe('[2026-11-22 10:00:00,123: INFO/MainProcess] x')
  })

  it('drops lines below its level', () => {
    const lines: string[] = []
    const log = new WorkerLog('warn', 'text', 'w@h', (l) => lines.push(l))
    log.log('debug', 'a')
    log.log('info', 'b')
    log.log('warn', 'c')
    log.log('error', 'd')
    expect(lines.map((l) => l.replace(PREFIX, ''))).toEqual(['c', 'd'])
  })

  it('writes JSON lines with time, level, hostname, message and fields', () => {
    const lines: string[] = []
    new WorkerLog('info', 'json', 'w@h', (l) => lines.push(l)).log('info', 'done', {
      state: 'SUCCESS',
      runtime: 0.5,
    })
    const o = JSON.parse(lines[0]!) as Record<string, unknown>
    expect(o).toMatchObject({
      level: 'info',
      hostname: 'w@h',
      message: 'done',
      state: 'SUCCESS',
      runtime: 0.5,
    })
    expect(Date.parse(String(o.time))).not.toBeNaN()
  })
})

describe('a worker’s lines', () => {
  let seq = 0
  let out: string[] = []
  const cleanups: Array<() => Promise<void>> = []
  beforeEach(() => {
    out = []
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      out.push(...String(chunk).split('\n').filter(Boolean))
      return true
    })
  })
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c()
    vi.restoreAllMocks()
  })

  async function setup(o: WorkerOptions) {
    const name = `log-${++seq}`
    const app = new Celery('l', {
      broker: `memory://${name}`,
      backend: `memory://${name}`,
      connection: { transport: createMemoryTransport() },
      env: {},
    })
    cleanups.push(() => app.close())
    app.task('tasks.add', (x: number, y: number) => x + y)
    app.task('tasks.dict', () => ({ a: 1, b: 'two', c: null }))
    app.task('tasks.fail', () => {
      throw Object.assign(new Error('boom'), { name: 'ValueError', args: ['boom', 42] })
    })
    app.task(
      'tasks.retry',
      (c: TaskContext) => {
        if (c.request.retries === 0)
          c.retry({ countdown: 0, exc: Object.assign(new Error('again'), { name: 'KeyError' }) })
        return 'ok'
      },
      { bind: true },
    )
    const w: Worker = await (await app.worker({ hostname: 'log@test', ...o })).start()
    cleanups.push(() => w.stop())
    return app
  }

  const text = () => out.map((l) => l.replace(PREFIX, '$1 '))

  it('logs received, succeeded in Ns with the result repr, and failures as Celery', async () => {
    const app = await setup({ logLevel: 'info' })
    const r = await app.sendTask('tasks.add', [2, 3])
    await r.get({ timeout: 2000 })
    const d = await app.sendTask('tasks.dict')
    await d.get({ timeout: 2000 })
    const f = await app.sendTask('tasks.fail')
    await f.get({ timeout: 2000, propagate: false })
    await vi.waitFor(() => expect(out.some((l) => l.includes('raised unexpected'))).toBe(true))
    const lines = text()
    expect(lines).toContain('INFO log@test ready.')
    expect(lines).toContain(`INFO Task tasks.add[${r.id}] received`)
    expect(lines.find((l) => l.includes(`tasks.add[${r.id}] succeeded`))).toMatch(
      new RegExp(`^INFO Task tasks\\.add\\[${r.id}\\] succeeded in \\d+\\.\\d{3}s: 5$`),
    )
    expect(lines.find((l) => l.includes(`tasks.dict[${d.id}] succeeded`))).toMatch(
      /s: \{'a': 1, 'b': 'two', 'c': None\}$/,
    )
    expect(lines).toContain(`ERROR Task tasks.fail[${f.id}] raised unexpected: ValueError('boom', 42)`)
  })

  it('logs retries and shadow names', async () => {
    const app = await setup({ logLevel: 'info' })
    const r = await app.sendTask('tasks.retry', [], {}, { shadow: 'shown-name' })
    await r.get({ timeout: 2000 })
    // The retried run can finish before the first run has logged its retry: wait for the line.
    await vi.waitFor(() =>
      expect(text()).toContain(`INFO Task shown-name[${r.id}] retry: Retry in 0s: KeyError('again')`),
    )
    expect(text()).toContain(`INFO Task shown-name[${r.id}] received`)
  })

  it('writes JSON lines with the task state and runtime', async () => {
    const app = await setup({ logLevel: 'info', logFormat: 'json' })
    const r = await app.sendTask('tasks.add', [1, 1])
    await r.get({ timeout: 2000 })
    await vi.waitFor(() => expect(out.some((l) => l.includes('succeeded'))).toBe(true))
    const objects = out.map((l) => JSON.parse(l) as Record<string, unknown>)
    const success = objects.find((o) => String(o.message).includes('succeeded'))
    expect(success).toMatchObject({ level: 'info', hostname: 'log@test', state: 'SUCCESS' })
    expect(typeof success?.runtime).toBe('number')
    expect(success?.message).toMatch(
      new RegExp(`^Task tasks\\.add\\[${r.id}\\] succeeded in \\d+\\.\\d{3}s: 2$`),
    )
  })

  it('writes nothing below its level', async () => {
    const app = await setup({ logLevel: 'error' })
    await (await app.sendTask('tasks.add', [1, 1])).get({ timeout: 2000 })
    expect(out).toEqual([])
  })
})
