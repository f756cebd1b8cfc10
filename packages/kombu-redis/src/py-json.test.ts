import { describe, expect, it } from 'vitest'
import { markRedelivered, pyDumps, pyString } from './py-json.js'

describe('Python JSON', () => {
  it('quotes strings as json.dumps does (ensure_ascii)', () => {
    expect(pyString('a"b\\c\n\t\u0001')).toBe('"a\\"b\\\\c\\n\\t\\u0001"')
    expect(pyString('é😀\u007f')).toBe('"\\u00e9\\ud83d\\ude00\\u007f"')
    expect(pyString('/')).toBe('"/"')
  })

  it('separates items with ", " and ": "', () => {
    expect(pyDumps({ a: [1, 2.5, null, true], b: { c: 'd' }, skip: undefined })).toBe(
      '{"a": [1, 2.5, null, true], "b": {"c": "d"}}',
    )
    expect(pyDumps([Number.NaN, Number.POSITIVE_INFINITY, 10n])).toBe('[NaN, Infinity, 10]')
  })

  it('flags an envelope redelivered as Kombu does, keeping every other byte', () => {
    const raw =
      '{"body": "e30=", "headers": {"freq": 2.0, "x": "\\u00e9"}, "properties": {"delivery_info": {"exchange": "", "routing_key": "q"}, "priority": 0}}'
    expect(markRedelivered(raw)).toBe(
      '{"body": "e30=", "headers": {"freq": 2.0, "x": "\\u00e9", "redelivered": true}, "properties": {"delivery_info": {"exchange": "", "routing_key": "q", "redelivered": true}, "priority": 0}}',
    )
    // Already flagged: replaced, not duplicated; compact input comes out with Python's separators.
    expect(markRedelivered('{"headers":{"redelivered":false},"properties":{"delivery_info":{}}}')).toBe(
      '{"headers": {"redelivered": true}, "properties": {"delivery_info": {"redelivered": true}}}',
    )
    expect(() => markRedelivered('nope')).toThrow(SyntaxError)
  })
})

describe('pyDumps, values written under a key seen before', () => {
  it('writes each value anew when it changes, equal ones as before', () => {
    const a = { memo_k: 'plain', other: 1 }
    const b = { memo_k: 'quote " and \u00e9', other: 2 }
    const c = { memo_k: `pla${'in'}`, other: 3 }
    expect(pyDumps(a)).toBe('{"memo_k": "plain", "other": 1}')
    expect(pyDumps(b)).toBe('{"memo_k": "quote \\" and \\u00e9", "other": 2}')
    expect(pyDumps(c)).toBe('{"memo_k": "plain", "other": 3}')
    expect(pyDumps({ memo_k: 'quote " and \u00e9' })).toBe('{"memo_k": "quote \\" and \\u00e9"}')
    expect(pyDumps({ memo_k: ['plain'] })).toBe('{"memo_k": ["plain"]}')
  })
})
