import type { Options } from 'msgpackr'
import { Packr } from 'msgpackr'
import { DecodeError, EncodeError } from '../errors.js'
import { toPythonIsoString } from './python-json.js'
import type { Serializer } from './types.js'

/** Python's msgpack refuses deeper nesting by default; it also bounds our walk on cycles. */
const MAX_DEPTH = 512

/**
 * Settings matching Kombu's `packb(obj, use_bin_type=True)` / `unpackb(raw=False)`:
 * plain maps (no msgpackr records), the smallest map header for each size like Python
 * (`variableMapSize`), undefined as nil, copies of bin data so decoded Buffers do not pin
 * the message, and 64-bit integers as numbers when safe, else bigint. `'auto'` is
 * supported by msgpackr's decoder but missing from its typings, hence the cast.
 */
const packr = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  variableMapSize: true,
  encodeUndefinedAsNil: true,
  copyBuffers: true,
  int64AsType: 'auto',
} as unknown as Options)

function refuse(what: string): never {
  throw new EncodeError(
    `Cannot encode ${what} with msgpack (Kombu's msgpack cannot either); convert it to a plain object, array or value first`,
  )
}

/** Integral numbers msgpackr would write as float64, which Python would read back as float. */
function isWideInteger(n: number): boolean {
  return Number.isInteger(n) && (n > 0xffffffff || n < -0x80000000) && n >= -(2 ** 63) && n < 2 ** 64
}

/**
 * Rewrites a value into what Python's msgpack produces and reads: Dates become the
 * Python isoformat strings Kombu's JSON uses (Kombu's msgpack cannot carry datetimes, so
 * strings are what a Python peer can read), wide integers become int64 (bigint), and
 * objects with toJSON or a class are flattened as JSON.stringify would. Copy-on-write:
 * an unchanged subtree is returned as is, so typical bodies allocate nothing.
 */
function prepare(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'number':
      return isWideInteger(value) ? BigInt(value) : value
    case 'function':
    case 'symbol':
      return refuse(`a ${typeof value}`)
    case 'object':
      break
    default:
      return value
  }
  if (value === null || value instanceof Uint8Array) return value
  if (depth > MAX_DEPTH) refuse(`a value nested more than ${MAX_DEPTH} levels deep (or circular)`)
  if (value instanceof Date) return toPythonIsoString(value)
  if (value instanceof Set || value instanceof Map) refuse(value instanceof Set ? 'a Set' : 'a Map')
  if (Array.isArray(value)) return prepareArray(value, depth + 1)
  const toJSON = (value as { toJSON?: unknown }).toJSON
  if (typeof toJSON === 'function') return prepare(toJSON.call(value), depth + 1)
  return prepareObject(value as Record<string, unknown>, depth + 1)
}

function prepareArray(array: unknown[], depth: number): unknown[] {
  let copy: unknown[] | undefined
  for (let i = 0; i < array.length; i++) {
    const item = array[i]
    const next = prepare(item, depth)
    if (next !== item && copy === undefined) copy = array.slice(0, i)
    if (copy !== undefined) copy.push(next)
  }
  return copy ?? array
}

function prepareObject(object: Record<string, unknown>, depth: number): Record<string, unknown> {
  const proto = Object.getPrototypeOf(object)
  // Class instances are sent as their own enumerable fields, like JSON.stringify does.
  const plain = proto === Object.prototype || proto === null
  let copy: Record<string, unknown> | undefined = plain ? undefined : {}
  const keys = Object.keys(object)
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string
    const item = object[key]
    const next = prepare(item, depth)
    if (next !== item && copy === undefined) {
      copy = {}
      for (let j = 0; j < i; j++) copy[keys[j] as string] = object[keys[j] as string]
    }
    if (copy !== undefined) copy[key] = next
  }
  return copy ?? object
}

/**
 * Kombu's `msgpack` serializer (`application/x-msgpack`, `binary`). Strings travel as
 * msgpack str and Buffers as bin, as with `use_bin_type=True`. Dates are sent as Python
 * isoformat strings (see {@link toPythonIsoString}); decoding does not turn them back.
 */
export const msgpack: Serializer = Object.freeze({
  name: 'msgpack',
  contentType: 'application/x-msgpack',
  contentEncoding: 'binary',
  encode(value: unknown): Buffer {
    const prepared = prepare(value, 0)
    try {
      return packr.pack(prepared)
    } catch (err) {
      throw new EncodeError(`Cannot encode the body as msgpack: ${(err as Error).message}`, { cause: err })
    }
  },
  decode(body: Buffer): unknown {
    try {
      return packr.unpack(body)
    } catch (err) {
      throw new DecodeError(
        `Body is not valid msgpack (${(err as Error).message}); check the producer's serializer and content_type`,
        { cause: err },
      )
    }
  },
})
