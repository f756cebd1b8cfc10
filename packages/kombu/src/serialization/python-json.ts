import { isUtf8 } from 'node:buffer'
import { DecodeError, EncodeError } from '../errors.js'
import { isFrozenPrimitives } from '../frozen.js'
import { isPlainJson, plainValueJson } from './plain-json.js'
import { toPythonIsoString } from './python-datetime.js'
import { parsePythonJson, RAW_MARK } from './python-json-parse.js'
import type { Serializer } from './types.js'

export { toPythonIsoString } from './python-datetime.js'
export { parsePythonJson } from './python-json-parse.js'

function kindOf(value: object): string {
  if (value instanceof Uint8Array) return 'a Buffer/Uint8Array (bytes)'
  if (value instanceof Set) return 'a Set'
  return 'a Map'
}

function refuse(what: string, key: string): never {
  const where = key === '' ? 'the body' : `key ${JSON.stringify(key)}`
  throw new EncodeError(
    `Cannot encode ${what} at ${where} as JSON (Kombu's JSON cannot either); convert it to a plain value, or use the msgpack or raw serializer for bytes`,
  )
}

/**
 * JSON.stringify replacer adding Kombu's conventions. It is called after `toJSON`, so
 * `this[key]` (the holder's original value) is what reveals Dates and Buffers.
 */
function replacer(this: Record<string, unknown>, key: string, value: unknown): unknown {
  switch (typeof value) {
    case 'string': {
      // Date#toJSON already ran; only pay the holder lookup for strings shaped like its
      // output (24 characters, or 27 for years outside 0..9999), ending in Z.
      if ((value.length !== 24 && value.length !== 27) || value.charCodeAt(value.length - 1) !== 90)
        return value
      const original = this[key]
      return original instanceof Date ? toPythonIsoString(original) : value
    }
    case 'number':
      if (Number.isFinite(value)) return value
      // Python writes these bare; JSON.stringify would write null, so mark them for rewriting.
      return `${RAW_MARK}${Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity'}`
    case 'bigint':
      return `${RAW_MARK}${value.toString()}`
    case 'object': {
      if (value === null) {
        // An invalid Date's toJSON gives null; refuse it rather than silently sending null.
        const original = this[key]
        if (original instanceof Date) toPythonIsoString(original)
        return value
      }
      if (value instanceof Uint8Array || value instanceof Set || value instanceof Map)
        refuse(kindOf(value), key)
      // Buffer#toJSON turned it into {type:'Buffer', data:[...]}: check what it was.
      const original = this[key]
      if (original !== value && original instanceof Uint8Array) refuse(kindOf(original), key)
      return value
    }
    case 'function':
    case 'symbol':
      return refuse(`a ${typeof value}`, key)
    default:
      return value
  }
}

const RAW_PATTERN = new RegExp(`"${RAW_MARK}([^"]*)"`, 'g')

/** JSON of frozen objects of primitives (they cannot change: each is encoded once). */
const frozenJson = new WeakMap<object, string>()

/** A frozen object's JSON when it holds only primitives, in data properties; else undefined. */
function frozenText(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  // A text kept is the answer already (one lookup per message for Celery's shared embed).
  let text = frozenJson.get(value)
  if (text !== undefined || !isFrozenPrimitives(value)) return text
  text = JSON.stringify(value)
  frozenJson.set(value, text)
  return text
}

/**
 * JSON.stringify of a value that needs no replacer. A short array (Celery's body: args, kwargs
 * and the embed, most often one shared frozen object) is written item by item, a frozen item
 * from the cache: the same bytes.
 */
function plainJson(value: unknown): string | undefined {
  if (!Array.isArray(value) || value.length > 4) return JSON.stringify(value)
  let out = '['
  for (let i = 0; i < value.length; i++) {
    const v: unknown = value[i]
    if (i > 0) out += ','
    // In an array, undefined (and what JSON drops) is written null.
    out += frozenText(v) ?? plainValueJson(v) ?? 'null'
  }
  return `${out}]`
}

/** Encodes a value as Kombu's JSON would, returning the text. */
function stringify(value: unknown): string {
  // JSON.stringify returns undefined for undefined, despite its typing.
  let text: string | undefined
  // A replacer halves JSON.stringify's speed; most bodies need none, and checking that in
  // JS costs far less than a C++-to-JS callback per value.
  const plain = isPlainJson(value, 0)
  try {
    text = plain ? plainJson(value) : JSON.stringify(value, replacer)
  } catch (err) {
    if (err instanceof EncodeError) throw err
    throw new EncodeError(`Cannot encode the body as JSON: ${(err as Error).message}`, { cause: err })
  }
  if (text === undefined) {
    throw new EncodeError('Cannot encode undefined as a JSON body; send null or a value instead')
  }
  if (plain) return text
  // Bare tokens (NaN, Infinity, big integers) travelled as marked strings; unquote them.
  return text.includes(RAW_MARK) ? text.replace(RAW_PATTERN, '$1') : text
}

/**
 * Kombu's `json` serializer (`application/json`, `utf-8`), matching `kombu/utils/json.py`:
 * Dates become Python isoformat strings, bigints bare integers, NaN and ±Infinity bare
 * tokens; bytes, Sets, Maps, functions and symbols are refused. Decoding never revives
 * Dates: Kombu's JSON has no type tags, so receivers get the strings.
 */
export const pythonJson: Serializer = Object.freeze({
  name: 'json',
  contentType: 'application/json',
  contentEncoding: 'utf-8',
  encode(value: unknown): Buffer {
    return Buffer.from(stringify(value), 'utf8')
  },
  decode(body: Buffer): unknown {
    // Python refuses bytes that are not UTF-8; toString() would silently insert U+FFFD.
    if (!isUtf8(body))
      throw new DecodeError('JSON body is not valid UTF-8; check the producer and its content_encoding')
    return parsePythonJson(body.toString('utf8'))
  },
})
