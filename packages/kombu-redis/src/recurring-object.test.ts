import { describe, expect, it } from 'vitest'
import { pyDumps } from './py-json.js'
import { RecurringObjectWriter } from './recurring-object.js'

const SHARED = Object.freeze([null, null])

/** Celery-like headers: a few values change per call, the rest stay. */
function headers(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    lang: 'js',
    task: 'tasks.add',
    id,
    shadow: null,
    eta: null,
    retries: 0,
    timelimit: SHARED,
    root_id: id,
    argsrepr: '(1, 2)',
    ignore_result: false,
    ...extra,
  }
}

describe('RecurringObjectWriter', () => {
  it('writes what pyDumps writes, call after call, as values change', () => {
    const w = new RecurringObjectWriter()
    for (let i = 0; i < 20; i++) {
      const h = headers(`id-${i}`, i % 3 === 0 ? { retries: i } : {})
      expect(w.write(h)).toBe(pyDumps(h))
    }
  })

  it('follows keys added, removed, reordered and left undefined', () => {
    const w = new RecurringObjectWriter()
    const seq: Array<Record<string, unknown>> = [
      headers('a'),
      headers('a', { extra: 'é\u2028"x"' }),
      headers('b'),
      { id: 'b', lang: 'js' },
      { lang: 'js', id: 'b' },
      { lang: undefined, id: 'b' },
      {},
      headers('c', { shadow: undefined }),
      headers('c'),
    ]
    for (const h of seq) expect(w.write(h)).toBe(pyDumps(h))
  })

  it('writes an object again when it changed in place (only frozen ones are trusted)', () => {
    const w = new RecurringObjectWriter()
    const limits = [10, null]
    const h = headers('a', { timelimit: limits })
    expect(w.write(h)).toBe(pyDumps(h))
    limits[0] = 20
    expect(w.write(h)).toContain('"timelimit": [20, null]')
    const nested = Object.freeze({ inner: { n: 1 } })
    const h2 = headers('a', { stamps: nested })
    expect(w.write(h2)).toBe(pyDumps(h2))
    nested.inner.n = 2
    expect(w.write(h2)).toContain('"inner": {"n": 2}')
  })

  it('agrees with pyDumps over random sequences of edits', () => {
    const w = new RecurringObjectWriter()
    let seed = 7
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed % n
    }
    const keys = ['a', 'b', 'c', 'd', 'e', 'f']
    const values: unknown[] = [null, 0, 1, 'x', 'y', true, undefined, SHARED, [1, 2], { k: 'v' }]
    for (let round = 0; round < 2000; round++) {
      const obj: Record<string, unknown> = {}
      const count = rand(keys.length + 1)
      const start = rand(2)
      for (let i = 0; i < count; i++) obj[keys[(start + i) % keys.length]!] = values[rand(values.length)]
      expect(w.write(obj)).toBe(pyDumps(obj))
    }
  })

  it('writes a long value every time without keeping it', () => {
    const w = new RecurringObjectWriter()
    const long = 'L'.repeat(10_000)
    for (const h of [
      headers('a', { big: long }),
      headers('b', { big: long }),
      headers('b', { big: 'short' }),
    ])
      expect(w.write(h)).toBe(pyDumps(h))
  })
})
