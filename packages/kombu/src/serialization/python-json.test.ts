import { existsSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { DecodeError, EncodeError } from '../errors.js'
import { parsePythonJson, pythonJson, toPythonIsoString } from './python-json.js'

const GOLDEN = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../../shared/protocol/golden')
const hasGolden = existsSync(GOLDEN)

const encode = (value: unknown): string => pythonJson.encode(value).toString('utf8')
const decode = (text: string): unknown => pythonJson.decode(Buffer.from(text, 'utf8'))

describe('toPythonIsoString', () => {
  it('writes 6-digit microseconds when non-zero and a Z suffix', () => {
    expect(toPythonIsoString(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 123)))).toBe(
      '2026-01-02T03:04:05.123000Z',
    )
    expect(toPythonIsoString(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 1)))).toBe('2026-01-02T03:04:05.001000Z')
  })

  it('omits the fraction on a whole second, like datetime.isoformat()', () => {
    expect(toPythonIsoString(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)))).toBe('2026-01-02T03:04:05Z')
  })

  it('pads years to four digits and refuses those Python cannot hold', () => {
    const early = new Date(Date.UTC(2000, 0, 1))
    early.setUTCFullYear(5)
    expect(toPythonIsoString(early)).toBe('0005-01-01T00:00:00Z')
    expect(() => toPythonIsoString(new Date(Date.UTC(10000, 0, 1)))).toThrow(EncodeError)
    expect(() => toPythonIsoString(new Date(Number.NaN))).toThrow(/invalid Date/)
  })
})

describe('pythonJson.encode', () => {
  it('has the json name, content type and encoding', () => {
    expect([pythonJson.name, pythonJson.contentType, pythonJson.contentEncoding]).toEqual([
      'json',
      'application/json',
      'utf-8',
    ])
  })

  it('writes compact JSON for plain task bodies', () => {
    const body = [[2, 3], { z: 4 }, { callbacks: null, errbacks: null, chain: null, chord: null }]
    expect(encode(body)).toBe('[[2,3],{"z":4},{"callbacks":null,"errbacks":null,"chain":null,"chord":null}]')
  })

  it('turns Dates anywhere (top level, arrays, objects) into Python isoformat strings', () => {
    const d = new Date(Date.UTC(2022, 0, 2, 3, 4, 5, 678))
    expect(encode(d)).toBe('"2022-01-02T03:04:05.678000Z"')
    expect(encode({ at: d, list: [d, new Date(Date.UTC(2022, 0, 2))] })).toBe(
      '{"at":"2022-01-02T03:04:05.678000Z","list":["2022-01-02T03:04:05.678000Z","2022-01-02T00:00:00Z"]}',
    )
  })

  it('leaves strings that merely look like Date#toJSON output alone', () => {
    expect(encode(['2022-01-02T03:04:05.678Z'])).toBe('["2022-01-02T03:04:05.678Z"]')
  })

  it('uses toJSON() of other objects', () => {
    const money = { toJSON: () => '3.14' }
    expect(encode({ price: money, nested: [{ toJSON: () => ({ a: 1 }) }] })).toBe(
      '{"price":"3.14","nested":[{"a":1}]}',
    )
  })

  it('writes bigints as bare integer digits', () => {
    expect(encode({ big: 10n ** 30n, neg: -(2n ** 70n), small: 5n })).toBe(
      '{"big":1000000000000000000000000000000,"neg":-1180591620717411303424,"small":5}',
    )
  })

  it('writes NaN and ±Infinity bare, as Python does', () => {
    expect(encode([Number.NaN, Infinity, -Infinity, { x: Number.NaN }])).toBe(
      '[NaN,Infinity,-Infinity,{"x":NaN}]',
    )
    expect(encode(Number.NaN)).toBe('NaN')
  })

  it('omits undefined members and writes undefined array items as null', () => {
    expect(encode({ a: undefined, b: 1, c: [undefined] })).toBe('{"b":1,"c":[null]}')
  })

  it('writes non-ASCII text as UTF-8 without escapes', () => {
    const body = pythonJson.encode({ s: 'héllo ✓ 😀 日本' })
    expect(body.toString('utf8')).toBe('{"s":"héllo ✓ 😀 日本"}')
    expect(body.includes(Buffer.from('😀', 'utf8'))).toBe(true)
  })

  it.each([
    ['Buffer', Buffer.from('x'), /Buffer\/Uint8Array/],
    ['Uint8Array', new Uint8Array([1]), /Buffer\/Uint8Array/],
    ['nested Buffer', { data: [Buffer.from('x')] }, /key "0"/],
    ['Set', { s: new Set([1]) }, /a Set at key "s"/],
    ['Map', new Map([['a', 1]]), /a Map at the body/],
    ['function', { f: () => 1 }, /a function/],
    ['symbol', [Symbol('s')], /a symbol/],
    ['invalid Date', { d: new Date(Number.NaN) }, /invalid Date/],
  ])('refuses a %s with EncodeError', (_name, value, message) => {
    expect(() => pythonJson.encode(value)).toThrow(EncodeError)
    expect(() => pythonJson.encode(value)).toThrow(message)
  })

  it('wraps a circular structure as EncodeError with the cause', () => {
    const a: Record<string, unknown> = {}
    a.self = a
    const err = (() => {
      try {
        pythonJson.encode(a)
      } catch (e) {
        return e
      }
    })()
    expect(err).toBeInstanceOf(EncodeError)
    expect((err as EncodeError).cause).toBeInstanceOf(TypeError)
  })

  it('refuses undefined as a whole body', () => {
    expect(() => pythonJson.encode(undefined)).toThrow(EncodeError)
    expect(() => pythonJson.encode(undefined)).toThrow(/Cannot encode undefined/)
  })

  it('round-trips a 1 MiB body', () => {
    const value = { blob: 'x'.repeat(1024 * 1024), items: Array.from({ length: 1000 }, (_, i) => ({ i })) }
    const body = pythonJson.encode(value)
    expect(body.length).toBeGreaterThan(1024 * 1024)
    expect(pythonJson.decode(body)).toEqual(value)
  })
})

describe('pythonJson.decode / parsePythonJson', () => {
  it('reads Python-formatted JSON (spaces, \\u escapes)', () => {
    expect(decode('{"a": [1, 2.5], "s": "caf\\u00e9 \\ud83d\\ude00"}')).toEqual({ a: [1, 2.5], s: 'café 😀' })
  })

  it('reads bare NaN, Infinity and -Infinity as numbers', () => {
    const value = decode('[NaN, Infinity, -Infinity, {"x": NaN}, 1]') as unknown[]
    expect(value[0]).toBeNaN()
    expect(value.slice(1)).toEqual([Infinity, -Infinity, { x: Number.NaN }, 1])
  })

  it('round-trips NaN and Infinity through encode/decode', () => {
    const value = decode(encode({ n: Number.NaN, i: [Infinity, -Infinity] })) as { n: number; i: number[] }
    expect(value.n).toBeNaN()
    expect(value.i).toEqual([Infinity, -Infinity])
  })

  it('does not touch NaN or Infinity inside strings', () => {
    const text = '["NaN", "say \\"NaN\\" -Infinity", "Infinity\\\\", NaN]'
    const value = decode(text) as unknown[]
    expect(value.slice(0, 3)).toEqual(['NaN', 'say "NaN" -Infinity', 'Infinity\\'])
    expect(value[3]).toBeNaN()
    expect(parsePythonJson('{"NaN": "Infinity"}')).toEqual({ NaN: 'Infinity' })
  })

  it('keeps date strings as strings (no type tags in Kombu JSON)', () => {
    expect(decode('{"at": "2022-01-02T03:04:05.678901Z"}')).toEqual({ at: '2022-01-02T03:04:05.678901Z' })
  })

  it.each([['{"a": }'], ['NaNa'], ['[1, 2'], [''], ['[Infinityx]']])(
    'throws DecodeError with a cause for %j',
    (text) => {
      const err = (() => {
        try {
          decode(text)
        } catch (e) {
          return e
        }
      })()
      expect(err).toBeInstanceOf(DecodeError)
      expect((err as DecodeError).cause).toBeInstanceOf(SyntaxError)
      expect((err as DecodeError).message).toMatch(/not valid JSON/)
    },
  )

  it('refuses bytes that are not UTF-8', () => {
    expect(() => pythonJson.decode(Buffer.from([0x22, 0xff, 0x22]))).toThrow(/UTF-8/)
  })

  it.skipIf(!hasGolden)(
    `decodes the golden Celery result with datetime/Decimal/UUID as strings${hasGolden ? '' : ` [skipped: ${GOLDEN} not found]`}`,
    () => {
      const golden = JSON.parse(
        readFileSync(resolve(GOLDEN, 'results_redis_backend.redisbroker.json'), 'utf8'),
      )
      const sample = golden.results.success_types
      const value = pythonJson.decode(Buffer.from(sample.raw_value, 'utf8')) as {
        result: Record<string, unknown>
      }
      expect(value).toEqual(sample.decoded)
      expect(value.result.datetime_utc).toBe('2022-01-02T03:04:05.678901Z')
      // Our encoder writes the same text for a UTC datetime (at millisecond precision).
      expect(encode(new Date(Date.UTC(2022, 0, 2, 3, 4, 5, 678)))).toBe('"2022-01-02T03:04:05.678000Z"')
    },
  )
})

describe('pythonJson, a body of a few items', () => {
  it('writes frozen items as JSON.stringify does, the same bytes every time', () => {
    const embed = Object.freeze({ callbacks: null, errbacks: null, chain: null, chord: null })
    const nested = Object.freeze({ list: [1] })
    let n = 1
    const getter = Object.freeze({
      get n() {
        return n
      },
    })
    for (const body of [
      [[1, 'a'], {}, embed],
      [[], { k: 'v' }, embed, undefined],
      [nested, getter],
      [embed],
      [],
    ]) {
      expect(pythonJson.encode(body).toString()).toBe(JSON.stringify(body))
      expect(pythonJson.encode(body).toString()).toBe(JSON.stringify(body))
    }
    // A getter is read on every encode, never served from a cache; nor is a nested object.
    n = 2
    expect(pythonJson.encode([getter]).toString()).toBe('[{"n":2}]')
    ;(nested.list as number[]).push(2)
    expect(pythonJson.encode([nested]).toString()).toBe('[{"list":[1,2]}]')
  })
})

describe('pythonJson, an object frozen after it was written', () => {
  it('writes what the object holds once frozen', () => {
    const kwargs: Record<string, unknown> = { a: 1 }
    expect(pythonJson.encode([[], kwargs]).toString()).toBe('[[],{"a":1}]')
    kwargs.b = 'two'
    Object.freeze(kwargs)
    expect(pythonJson.encode([[], kwargs]).toString()).toBe('[[],{"a":1,"b":"two"}]')
    expect(pythonJson.encode([[], kwargs]).toString()).toBe('[[],{"a":1,"b":"two"}]')
  })
})

describe('pythonJson, arguments written without JSON.stringify', () => {
  it('writes strings, numbers and the rest of an argument list as JSON.stringify does', () => {
    const strings = [
      '',
      'plain',
      'x'.repeat(300),
      'quote " and \\',
      'tab\there',
      '\u0000\u001f\u007f',
      'é €',
      '\u2028\u2029',
      '\ud83d\ude00',
      'lone \ud800',
      'lone \udfff end',
    ]
    const numbers = [0, -0, 1.5, -2e-7, 1e21, Number.MAX_SAFE_INTEGER, 5e-324]
    const others = [true, false, null, undefined, [1, ['a']], { k: 'v', u: undefined }]
    const items = [...strings, ...numbers, ...others]
    let seed = 3
    const pick = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff
      return items[seed % items.length]
    }
    for (let round = 0; round < 500; round++) {
      const args = Array.from({ length: round % 6 }, pick)
      const body = [args, {}, null]
      expect(pythonJson.encode(body).toString()).toBe(JSON.stringify(body))
    }
    const sparse = new Array(3) // holes are written null
    sparse[0] = 1
    expect(pythonJson.encode([sparse]).toString()).toBe(JSON.stringify([sparse]))
    for (const item of items) expect(pythonJson.encode([item]).toString()).toBe(JSON.stringify([item]))
  })
})
