import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { EncodeError } from '@q/kombu'
import { describe, expect, it } from 'vitest'
import { decodeFields, isPlainTable } from './field-decode.js'
import { encodeTable } from './field-table.js'
import { fromWireTable, toWireTable } from './headers.js'
import { encodeAnyTable, encodePyTable, PyTable } from './py-table.js'

const typedPath = (table: Record<string, unknown>): string => {
  const buffer = Buffer.alloc(65536)
  return buffer.subarray(0, encodeTable(buffer, toWireTable(table), 0)).toString('hex')
}
const pyPath = (table: Record<string, unknown>, buffer = Buffer.alloc(65536)): string =>
  buffer.subarray(0, encodePyTable(buffer, table, 0)).toString('hex')

const goldenDir = join(fileURLToPath(new URL('.', import.meta.url)), '../test/golden')
const goldenHeaders = readdirSync(goldenDir)
  .filter((f) => f.endsWith('.amqp.json'))
  .flatMap(
    (f) =>
      (JSON.parse(readFileSync(join(goldenDir, f), 'utf8')) as { messages: Array<{ headers: object }> })
        .messages,
  )
  .map((m) => m.headers as Record<string, unknown>)

const TABLES: Array<Record<string, unknown>> = [
  ...goldenHeaders,
  {
    s: 'text',
    empty: '',
    unicode: 'h\u00e9 \u2713 \u{1F600}',
    long: 'x'.repeat(300),
    t: true,
    f: false,
    n: null,
  },
  { k\u00e9y: 1, '\u{1F600}': 'emoji key', lone: '\ud800' },
  {
    zero: 0,
    neg: -1,
    max: 2 ** 31 - 1,
    min: -(2 ** 31) + 1,
    over: 2 ** 31,
    under: -(2 ** 31),
    huge: 2 ** 62,
  },
  { f: 1.5, nan: Number.NaN, inf: Number.POSITIVE_INFINITY, big: 2 ** 64, negZero: -0 },
  { b1: 5n, b2: -(2n ** 40n), b3: 2n ** 63n - 1n },
  { when: new Date(1700000000123), raw: Buffer.from([0, 1, 255]), view: new Uint8Array([7, 8]) },
  {
    arr: [1, 'two', null, undefined, true, [3, [4]], { k: 'v' }],
    nested: { a: { b: { c: -1 } } },
    e: {},
    ea: [],
  },
  { typed: { '!': 'int16', value: 3 }, ts: { '!': 'timestamp', value: 5 }, dropped: undefined },
]

describe('encodePyTable: the bytes of encodeTable(toWireTable(table)), in one pass', () => {
  for (const [i, table] of TABLES.entries()) {
    it(`table #${i}`, () => {
      expect(pyPath(table)).toBe(typedPath(table))
    })
  }

  it('random tables of every kind of value', () => {
    let seed = 1
    const next = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return seed / 0x7fffffff
    }
    const values = [
      () => Math.floor((next() - 0.5) * 2 ** (next() * 70)),
      () => (next() - 0.5) * 1e6,
      () => 'abcdefghij\u00e9'.slice(0, Math.floor(next() * 12)).repeat(Math.ceil(next() * 10)),
      () => next() < 0.5,
      () => null,
    ]
    for (let n = 0; n < 500; n++) {
      const table: Record<string, unknown> = {}
      for (let k = Math.floor(next() * 25); k > 0; k--) {
        const value = values[Math.floor(next() * values.length)]!()
        table[`key_${Math.floor(next() * 40)}`] = next() < 0.1 ? [value, value] : value
      }
      expect(pyPath(table)).toBe(typedPath(table))
    }
  })

  it('fails as the typed path does: an EncodeError naming the header, a RangeError when too large', () => {
    expect(() => pyPath({ nested: { fn: () => 1 } })).toThrow(EncodeError)
    expect(() => pyPath({ nested: { fn: () => 1 } })).toThrow(/Header 'nested.fn' is a function/)
    expect(() => pyPath({ a: 2n ** 64n })).toThrow(EncodeError)
    expect(() => pyPath({ long: 'x'.repeat(100) }, Buffer.alloc(16))).toThrow(RangeError)
  })

  it('amqplib wraps the headers in Object.create: encodeAnyTable still sees the PyTable', () => {
    const headers = { retries: -1, task: 'proj.add' }
    const buffer = Buffer.alloc(1024)
    const size = encodeAnyTable(buffer, Object.create(new PyTable(headers)), 0)
    expect(buffer.subarray(0, size).toString('hex')).toBe(typedPath(headers))
  })
})

describe('decodeFields: cached strings and plain tables', () => {
  const encode = (table: Record<string, unknown>) => {
    const buffer = Buffer.alloc(65536)
    return Buffer.from(buffer.subarray(4, encodePyTable(buffer, table, 0)))
  }

  it('decodes the same keys and values many times over, and never mixes up two strings', () => {
    for (let i = 0; i < 3000; i++) {
      const table = {
        [`k${i % 1500}`]: `v${i}`,
        same: 'py',
        '\u00e9t\u00e9': '\u00e9t\u00e9',
        [`x${i}`]: i,
      }
      expect(decodeFields(encode(table))).toEqual(table)
    }
  })

  it('tells apart the tables fromWireTable would change', () => {
    const plain = decodeFields(encode({ a: 1, t: [null, { b: 'x' }] }))
    expect(isPlainTable(plain)).toBe(true)
    expect(fromWireTable({ ...plain })).toEqual(plain)
    for (const value of [
      new Date(0),
      Buffer.from('x'),
      { '!': 'decimal', value: { places: 1, digits: 5 } },
    ]) {
      const deep = decodeFields(encode({ a: 1, deep: { list: [value] } }))
      expect(isPlainTable(deep)).toBe(false)
    }
  })
})

describe('a `__proto__` header from the wire', () => {
  it('is an own header, with its value made plain, and never the prototype', () => {
    const bytes = Buffer.concat([
      Buffer.from([9]),
      Buffer.from('__proto__'),
      Buffer.from('F'),
      Buffer.from([0, 0, 0, 11, 1]),
      Buffer.from('t'),
      Buffer.from('T'),
      Buffer.alloc(8),
    ])
    const table = fromWireTable(decodeFields(bytes))
    expect(Object.getPrototypeOf(table)).toBe(Object.prototype)
    expect(Object.keys(table)).toEqual(['__proto__'])
    expect(Object.getOwnPropertyDescriptor(table, '__proto__')?.value).toEqual({ t: new Date(0) })
  })
})
