import { existsSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { DecodeError, EncodeError } from '../errors.js'
import { msgpack } from './msgpack.js'

const GOLDEN = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../../shared/protocol/golden')
const hasGolden = existsSync(GOLDEN)
const skipReason = hasGolden ? '' : ` [skipped: ${GOLDEN} not found]`

const hex = (value: unknown): string => msgpack.encode(value).toString('hex')

describe('msgpack', () => {
  it('has the msgpack name, content type and binary encoding', () => {
    expect([msgpack.name, msgpack.contentType, msgpack.contentEncoding]).toEqual([
      'msgpack',
      'application/x-msgpack',
      'binary',
    ])
  })

  describe.skipIf(!hasGolden)(`golden publish_i_msgpack${skipReason}`, () => {
    for (const file of ['publish_i_msgpack.redis.json', 'publish_i_msgpack.amqp.json']) {
      it(`decodes ${file} and re-encodes it to the same bytes`, () => {
        const golden = JSON.parse(readFileSync(resolve(GOLDEN, file), 'utf8'))
        const message = golden.messages[0]
        const raw = Buffer.from(message.envelope?.body ?? message.body_raw, 'base64')
        const value = msgpack.decode(raw)
        expect(value).toEqual(message.body_decoded)
        expect(value).toEqual([
          [2, 3],
          { z: 4 },
          { callbacks: null, errbacks: null, chain: null, chord: null },
        ])
        expect(msgpack.encode(value).equals(raw)).toBe(true)
      })
    }
  })

  it('writes the smallest headers, as Python does (fixmap, fixstr, fixint)', () => {
    expect(hex({ a: 1 })).toBe('81a16101')
    expect(hex([-1, 127, 128, 70000])).toBe('94ff7fcc80ce00011170')
    expect(hex(1.5)).toBe('cb3ff8000000000000')
  })

  it('writes strings as str and Buffers as bin (use_bin_type=True)', () => {
    expect(hex('hi')).toBe('a26869')
    expect(hex(Buffer.from('hi'))).toBe('c4026869')
    const value = msgpack.decode(msgpack.encode({ data: Buffer.from([0, 255]) })) as { data: Buffer }
    expect(Buffer.isBuffer(value.data)).toBe(true)
    expect([...value.data]).toEqual([0, 255])
  })

  it('sends Dates as Python isoformat strings, as Kombu JSON does', () => {
    const d = new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 123))
    expect(msgpack.decode(msgpack.encode({ at: d, list: [new Date(Date.UTC(2026, 0, 2))] }))).toEqual({
      at: '2026-01-02T03:04:05.123000Z',
      list: ['2026-01-02T00:00:00Z'],
    })
  })

  it('writes integers beyond 32 bits as int64 (Python reads int, not float)', () => {
    expect(hex(2 ** 40)).toBe('d30000010000000000')
    expect(hex(-(2 ** 40))).toBe('d3ffffff0000000000')
  })

  it('decodes int64 as a number when safe and as bigint beyond', () => {
    expect(msgpack.decode(Buffer.from('d30000010000000000', 'hex'))).toBe(2 ** 40)
    expect(msgpack.decode(Buffer.from('cfffffffffffffffff', 'hex'))).toBe(2n ** 64n - 1n)
    expect(msgpack.decode(msgpack.encode(2n ** 62n))).toBe(2n ** 62n)
  })

  it('writes undefined as nil', () => {
    expect(hex([undefined])).toBe('91c0')
    expect(msgpack.decode(msgpack.encode({ a: undefined }))).toEqual({ a: null })
  })

  it('uses toJSON and sends class instances as their fields', () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    expect(msgpack.decode(msgpack.encode([new Point(1, 2), { toJSON: () => 'j' }]))).toEqual([
      { x: 1, y: 2 },
      'j',
    ])
  })

  it('returns buffers that later encodes do not overwrite', () => {
    const first = msgpack.encode({ a: 'first' })
    const second = msgpack.encode({ a: 'second' })
    expect(msgpack.decode(first)).toEqual({ a: 'first' })
    expect(msgpack.decode(second)).toEqual({ a: 'second' })
  })

  it('does not copy or change a plain body while encoding it', () => {
    const body = Object.freeze([Object.freeze([1, 2]), Object.freeze({ s: 'x' })])
    expect(msgpack.decode(msgpack.encode(body))).toEqual([[1, 2], { s: 'x' }])
  })

  it.each([
    ['Set', new Set([1]), /a Set/],
    ['Map', { m: new Map() }, /a Map/],
    ['function', [() => 1], /a function/],
    [
      'circular value',
      (() => {
        const a: unknown[] = []
        a.push(a)
        return a
      })(),
      /nested more than 512/,
    ],
    ['invalid Date', new Date(Number.NaN), /invalid Date/],
    ['bigint wider than 64 bits', 2n ** 70n, /Cannot encode the body as msgpack/],
  ])('refuses a %s with EncodeError', (_name, value, message) => {
    expect(() => msgpack.encode(value)).toThrow(EncodeError)
    expect(() => msgpack.encode(value)).toThrow(message)
  })

  it.each([
    ['truncated data', '93920203'],
    ['trailing bytes', '01c0'],
    ['empty body', ''],
  ])('throws DecodeError with a cause for %s', (_name, data) => {
    const err = (() => {
      try {
        msgpack.decode(Buffer.from(data, 'hex'))
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(DecodeError)
    expect((err as DecodeError).cause).toBeInstanceOf(Error)
  })

  it('round-trips unicode and a 1 MiB body', () => {
    const value = { s: 'héllo ✓ 😀', blob: 'y'.repeat(1024 * 1024), bin: Buffer.alloc(1024 * 1024, 7) }
    const decoded = msgpack.decode(msgpack.encode(value)) as typeof value
    expect(decoded.s).toBe(value.s)
    expect(decoded.blob).toBe(value.blob)
    expect(Buffer.from(decoded.bin).equals(value.bin)).toBe(true)
  })
})
