/**
 * The tracer (runTask) as a pure function of a call: the bound context, arguments, retry()
 * and autoretry (Celery 5.2's formula), time limits, terminate, and the task predicates.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  Ignore,
  MaxRetriesExceededError,
  Reject,
  Retry,
  SoftTimeLimitExceeded,
  TimeLimitExceeded,
} from './errors.js'
import {
  backoffCountdown,
  callArguments,
  makeRetry,
  type Outcome,
  type Runnable,
  runTask,
  Terminator,
} from './execute.js'
import type { TaskContext, TaskOptions, TaskRequest } from './task-types.js'

function request(over: Partial<TaskRequest> = {}): TaskRequest {
  return {
    id: 'id-1',
    task: 't.x',
    args: [],
    kwargs: {},
    retries: 0,
    eta: undefined,
    expires: undefined,
    headers: {},
    parentId: null,
    rootId: 'id-1',
    groupId: null,
    groupIndex: null,
    hostname: 'celery@test',
    deliveryInfo: undefined,
    replyTo: undefined,
    correlationId: 'id-1',
    timeLimit: null,
    softTimeLimit: null,
    ignoreResult: false,
    isEager: false,
    callbacks: null,
    errbacks: null,
    chain: null,
    chord: null,
    ...over,
  }
}

function task(fn: (...args: never[]) => unknown, options: TaskOptions = {}): Runnable {
  return { name: 't.x', fn, options }
}

const env = (over: Partial<Parameters<typeof runTask>[2]> = {}) => ({
  updateState: async () => {},
  timeLimit: null,
  softTimeLimit: null,
  ...over,
})

function expectState<S extends Outcome['state']>(o: Outcome, state: S): Extract<Outcome, { state: S }> {
  expect(o.state).toBe(state)
  return o as Extract<Outcome, { state: S }>
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('running a task', () => {
  it('calls the function with its args and returns SUCCESS with the (awaited) result', async () => {
    const sync = await runTask(
      task((x: number, y: number) => x + y),
      request({ args: [2, 3] }),
      env(),
    )
    expect(expectState(sync, 'SUCCESS').result).toBe(5)
    const async = await runTask(
      task(async (x: number) => x * 2),
      request({ args: [4] }),
      env(),
    )
    expect(expectState(async, 'SUCCESS').result).toBe(8)
    expect(async.runtime).toBeGreaterThanOrEqual(0)
  })

  it('returns FAILURE with the error, thrown or rejected', async () => {
    const boom = new TypeError('boom')
    const sync = await runTask(
      task(() => {
        throw boom
      }),
      request(),
      env(),
    )
    expect(expectState(sync, 'FAILURE').error).toBe(boom)
    const async = await runTask(
      task(async () => Promise.reject(boom)),
      request(),
      env(),
    )
    expect(expectState(async, 'FAILURE').error).toBe(boom)
  })

  it('gives a bound task its context: request fields, a live signal, updateState', async () => {
    let ctx: TaskContext | undefined
    let abortedDuring: boolean | undefined
    const updates: unknown[] = []
    const req = request({
      args: [1],
      headers: { 'x-h': 1 },
      retries: 2,
      parentId: 'p',
      rootId: 'r',
      groupId: 'g',
    })
    await runTask(
      task(
        async (c: TaskContext, x: number) => {
          ctx = c
          abortedDuring = c.signal.aborted
          await c.updateState('PROGRESS', { done: x })
          return x
        },
        { bind: true },
      ),
      req,
      env({ updateState: async (r, state, meta) => void updates.push([r.id, state, meta]) }),
    )
    expect(ctx?.request).toBe(req)
    expect(ctx?.request).toMatchObject({
      retries: 2,
      parentId: 'p',
      rootId: 'r',
      groupId: 'g',
      headers: { 'x-h': 1 },
    })
    expect(abortedDuring).toBe(false)
    expect(ctx?.signal.aborted).toBe(true) // released once the run is over
    expect(updates).toEqual([['id-1', 'PROGRESS', { done: 1 }]])
  })

  it('lets a task take retry and updateState off its context, and reads the signal through it', async () => {
    const updates: unknown[] = []
    const o = await runTask(
      task(
        async (c: TaskContext) => {
          const { updateState, retry } = c
          await updateState('PROGRESS', { step: 1 })
          expect(c.signal).toBe(c.signal) // made once
          retry({ countdown: 5 })
        },
        { bind: true },
      ),
      request(),
      env({ updateState: async (r, state, meta) => void updates.push([r.id, state, meta]) }),
    )
    expect(updates).toEqual([['id-1', 'PROGRESS', { step: 1 }]])
    expect(o.state).toBe('RETRY')
  })

  it('maps keyword arguments onto positional parameters with `params`', async () => {
    const add = task((x: number, y: number, z = 0) => [x, y, z], { params: ['x', 'y', 'z'] })
    const o = await runTask(add, request({ args: [2, 3], kwargs: { z: 4 } }), env())
    expect(expectState(o, 'SUCCESS').result).toEqual([2, 3, 4])
    expect(callArguments(add, request({ args: [], kwargs: { y: 2, x: 1 } }))).toEqual([1, 2])
    expect(callArguments(add, request({ args: [1], kwargs: { z: 3 } }))).toEqual([1, undefined, 3])
    // Keywords no parameter takes are passed as a last object argument.
    expect(callArguments(add, request({ args: [1, 2], kwargs: { extra: true } }))).toEqual([
      1,
      2,
      { extra: true },
    ])
    expect(
      callArguments(
        task(() => 0),
        request({ args: [1], kwargs: { a: 1 } }),
      ),
    ).toEqual([1, { a: 1 }])
    expect(
      callArguments(
        task(() => 0),
        request({ args: [1] }),
      ),
    ).toEqual([1])
  })

  it('returns REJECTED for Reject (with requeue) and IGNORED for Ignore', async () => {
    const r = await runTask(
      task(() => {
        throw new Reject('no', { requeue: true })
      }),
      request(),
      env(),
    )
    expect(expectState(r, 'REJECTED').requeue).toBe(true)
    const d = await runTask(
      task(() => {
        throw new Reject('no')
      }),
      request(),
      env(),
    )
    expect(expectState(d, 'REJECTED').requeue).toBe(false)
    expect(
      (
        await runTask(
          task(() => {
            throw new Ignore('skip')
          }),
          request(),
          env(),
        )
      ).state,
    ).toBe('IGNORED')
  })
})

describe('retry()', () => {
  const bound = (o: Parameters<TaskContext['retry']>[0], options: TaskOptions = {}) =>
    task((c: TaskContext) => c.retry(o), { bind: true, ...options })

  it('returns RETRY, when = now + countdown (default defaultRetryDelay, else 180 s)', async () => {
    const before = Date.now()
    const o = expectState(await runTask(bound({ countdown: 30 }), request(), env()), 'RETRY')
    expect(o.retry).toBeInstanceOf(Retry)
    expect(o.retry.when!.getTime() - before).toBeGreaterThanOrEqual(30_000)
    expect(o.retry.when!.getTime() - Date.now()).toBeLessThanOrEqual(30_000)
    const d = expectState(await runTask(bound({}), request(), env()), 'RETRY')
    expect(Math.round((d.retry.when!.getTime() - Date.now()) / 1000)).toBe(180)
    const t = expectState(await runTask(bound({}, { defaultRetryDelay: 5 }), request(), env()), 'RETRY')
    expect(Math.round((t.retry.when!.getTime() - Date.now()) / 1000)).toBe(5)
    const eta = new Date(Date.now() + 60_000)
    expect(expectState(await runTask(bound({ eta }), request(), env()), 'RETRY').retry.when).toBe(eta)
  })

  it('says why, as Celery logs it', () => {
    const exc = Object.assign(new Error('try again'), { name: 'KeyError' })
    expect(
      makeRetry(
        task(() => 0),
        request(),
        { countdown: 30, exc },
      ).message,
    ).toBe("Retry in 30s: KeyError('try again')")
    expect(
      makeRetry(
        task(() => 0),
        request(),
        { countdown: 2 },
      ).message,
    ).toBe('Retry in 2s')
  })

  it('carries new args, kwargs, queue and priority for the retry message', () => {
    const r = makeRetry(
      task(() => 0),
      request(),
      { args: [9], kwargs: { k: 1 }, queue: 'slow', priority: 3 },
    )
    expect(r.call).toEqual({ args: [9], kwargs: { k: 1 }, queue: 'slow', priority: 3 })
  })

  it('throws the original error, or MaxRetriesExceededError, once retries run out (default 3)', async () => {
    const exc = new TypeError('still broken')
    const o = await runTask(bound({ exc }), request({ retries: 3 }), env())
    expect(expectState(o, 'FAILURE').error).toBe(exc)
    const m = await runTask(bound({}), request({ retries: 3, args: [1] }), env())
    const err = expectState(m, 'FAILURE').error
    expect(err).toBeInstanceOf(MaxRetriesExceededError)
    expect((err as Error).message).toContain("Can't retry t.x[id-1]")
    expect((await runTask(bound({}), request({ retries: 2 }), env())).state).toBe('RETRY')
  })

  it('follows maxRetries of the task and of the call; null retries for ever', async () => {
    expect((await runTask(bound({}, { maxRetries: 1 }), request({ retries: 1 }), env())).state).toBe(
      'FAILURE',
    )
    expect(
      (await runTask(bound({ maxRetries: 5 }, { maxRetries: 1 }), request({ retries: 4 }), env())).state,
    ).toBe('RETRY')
    expect((await runTask(bound({}, { maxRetries: null }), request({ retries: 1000 }), env())).state).toBe(
      'RETRY',
    )
  })
})

describe('autoretry', () => {
  class Flaky extends Error {}
  class Fatal extends Flaky {}
  const throwing = (err: Error, options: TaskOptions) =>
    task(() => {
      throw err
    }, options)

  it('retries errors listed in autoretryFor (by class or name), not others', async () => {
    const byClass = await runTask(throwing(new Flaky('x'), { autoretryFor: [Flaky] }), request(), env())
    expect(expectState(byClass, 'RETRY').retry.exc).toBeInstanceOf(Flaky)
    const byName = await runTask(
      throwing(new TypeError('x'), { autoretryFor: ['TypeError'] }),
      request(),
      env(),
    )
    expect(byName.state).toBe('RETRY')
    expect(
      (await runTask(throwing(new RangeError('x'), { autoretryFor: [Flaky] }), request(), env())).state,
    ).toBe('FAILURE')
  })

  it('does not retry errors listed in dontAutoretryFor, nor Retry/Reject/Ignore', async () => {
    const o = await runTask(
      throwing(new Fatal('x'), { autoretryFor: [Flaky], dontAutoretryFor: [Fatal] }),
      request(),
      env(),
    )
    expect(o.state).toBe('FAILURE')
    expect(
      (await runTask(throwing(new Reject('r'), { autoretryFor: [Error] }), request(), env())).state,
    ).toBe('REJECTED')
    expect(
      (await runTask(throwing(new Ignore('i'), { autoretryFor: [Error] }), request(), env())).state,
    ).toBe('IGNORED')
  })

  it('uses the default retry delay without retryBackoff, and retryKwargs', async () => {
    const o = await runTask(
      throwing(new Flaky('x'), { autoretryFor: [Flaky], retryKwargs: { countdown: 7, queue: 'later' } }),
      request(),
      env(),
    )
    const r = expectState(o, 'RETRY').retry
    expect(Math.round((r.when!.getTime() - Date.now()) / 1000)).toBe(7)
    expect(r.call.queue).toBe('later')
  })

  it('backs off as Celery: min(retryBackoffMax, factor * 2 ** retries), no jitter', async () => {
    const opts: TaskOptions = { autoretryFor: [Flaky], retryBackoff: 2, retryJitter: false, maxRetries: 10 }
    const delay = async (retries: number, extra: TaskOptions = {}) => {
      const r = expectState(
        await runTask(throwing(new Flaky('x'), { ...opts, ...extra }), request({ retries }), env()),
        'RETRY',
      )
      return Math.round((r.retry.when!.getTime() - Date.now()) / 1000)
    }
    expect(await delay(0)).toBe(2) // golden autoretry: factor 2, first retry "Retry in 2s"
    expect(await delay(3)).toBe(16)
    expect(await delay(3, { retryBackoffMax: 10 })).toBe(10)
    expect(await delay(1, { retryBackoff: true })).toBe(2)
    expect(await delay(9)).toBe(600) // retryBackoffMax defaults to 600
  })

  it('applies full jitter: randrange(countdown + 1)', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5)
    const o = await runTask(
      throwing(new Flaky('x'), { autoretryFor: [Flaky], retryBackoff: 4, maxRetries: 10 }),
      request({ retries: 1 }),
      env(),
    )
    // countdown 8, randrange(9) with random 0.5 -> 4
    expect(Math.round((expectState(o, 'RETRY').retry.when!.getTime() - Date.now()) / 1000)).toBe(4)
  })

  it('fails with the original error once retries run out', async () => {
    const err = new Flaky('x')
    const o = await runTask(
      throwing(err, { autoretryFor: [Flaky], maxRetries: 2 }),
      request({ retries: 2 }),
      env(),
    )
    expect(expectState(o, 'FAILURE').error).toBe(err)
  })

  it('computes backoffCountdown as get_exponential_backoff_interval', () => {
    expect(backoffCountdown(1, 0, 600, false)).toBe(1)
    expect(backoffCountdown(2, 5, 600, false)).toBe(64)
    expect(backoffCountdown(1, 10, 600, false)).toBe(600)
    expect(backoffCountdown(0, 3, 600, false)).toBe(0)
    vi.spyOn(Math, 'random').mockReturnValue(0.9999)
    expect(backoffCountdown(1, 3, 600, true)).toBe(8)
    vi.spyOn(Math, 'random').mockReturnValue(0)
    expect(backoffCountdown(1, 3, 600, true)).toBe(0)
  })
})

describe('time limits and terminate', () => {
  it('aborts the signal with SoftTimeLimitExceeded at the soft limit', async () => {
    const t = task(
      (c: TaskContext) =>
        new Promise((_, reject) => c.signal.addEventListener('abort', () => reject(c.signal.reason))),
      { bind: true },
    )
    const o = await runTask(t, request(), env({ softTimeLimit: 0.03 }))
    expect(expectState(o, 'FAILURE').error).toBeInstanceOf(SoftTimeLimitExceeded)
  })

  it('lets a task that handles the soft limit finish', async () => {
    const t = task(
      (c: TaskContext) =>
        new Promise((resolve) => c.signal.addEventListener('abort', () => resolve('cleaned up'))),
      { bind: true },
    )
    expect(
      expectState(await runTask(t, request(), env({ softTimeLimit: 0.02, timeLimit: 1 })), 'SUCCESS').result,
    ).toBe('cleaned up')
  })

  it('abandons a task that never settles at the hard limit: FAILURE TimeLimitExceeded', async () => {
    let signal: AbortSignal | undefined
    const t = task(
      (c: TaskContext) => {
        signal = c.signal
        return new Promise(() => {})
      },
      { bind: true },
    )
    const started = Date.now()
    const o = await runTask(t, request(), env({ timeLimit: 0.05 }))
    const err = expectState(o, 'FAILURE').error
    expect(err).toBeInstanceOf(TimeLimitExceeded)
    expect((err as TimeLimitExceeded).excArgs).toEqual([0.05])
    expect(Date.now() - started).toBeGreaterThanOrEqual(45)
    expect(signal?.aborted).toBe(true)
  })

  it('stops at once when terminated, with the signal aborted', async () => {
    const terminate = new Terminator()
    let signal: AbortSignal | undefined
    const t = task(
      (c: TaskContext) => {
        signal = c.signal
        return new Promise(() => {})
      },
      { bind: true },
    )
    const run = runTask(t, request(), env({ terminate }))
    await vi.waitFor(() => expect(signal).toBeDefined())
    terminate.terminate(new Error('terminated'))
    const o = await run
    expect((expectState(o, 'FAILURE').error as Error).message).toBe('terminated')
    expect(signal?.aborted).toBe(true)
  })
})
