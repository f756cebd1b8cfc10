import { describe, expect, it } from 'vitest'
import { didYouMean, editDistance, isThenable, runAll, sleep } from './util.js'

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['json', 'json', 0],
    ['josn', 'json', 2],
    ['redis', 'reddis', 1],
    ['kitten', 'sitting', 3],
    ['', 'abc', 3],
  ])('%s -> %s is %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d)
  })
})

describe('didYouMean', () => {
  it('suggests the closest plausible candidate, case-insensitively', () => {
    expect(didYouMean('reddis', ['memory', 'redis', 'amqp'])).toBe('redis')
    expect(didYouMean('JOSN', ['json', 'msgpack'])).toBe('json')
    expect(didYouMean('conectTimeout', ['connectTimeout', 'heartbeat'])).toBe('connectTimeout')
  })

  it('suggests nothing when no candidate is close', () => {
    expect(didYouMean('zebra', ['json', 'msgpack'])).toBeUndefined()
    expect(didYouMean('x', [])).toBeUndefined()
  })
})

describe('helpers', () => {
  it('isThenable tells promises from values', () => {
    expect(isThenable(Promise.resolve(1))).toBe(true)
    expect(isThenable(1)).toBe(false)
    expect(isThenable(null)).toBe(false)
  })

  it('sleep resolves early when its signal aborts', async () => {
    const ctl = new AbortController()
    const t0 = Date.now()
    const p = sleep(10_000, ctl.signal)
    ctl.abort()
    await p
    expect(Date.now() - t0).toBeLessThan(1000)
  })

  it('runAll runs every step and throws the first error at the end', async () => {
    const ran: number[] = []
    await expect(
      runAll([
        () => ran.push(1),
        () => {
          throw new Error('first')
        },
        async () => ran.push(3),
        () => {
          throw new Error('second')
        },
      ]),
    ).rejects.toThrow('first')
    expect(ran).toEqual([1, 3])
  })
})
