/**
 * argsrepr/kwargsrepr as Celery 5.2's `saferepr` writes them. Expected strings were produced by
 * `celery.utils.saferepr.saferepr(value, 1024)` on Debian's python3-celery 5.2.6.
 */
import { describe, expect, it } from 'vitest'
import { pythonRepr, saferepr } from './python-repr.js'

describe('saferepr (argsrepr, kwargsrepr)', () => {
  it('writes args as a tuple and kwargs as a dict, as the golden samples', () => {
    expect(saferepr([2, 3], 1024, true)).toBe('(2, 3)')
    expect(saferepr([7], 1024, true)).toBe('(7,)')
    expect(saferepr([], 1024, true)).toBe('()')
    expect(saferepr({ z: 4 })).toBe("{'z': 4}")
    expect(saferepr({})).toBe('{}')
    expect(saferepr([1, 2])).toBe('[1, 2]')
    expect(saferepr(['869a597d-925a-4d3f-aeef-5b6138b68760'], 1024, true)).toBe(
      "('869a597d-925a-4d3f-aeef-5b6138b68760',)",
    )
  })

  it('writes None, True, False and numbers as Python', () => {
    expect(saferepr([null, true, false], 1024, true)).toBe('(None, True, False)')
    expect(saferepr([1.5, -2, 1e21], 1024, true)).toBe('(1.5, -2, 1e+21)')
    expect(pythonRepr(undefined)).toBe('None')
    expect(pythonRepr(Number.NaN)).toBe('nan')
    expect(pythonRepr(Number.POSITIVE_INFINITY)).toBe('inf')
  })

  it('quotes strings as Celery saferepr does: single quotes, only quotes escaped', () => {
    expect(saferepr(["it's"], 1024, true)).toBe("('it\\'s',)")
    expect(saferepr(['say "hi"'], 1024, true)).toBe('(\'say "hi"\',)')
    expect(saferepr(['both \' and "'], 1024, true)).toBe("('both \\' and \"',)")
    expect(saferepr(['a\nb'], 1024, true)).toBe("('a\nb',)")
    expect(saferepr(['back\\slash'], 1024, true)).toBe("('back\\slash',)")
    expect(saferepr({ "k'": 1 })).toBe("{'k\\'': 1}")
  })

  it('nests lists and dicts, cut at three levels as Celery (maxlevels=3)', () => {
    expect(saferepr([['a', { k: null }]], 1024, true)).toBe("(['a', {'k': None}],)")
    expect(saferepr([[1, [2, [3, [4, [5]]]]]], 1024, true)).toBe('([1, [2, [...]]],)')
    expect(saferepr({ a: { b: { c: { d: 1 } } } })).toBe("{'a': {'b': {'c': {...}}}}")
    expect(saferepr([1, [2, [3, [4]]]])).toBe('[1, [2, [3, [...]]]]')
    expect(saferepr({ x: [1, [2, [3]]] })).toBe("{'x': [1, [2, [...]]]}")
  })

  it('truncates long reprs near maxlen with an ellipsis', () => {
    const r = saferepr(['x'.repeat(2000)], 1024, true)
    expect(r.startsWith("('xxxx")).toBe(true)
    expect(r.endsWith('...')).toBe(true)
    expect(r.length).toBeLessThanOrEqual(1024 + 12)
    expect(r.length).toBeGreaterThanOrEqual(1024)
    expect(saferepr([1, 2, 3], 5, true)).toBe('(1, 2...')
    expect(saferepr('short', 1024)).toBe("'short'")
  })

  it('shows dates as strings and bytes by size', () => {
    expect(pythonRepr(new Date('2026-01-02T03:04:05.000Z'))).toBe("'2026-01-02T03:04:05.000Z'")
    expect(pythonRepr(Buffer.from('abc'))).toBe("b'<3 bytes>'")
    expect(pythonRepr(10n)).toBe('10')
  })
})
