import { describe, expect, it } from 'vitest'
import { originalCodec } from '../test/amqplib-internals.js'
import { decodeFields, encodeTable } from './field-table.js'

const amqplibCodec = originalCodec()

function encodeWith(encode: typeof encodeTable, table: Record<string, unknown>): Buffer {
  const buffer = Buffer.alloc(65536)
  const size = encode(buffer, table, 0)
  return Buffer.from(buffer.subarray(0, size))
}

/** Tables covering every type amqplib encodes, plain and with the '!' escape hatch. */
const TABLES: Array<Record<string, unknown>> = [
  { s: 'text', empty: '', unicode: 'h\u00e9 \u2713 \u{1F600}', t: true, f: false, n: null },
  { b: 0, neg: -1, b127: 127, s200: 200, sneg: -300, i: 70000, ineg: -70000, l: 2 ** 40, lneg: -(2 ** 40) },
  { d: 1.5, dneg: -0.25, big: 2 ** 64, inf: Number.POSITIVE_INFINITY },
  {
    arr: [1, 'two', null, true, [3, [4]], { k: 'v' }],
    nested: { a: { b: { c: 1 } } },
    emptyA: [],
    emptyF: {},
  },
  { buf: Buffer.from([0, 1, 2, 255]) },
  {
    i8: { '!': 'int8', value: -5 },
    u8: { '!': 'uint8', value: 250 },
    i16: { '!': 'int16', value: -1000 },
    u16: { '!': 'uint16', value: 60000 },
    i32: { '!': 'int', value: 5 },
    u32: { '!': 'uint32', value: 4000000000 },
    i64: { '!': 'int64', value: -5 },
    f32: { '!': 'float', value: 0.5 },
    f64: { '!': 'double', value: 3 },
    ts: { '!': 'timestamp', value: 1700000000 },
    dec: { '!': 'decimal', value: { places: 2, digits: 314 } },
  },
  { skipped: undefined, kept: 1 },
]

describe('field tables: a drop-in for amqplib codec.js', () => {
  for (const [i, table] of TABLES.entries()) {
    it(`encodes table #${i} byte for byte as amqplib does`, () => {
      expect(encodeWith(encodeTable, table).toString('hex')).toBe(
        encodeWith(amqplibCodec.encodeTable, table).toString('hex'),
      )
    })

    it(`decodes table #${i} to what amqplib decodes`, () => {
      const bytes = encodeWith(amqplibCodec.encodeTable, table).subarray(4)
      expect(decodeFields(bytes)).toEqual(amqplibCodec.decodeFields(bytes))
    })
  }

  it('walks the prototype chain of a table, as amqplib argument tables need', () => {
    const args = Object.create({ inherited: 'yes' }) as Record<string, unknown>
    args.own = 1
    expect(encodeWith(encodeTable, args)).toEqual(encodeWith(amqplibCodec.encodeTable, args))
  })

  it('throws the same errors as amqplib for what it cannot encode', () => {
    expect(() => encodeWith(encodeTable, { f: () => 1 })).toThrow(/Unknown type to encode: function/)
    expect(() => encodeTable(Buffer.alloc(16), { long: 'x'.repeat(100) }, 0)).toThrow(RangeError)
  })
})

describe("field tables: py-amqp's tags", () => {
  it("decodes 'L' (signed 64-bit), which amqplib refuses", () => {
    const bytes = Buffer.concat([Buffer.from([1, 0x6b, 0x4c]), Buffer.alloc(8)])
    bytes.writeBigInt64BE(-(2n ** 40n), 3)
    expect(() => amqplibCodec.decodeFields(bytes)).toThrow(/Unexpected type tag "L"/)
    expect(decodeFields(bytes)).toEqual({ k: -(2 ** 40) })
  })

  it("keeps an 'L' beyond 2^53 exact, as a bigint", () => {
    const bytes = Buffer.concat([Buffer.from([1, 0x6b, 0x4c]), Buffer.alloc(8)])
    bytes.writeBigInt64BE(2n ** 62n + 1n, 3)
    expect(decodeFields(bytes)).toEqual({ k: 2n ** 62n + 1n })
  })

  it("decodes 'U' (signed 16-bit) and a negative 'D'", () => {
    const u = Buffer.from([1, 0x6b, 0x55, 0xff, 0xfe])
    expect(decodeFields(u)).toEqual({ k: -2 })
    const d = Buffer.from([1, 0x6b, 0x44, 2, 0xff, 0xff, 0xfe, 0xc6])
    expect(decodeFields(d)).toEqual({ k: { '!': 'decimal', value: { places: 2, digits: -314 } } })
  })

  it("encodes { '!': 'longlong' } as 'L', from a number or a bigint", () => {
    const bytes = encodeWith(encodeTable, {
      a: { '!': 'longlong', value: -(2 ** 40) },
      b: { '!': 'longlong', value: 2n ** 62n },
    })
    expect(bytes.subarray(4, 7).toString('latin1')).toBe('\u0001aL')
    expect(decodeFields(bytes.subarray(4))).toEqual({ a: -(2 ** 40), b: 2n ** 62n })
  })
})
