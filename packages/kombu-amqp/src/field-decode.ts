/**
 * Decoding of AMQP field tables (amqplib's `decodeFields`, with py-amqp's `L`, `U` and signed `D`;
 * see field-table.ts), tuned for the ~20 headers of every Celery message: one cursor in a module
 * variable instead of an object per value, nested tables read in place, short ASCII keys and
 * values taken from a cache (the same strings every message, so no new string and a stable key
 * for the object's shape), longer strings through Buffer's native `utf8Slice` directly, and the
 * table's object built in one go (table-shapes.ts).
 */

import { buildTable } from './table-shapes.js'

/** The read position, shared by the (synchronous, recursive) functions below. */
let pos = 0
/** Whether the table being decoded holds a value `fromWireTable` changes (typed, or bytes). */
let typed = false
/** Tables that hold (at any depth) a `T`, `D` or `x` value: the others are plain already. */
const typedTables = new WeakSet<object>()

/** Keys, and short values, of ASCII bytes seen before, by a hash of their bytes; emptied when full. */
const keys = new Map<number, string>()
const values = new Map<number, string>()
const CACHE_MAX = 1024
/** Values longer than this are not cached (ids and reprs differ for every message). */
const CACHED_VALUE = 32

type Slicer = (this: Buffer, start: number, end: number) => string
const proto = Buffer.prototype as unknown as { utf8Slice?: Slicer; latin1Slice?: Slicer }
const utf8Slice: Slicer =
  proto.utf8Slice ??
  function (this: Buffer, start: number, end: number) {
    return this.toString('utf8', start, end)
  }
const latin1Slice: Slicer =
  proto.latin1Slice ??
  function (this: Buffer, start: number, end: number) {
    return this.toString('latin1', start, end)
  }

/** The string of bytes `start..end`, from `cache` when ASCII (ASCII is also latin1). */
function cachedString(cache: Map<number, string>, slice: Buffer, start: number, end: number): string {
  let h = end - start
  for (let i = start; i < end; i++) {
    const c = slice[i]!
    if (c > 0x7f) return utf8Slice.call(slice, start, end)
    h = (Math.imul(h, 31) + c) | 0
  }
  const hit = cache.get(h)
  if (hit !== undefined && hit.length === end - start) {
    let i = 0
    while (i < hit.length && hit.charCodeAt(i) === slice[start + i]) i++
    if (i === hit.length) return hit
  }
  const s = latin1Slice.call(slice, start, end)
  if (hit === undefined) {
    if (cache.size >= CACHE_MAX) cache.clear()
    cache.set(h, s)
  }
  return s
}

/** Decodes the fields of a table (the bytes after its length prefix). */
export function decodeFields(slice: Buffer): Record<string, unknown> {
  typed = false
  return decodeTable(slice, 0, slice.length)
}

/**
 * Whether a table decoded by `decodeFields` already holds only plain values (no `T`, `D` or `x`,
 * at any depth), so that `fromWireTable` would leave it as it is.
 */
export function isPlainTable(table: object): boolean {
  return !typedTables.has(table)
}

/** Keys and values of the table being decoded at each depth, reused from message to message. */
const scratchKeys: string[][] = []
const scratchValues: unknown[][] = []
let depth = 0

function decodeTable(slice: Buffer, start: number, end: number): Record<string, unknown> {
  const outer = typed
  typed = false
  const level = depth++
  if (level === scratchKeys.length) {
    scratchKeys.push([])
    scratchValues.push([])
  }
  const names = scratchKeys[level]!
  const items = scratchValues[level]!
  let n = 0
  try {
    pos = start
    while (pos < end) {
      const len = slice[pos]!
      if (pos + 1 + len > slice.length) slice.readUInt8(slice.length) // amqplib's out-of-range error
      names[n] = cachedString(keys, slice, pos + 1, pos + 1 + len)
      pos += 1 + len
      items[n++] = decodeValue(slice)
    }
  } finally {
    depth = level
  }
  const fields = buildTable(names, items, n)
  items.fill(undefined, 0, n) // let the values (views of the frame) go
  if (typed) typedTables.add(fields)
  typed ||= outer
  return fields
}

function decodeValue(slice: Buffer): unknown {
  const code = slice[pos]
  if (code === undefined) return slice.readUInt8(pos) // throws amqplib's out-of-range error
  const at = pos + 1
  switch (code) {
    case 0x53: {
      // S
      const len = slice.readUInt32BE(at)
      const end = at + 4 + len
      if (end > slice.length) slice.readUInt8(slice.length)
      pos = end
      return len <= CACHED_VALUE
        ? cachedString(values, slice, at + 4, end)
        : utf8Slice.call(slice, at + 4, end)
    }
    case 0x49: // I
      pos = at + 4
      return slice.readInt32BE(at)
    case 0x56: // V
      pos = at
      return null
    case 0x74: // t
      pos = at + 1
      return slice.readUInt8(at) !== 0
    case 0x46: {
      // F
      const end = at + 4 + slice.readUInt32BE(at)
      if (end > slice.length) slice.readUInt8(slice.length)
      const table = decodeTable(slice, at + 4, end)
      pos = end
      return table
    }
    case 0x41: {
      // A
      const end = at + 4 + slice.readUInt32BE(at)
      const items: unknown[] = []
      pos = at + 4
      while (pos < end) items.push(decodeValue(slice))
      pos = end
      return items
    }
    default:
      return decodeScalar(slice, code, at)
  }
}

/** The less common tags. */
function decodeScalar(slice: Buffer, code: number, at: number): unknown {
  switch (code) {
    case 0x62: // b
      pos = at + 1
      return slice.readInt8(at)
    case 0x42: // B
      pos = at + 1
      return slice.readUInt8(at)
    case 0x73: // s
    case 0x55: // U: py-amqp's name for a signed 16-bit integer
      pos = at + 2
      return slice.readInt16BE(at)
    case 0x75: // u
      pos = at + 2
      return slice.readUInt16BE(at)
    case 0x69: // i
      pos = at + 4
      return slice.readUInt32BE(at)
    case 0x6c: // l
    case 0x4c: {
      // L. Both signed 64-bit (RabbitMQ's reading). Kept exact as a bigint when unsafe as a
      // number for L; l keeps amqplib's (lossy) number.
      const big = slice.readBigInt64BE(at)
      pos = at + 8
      return code === 0x4c && (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER))
        ? big
        : Number(big)
    }
    case 0x66: // f
      pos = at + 4
      return slice.readFloatBE(at)
    case 0x64: // d
      pos = at + 8
      return slice.readDoubleBE(at)
    case 0x44: // D
      typed = true
      pos = at + 5
      return { '!': 'decimal', value: { places: slice.readUInt8(at), digits: slice.readInt32BE(at + 1) } }
    case 0x54: // T
      typed = true
      pos = at + 8
      return { '!': 'timestamp', value: Number(slice.readBigUInt64BE(at)) }
    case 0x78: {
      // x
      const len = slice.readUInt32BE(at)
      typed = true
      pos = at + 4 + len
      return slice.subarray(at + 4, pos)
    }
    default:
      throw new TypeError(`Unexpected type tag "${String.fromCharCode(code)}"`)
  }
}
