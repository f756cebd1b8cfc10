import { describe, expect, it } from 'vitest'
import { buildTable } from './table-shapes.js'

const keysOf = (n: number, prefix = 'k') => Array.from({ length: n }, (_, i) => `${prefix}${i}`)

describe('buildTable', () => {
  it('builds the same table key by key and, once the keys repeat, from a compiled literal', () => {
    const keys = keysOf(20)
    const expected = Object.fromEntries(keys.map((k, i) => [k, i]))
    for (let round = 0; round < 5; round++) {
      const table = buildTable(
        keys,
        keys.map((_, i) => i),
        keys.length,
      )
      expect(table).toEqual(expected)
      expect(Object.keys(table)).toEqual(keys)
    }
  })

  it('uses only the first n keys and values of its scratch arrays', () => {
    const keys = [...keysOf(12), 'stale']
    const values = [...keys.map((_, i) => i)]
    for (let round = 0; round < 3; round++)
      expect(Object.keys(buildTable(keys, values, 12))).toEqual(keysOf(12))
  })

  it('a later duplicate key wins, as key by key', () => {
    const keys = [...keysOf(11), 'k0']
    const values = keys.map((_, i) => i)
    for (let round = 0; round < 3; round++) expect(buildTable(keys, values, keys.length).k0).toBe(11)
  })

  it('never sets a prototype from a `__proto__` key: it is an own key like the others', () => {
    for (const n of [2, 12]) {
      const keys = [...keysOf(n - 1), '__proto__']
      for (let round = 0; round < 3; round++) {
        const table = buildTable(keys, [...keysOf(n - 1), { polluted: true }], keys.length)
        expect((table as { polluted?: boolean }).polluted).toBeUndefined()
        expect(Object.getPrototypeOf(table)).toBe(Object.prototype)
        expect(Object.keys(table)).toEqual(keys)
      }
    }
  })

  it('keys that are not identifiers, quotes and line separators included', () => {
    const keys = [...keysOf(10), 'a "quoted" key', "it's", 'line\u2028sep', '1', 'x-y']
    const values = keys.map((k) => k.toUpperCase())
    for (let round = 0; round < 3; round++)
      expect(buildTable(keys, values, keys.length)).toEqual(
        Object.fromEntries(keys.map((k, i) => [k, values[i]])),
      )
  })

  it('many distinct key sequences: past the compiled ones, still right', () => {
    for (let s = 0; s < 40; s++) {
      const keys = keysOf(12, `s${s}_`)
      for (let round = 0; round < 2; round++)
        expect(buildTable(keys, keys, keys.length)).toEqual(Object.fromEntries(keys.map((k) => [k, k])))
    }
  })
})
