import { describe, expect, it } from 'vitest'
import { InvalidOptionError } from './errors.js'
import { DEFAULT_RETRY_POLICY, resolveRetryPolicy, retryDelay } from './retry.js'

function thrown(fn: () => unknown): Error {
  try {
    fn()
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a throw')
}

describe('resolveRetryPolicy', () => {
  it('fills in the defaults', () => {
    expect(DEFAULT_RETRY_POLICY).toEqual({
      maxRetries: 3,
      intervalStart: 0,
      intervalStep: 200,
      intervalMax: 5000,
      factor: 2,
    })
    expect(Object.isFrozen(DEFAULT_RETRY_POLICY)).toBe(true)
    expect(resolveRetryPolicy(undefined)).toEqual(DEFAULT_RETRY_POLICY)
    expect(resolveRetryPolicy({})).toEqual(DEFAULT_RETRY_POLICY)
  })

  it('keeps given values and ignores undefined ones', () => {
    expect(resolveRetryPolicy({ maxRetries: 10, intervalStep: undefined, factor: 1 })).toEqual({
      ...DEFAULT_RETRY_POLICY,
      maxRetries: 10,
      factor: 1,
    })
  })

  it('accepts Infinity retries and zero intervals', () => {
    const p = resolveRetryPolicy({ maxRetries: Number.POSITIVE_INFINITY, intervalStart: 0, intervalStep: 0 })
    expect(p.maxRetries).toBe(Number.POSITIVE_INFINITY)
  })

  it('fills in from another base', () => {
    const base = resolveRetryPolicy({ maxRetries: 7, intervalStep: 10 })
    expect(resolveRetryPolicy({ intervalMax: 50 }, base)).toEqual({ ...base, intervalMax: 50 })
  })

  it('does not change the defaults', () => {
    resolveRetryPolicy({ maxRetries: 99 })
    expect(DEFAULT_RETRY_POLICY.maxRetries).toBe(3)
  })

  it.each([
    ['maxRetries', -1],
    ['maxRetries', Number.NaN],
    ['intervalStart', -5],
    ['intervalStep', '100'],
    ['intervalMax', -1],
  ] as const)('rejects %s = %s, naming the field', (key, value) => {
    const err = thrown(() => resolveRetryPolicy({ [key]: value } as never))
    expect(err).toBeInstanceOf(InvalidOptionError)
    expect(err.message).toContain(`retryPolicy.${key}`)
    expect(err.message).toContain('>= 0')
  })

  it.each([0.5, 0, -2, Number.NaN, Number.POSITIVE_INFINITY, '2'])(
    'rejects factor = %s, naming the field',
    (factor) => {
      const err = thrown(() => resolveRetryPolicy({ factor: factor as number }))
      expect(err).toBeInstanceOf(InvalidOptionError)
      expect(err.message).toContain('retryPolicy.factor')
      expect(err.message).toContain('>= 1')
    },
  )
})

describe('retryDelay', () => {
  it('grows linearly with factor 1: start + step * (n - 1), as Kombu', () => {
    const p = resolveRetryPolicy({ intervalStart: 100, intervalStep: 50, intervalMax: 10_000, factor: 1 })
    expect([1, 2, 3, 4, 5].map((n) => retryDelay(p, n))).toEqual([100, 150, 200, 250, 300])
  })

  it('doubles the increment with factor 2', () => {
    const p = resolveRetryPolicy({ intervalStart: 0, intervalStep: 100, intervalMax: 100_000, factor: 2 })
    const delays = [1, 2, 3, 4, 5].map((n) => retryDelay(p, n))
    expect(delays).toEqual([0, 100, 300, 700, 1500])
    const increments = delays.slice(1).map((d, i) => d - delays[i]!)
    expect(increments).toEqual([100, 200, 400, 800])
  })

  it('uses the defaults: 0, 200, 600, 1400 ... capped at 5000', () => {
    const p = resolveRetryPolicy(undefined)
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => retryDelay(p, n))).toEqual([0, 200, 600, 1400, 3000, 5000, 5000])
  })

  it('never exceeds intervalMax', () => {
    const linear = resolveRetryPolicy({ intervalStart: 500, intervalStep: 500, intervalMax: 1200, factor: 1 })
    expect([1, 2, 3, 10, 1000].map((n) => retryDelay(linear, n))).toEqual([500, 1000, 1200, 1200, 1200])
    const startAboveMax = resolveRetryPolicy({ intervalStart: 9000, intervalMax: 1000 })
    expect(retryDelay(startAboveMax, 1)).toBe(1000)
  })

  it('stays a finite number for very many retries (reconnecting for ever)', () => {
    const p = resolveRetryPolicy({ maxRetries: Number.POSITIVE_INFINITY })
    expect(retryDelay(p, 5000)).toBe(5000)
    const constant = resolveRetryPolicy({
      intervalStart: 1000,
      intervalStep: 0,
      maxRetries: Number.POSITIVE_INFINITY,
    })
    expect(retryDelay(constant, 1)).toBe(1000)
    expect(retryDelay(constant, 5000)).toBe(1000)
  })

  it('gives 0 when every interval is 0', () => {
    const p = resolveRetryPolicy({ intervalStart: 0, intervalStep: 0, intervalMax: 0 })
    expect(retryDelay(p, 1)).toBe(0)
    expect(retryDelay(p, 3)).toBe(0)
  })
})
