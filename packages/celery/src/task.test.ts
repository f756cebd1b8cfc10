/**
 * Tasks: registration, signatures as Celery's dicts, and apply() (run here and now, retries
 * included).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { Celery } from './app.js'
import { ConfigurationError, MaxRetriesExceededError, NotRegisteredError } from './errors.js'
import { EagerResult, signature } from './task.js'
import type { TaskContext } from './task-types.js'

const apps: Celery[] = []
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close()
})

function app(): Celery {
  const a = new Celery('t', { broker: 'memory://task-test', env: {} })
  apps.push(a)
  return a
}

describe('registration', () => {
  it('registers tasks by name and finds them', () => {
    const a = app()
    const add = a.task('tasks.add', (x: number, y: number) => x + y)
    expect(add.name).toBe('tasks.add')
    expect(a.getTask('tasks.add')).toBe(add)
    expect(Object.isFrozen(add.options)).toBe(true)
  })

  it('refuses a task without a name or function, and unknown names', () => {
    const a = app()
    expect(() => a.task('', () => 0)).toThrow(ConfigurationError)
    expect(() => a.task('x', 'nope' as unknown as () => number)).toThrow(ConfigurationError)
    expect(() => a.getTask('missing')).toThrow(NotRegisteredError)
    expect(() => a.getTask('missing')).toThrow("Task of kind 'missing' is not registered")
  })
})

describe('signatures', () => {
  it('are Celery’s signature dicts, mutable or immutable', () => {
    const a = app()
    const mul = a.task('proj.mul', (x: number, y: number) => x * y)
    expect(mul.s(10)).toEqual({
      task: 'proj.mul',
      args: [10],
      kwargs: {},
      options: {},
      subtask_type: null,
      immutable: false,
    })
    expect(mul.si(7, 7)).toEqual({
      task: 'proj.mul',
      args: [7, 7],
      kwargs: {},
      options: {},
      subtask_type: null,
      immutable: true,
    })
    expect(Object.keys(mul.s())).toEqual(['task', 'args', 'kwargs', 'options', 'subtask_type', 'immutable'])
    expect(signature('proj.x', [1], { k: 2 }, { queue: 'q' })).toMatchObject({
      kwargs: { k: 2 },
      options: { queue: 'q' },
    })
  })
})

describe('apply()', () => {
  it('runs the task here and returns an EagerResult', async () => {
    const a = app()
    const add = a.task('tasks.add', (x: number, y: number) => x + y)
    const r = await add.apply([2, 3])
    expect(r).toBeInstanceOf(EagerResult)
    expect(r.get()).toBe(5)
    expect(r.state).toBe('SUCCESS')
    expect(r.successful()).toBe(true)
    expect(r.failed()).toBe(false)
    expect(r.ready()).toBe(true)
    expect(r.result).toBe(5)
    expect((await add.apply([1, 1], {}, { taskId: 'fixed' })).id).toBe('fixed')
  })

  it('gives the bound context an eager request', async () => {
    const a = app()
    let seen: TaskContext['request'] | undefined
    const t = a.task(
      'tasks.ctx',
      (c: TaskContext, x: number) => {
        seen = c.request
        return x
      },
      { bind: true },
    )
    const r = await t.apply([1], { k: 2 })
    expect(seen).toMatchObject({
      id: r.id,
      rootId: r.id,
      isEager: true,
      args: [1],
      kwargs: { k: 2 },
      retries: 0,
      hostname: a.hostname,
    })
  })

  it('fails with the error and its stack; get() throws unless propagate is false', async () => {
    const a = app()
    const err = new TypeError('bad')
    const r = await a
      .task('tasks.fail', () => {
        throw err
      })
      .apply()
    expect(r.state).toBe('FAILURE')
    expect(r.failed()).toBe(true)
    expect(() => r.get()).toThrow(err)
    expect(r.get({ propagate: false })).toBe(err)
    expect(r.traceback).toContain('TypeError: bad')
  })

  it('runs retries at once, ignoring their countdown, with retries + 1 and new args', async () => {
    const a = app()
    const calls: Array<[number, unknown[]]> = []
    const t = a.task(
      'tasks.retry',
      (c: TaskContext, n: number) => {
        calls.push([c.request.retries, [n]])
        if (c.request.retries < 2) c.retry({ countdown: 60, args: [n + 1] })
        return n
      },
      { bind: true },
    )
    const started = Date.now()
    const r = await t.apply([1])
    expect(r.get()).toBe(3)
    expect(calls).toEqual([
      [0, [1]],
      [1, [2]],
      [2, [3]],
    ])
    expect(Date.now() - started).toBeLessThan(1000)
  })

  it('stops at maxRetries: the original error, or MaxRetriesExceededError', async () => {
    const a = app()
    let runs = 0
    const t = a.task(
      'tasks.always',
      (c: TaskContext) => {
        runs++
        c.retry({ countdown: 1 })
      },
      { bind: true, maxRetries: 2 },
    )
    const r = await t.apply()
    expect(runs).toBe(3)
    expect(r.get({ propagate: false })).toBeInstanceOf(MaxRetriesExceededError)
    class Flaky extends Error {}
    const auto = a.task(
      'tasks.auto',
      () => {
        throw new Flaky('x')
      },
      { autoretryFor: [Flaky], maxRetries: 1 },
    )
    expect((await auto.apply()).get({ propagate: false })).toBeInstanceOf(Flaky)
  })

  it('honours the soft time limit', async () => {
    const a = app()
    const t = a.task(
      'tasks.slow',
      (c: TaskContext) =>
        new Promise((resolve) => c.signal.addEventListener('abort', () => resolve('stopped'))),
      { bind: true, softTimeLimit: 0.02 },
    )
    expect((await t.apply()).get()).toBe('stopped')
  })

  it('reports IGNORED and REJECTED as their states', async () => {
    const a = app()
    const { Ignore, Reject } = await import('./errors.js')
    expect(
      (
        await a
          .task('i', () => {
            throw new Ignore('skip')
          })
          .apply()
      ).state,
    ).toBe('IGNORED')
    expect(
      (
        await a
          .task('r', () => {
            throw new Reject('no')
          })
          .apply()
      ).state,
    ).toBe('REJECTED')
  })
})
