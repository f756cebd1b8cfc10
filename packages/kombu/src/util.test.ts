import { describe, expect, it } from 'vitest'
import { didYouMean, editDistance, isThenable, runAll, sleep, uuid } from './util.js'

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

describe('uuid', () => {
  it('makes distinct version 4 uuids in the canonical lowercase form', () => {
    const seen = new Set<string>()
    // More than one pool of random bytes (256 ids), to cross a refill.
    for (let i = 0; i < 1000; i++) {
      const id = uuid()
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      seen.add(id)
    }
    expect(seen.size).toBe(1000)
  })

  it('returns strings that do not change when the next id is made', () => {
    const a = uuid()
    const copy = `${a}`
    uuid()
    expect(a).toBe(copy)
  })
})
