import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { EncodeError } from '@q/kombu'
import { describe, expect, it } from 'vitest'
import { defs } from '../test/amqplib-internals.js'
import { encodeTable } from './field-table.js'
import { fromWireTable, toWireTable } from './headers.js'

const wire = (headers: Record<string, unknown>): Buffer => {
  const buffer = Buffer.alloc(65536)
  return Buffer.from(buffer.subarray(0, encodeTable(buffer, toWireTable(headers), 0)))
}

/** The wire type tag of each value of `headers`, as encoded. */
function tags(headers: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.keys(headers).map((k) => [
      k,
      String.fromCharCode(wire({ [k]: headers[k] })[5 + Buffer.byteLength(k)]!),
    ]),
  )
}

describe('toWireTable: the types py-amqp writes', () => {
  it('ints are I (signed 32-bit) whatever their size, L outside int32, floats d', () => {
    const t = tags({
      zero: 0,
      neg: -1,
      small: 5,
      mid: 300,
      big: 2 ** 31 - 1,
      over: 2 ** 31,
      under: -(2 ** 31),
      f: 1.5,
    })
    expect(t).toEqual({ zero: 'I', neg: 'I', small: 'I', mid: 'I', big: 'I', over: 'L', under: 'L', f: 'd' })
  })

  it('strings S, null V, booleans t, dates T, Buffers x, arrays A, objects F', () => {
    const t = tags({
      s: 'x',
      n: null,
      b: true,
      when: new Date(0),
      raw: Buffer.from('a'),
      a: [1],
      o: { k: 1 },
    })
    expect(t).toEqual({ s: 'S', n: 'V', b: 't', when: 'T', raw: 'x', a: 'A', o: 'F' })
  })

  it('types nested values too, and writes undefined inside an array as null', () => {
    const table = toWireTable({ timelimit: [null, 30, undefined], meta: { retries: 2, deep: [{ x: -1 }] } })
    expect(table).toEqual({
      timelimit: [null, { '!': 'int', value: 30 }, null],
      meta: { retries: { '!': 'int', value: 2 }, deep: [{ x: { '!': 'int', value: -1 } }] },
    })
  })

  it('leaves out keys whose value is undefined', () => {
    expect(toWireTable({ a: undefined, b: 'x' })).toEqual({ b: 'x' })
  })

  it('takes bigints, and refuses what an AMQP table cannot carry', () => {
    expect(toWireTable({ a: 5n, b: 2n ** 40n })).toEqual({
      a: { '!': 'int', value: 5 },
      b: { '!': 'longlong', value: 2n ** 40n },
    })
    expect(() => toWireTable({ a: 2n ** 64n })).toThrow(EncodeError)
    expect(() => toWireTable({ nested: { fn: () => 1 } })).toThrow(/Header 'nested.fn' is a function/)
  })

  it('passes typed values through', () => {
    expect(toWireTable({ v: { '!': 'int16', value: 3 } })).toEqual({ v: { '!': 'int16', value: 3 } })
  })
})

describe('fromWireTable', () => {
  it('turns timestamps into Dates, decimals into strings, and copies byte arrays', () => {
    const frame = Buffer.from('abc')
    const table = fromWireTable({
      ts: { '!': 'timestamp', value: 1700000000 },
      dec: { '!': 'decimal', value: { places: 2, digits: -314 } },
      small: { '!': 'decimal', value: { places: 3, digits: 5 } },
      raw: frame,
      list: [{ '!': 'timestamp', value: 0 }, { x: { '!': 'decimal', value: { places: 0, digits: 7 } } }],
      plain: 'x',
    })
    expect(table).toEqual({
      ts: new Date(1700000000 * 1000),
      dec: '-3.14',
      small: '0.005',
      raw: Buffer.from('abc'),
      list: [new Date(0), { x: '7' }],
      plain: 'x',
    })
    expect(table.raw).not.toBe(frame)
  })
})

interface GoldenMessage {
  headers: Record<string, unknown>
  properties: Record<string, unknown>
  header_frame_hex: string
}

const goldenDir = join(fileURLToPath(new URL('.', import.meta.url)), '../test/golden')
const golden = readdirSync(goldenDir)
  .filter((f) => f.endsWith('.amqp.json'))
  .flatMap((file) =>
    (JSON.parse(readFileSync(join(goldenDir, file), 'utf8')) as { messages: GoldenMessage[] }).messages.map(
      (m, i) => [`${file} #${i}`, m] as const,
    ),
  )

describe('golden samples from Python Celery 5.2 / py-amqp 5.1', () => {
  // The content-header payload: class (2), weight (2), body size (8), then flags and properties.
  const properties = (m: GoldenMessage) =>
    defs().decode(defs().BasicProperties, Buffer.from(m.header_frame_hex, 'hex').subarray(12))

  for (const [name, m] of golden) {
    it(`${name}: the header frame decodes to the headers Python sent`, () => {
      const p = properties(m)
      expect(fromWireTable(p.headers as Record<string, unknown>)).toEqual(m.headers)
      expect(p).toMatchObject({
        contentType: m.properties.content_type,
        contentEncoding: m.properties.content_encoding,
        deliveryMode: m.properties.delivery_mode,
        correlationId: m.properties.correlation_id,
        replyTo: m.properties.reply_to,
      })
    })

    it(`${name}: the same headers encode to the bytes py-amqp wrote`, () => {
      const frame = Buffer.from(m.header_frame_hex, 'hex')
      const encoded = wire(m.headers)
      // After the flags: content_type and content_encoding (short strings), then the table.
      let offset = 14
      for (let i = 0; i < 2; i++) offset += 1 + frame[offset]!
      expect(encoded.toString('hex')).toBe(frame.subarray(offset, offset + encoded.length).toString('hex'))
    })
  }
})
