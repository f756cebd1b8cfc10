/**
 * Header tables written straight from plain values with py-amqp's types, in one pass: the bytes
 * are exactly those of `encodeTable(toWireTable(table))` (headers.ts), without building the typed
 * copy first, and without a call into Buffer's native string writers for the short ASCII keys and
 * values that make up a Celery message's ~20 headers. A publish hands amqplib a `PyTable`; our
 * codec (installed by amqplib.ts) recognises it, through the `Object.create` amqplib wraps it in.
 */
import { checkSpace, encodeFieldValue, encodeTable } from './field-table.js'
import { toWireTable } from './headers.js'

const INT32_MAX = 2147483647
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n
/** Strings up to this length are written by a JS loop when ASCII; longer ones by Buffer#write. */
const SHORT = 64

/** Plain headers, to be written with py-amqp's types when amqplib encodes the message. */
export class PyTable {
  constructor(readonly table: Readonly<Record<string, unknown>>) {}
}

/**
 * amqplib's `encodeTable`, knowing PyTable: what our codec installs in amqplib.
 * @returns the bytes written, length prefix included.
 */
export function encodeAnyTable(buffer: Buffer, val: Record<string, unknown>, offset: number): number {
  return val instanceof PyTable ? encodePyTable(buffer, val.table, offset) : encodeTable(buffer, val, offset)
}

/** Writes `table` as `encodeTable(buffer, toWireTable(table), offset)` would; returns the bytes written. */
export function encodePyTable(
  buffer: Buffer,
  table: Readonly<Record<string, unknown>>,
  offset: number,
): number {
  try {
    return writeTable(buffer, table, offset)
  } catch {
    // Whatever went wrong (a value no table can carry, a table too large), fail as the typed
    // path does, with the header's path in the message.
    return encodeTable(buffer, toWireTable(table), offset)
  }
}

function writeTable(buffer: Buffer, table: Readonly<Record<string, unknown>>, offset: number): number {
  const start = offset
  checkSpace(buffer, offset, 4)
  offset += 4
  for (const key of Object.keys(table)) {
    const value = table[key]
    if (value === undefined) continue
    offset = writeShortString(buffer, key, offset)
    offset = writeValue(buffer, value, offset)
  }
  buffer.writeUInt32BE(offset - start - 4, start)
  return offset - start
}

/** Copies an ASCII string byte by byte; the count written, or -1 (nothing usable) at a non-ASCII char. */
function writeAscii(buffer: Buffer, s: string, offset: number): number {
  const n = s.length
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c > 0x7f) return -1
    buffer[offset + i] = c
  }
  return n
}

function writeShortString(buffer: Buffer, s: string, offset: number): number {
  if (s.length < 256 && offset + 1 + s.length <= buffer.length) {
    const n = writeAscii(buffer, s, offset + 1)
    if (n >= 0) {
      buffer[offset] = n
      return offset + 1 + n
    }
  }
  const len = Buffer.byteLength(s)
  checkSpace(buffer, offset, 1 + len)
  buffer.writeUInt8(len, offset)
  buffer.write(s, offset + 1, 'utf8')
  return offset + 1 + len
}

function writeLongString(buffer: Buffer, s: string, offset: number): number {
  checkSpace(buffer, offset, 5)
  buffer[offset] = 0x53 // S
  if (s.length <= SHORT && offset + 5 + s.length <= buffer.length) {
    const n = writeAscii(buffer, s, offset + 5)
    if (n >= 0) {
      buffer.writeUInt32BE(n, offset + 1)
      return offset + 5 + n
    }
  }
  const len = Buffer.byteLength(s, 'utf8')
  checkSpace(buffer, offset + 1, 4 + len)
  buffer.writeUInt32BE(len, offset + 1)
  buffer.write(s, offset + 5, 'utf8')
  return offset + 5 + len
}

function writeInt(buffer: Buffer, n: number, offset: number): number {
  checkSpace(buffer, offset, 5)
  buffer[offset] = 0x49 // I
  buffer.writeInt32BE(n, offset + 1)
  return offset + 5
}

function writeLonglong(buffer: Buffer, n: bigint, offset: number): number {
  if (n < INT64_MIN || n > INT64_MAX) throw new RangeError('does not fit 64 bits') // the fallback says it well
  checkSpace(buffer, offset, 9)
  buffer[offset] = 0x4c // L
  buffer.writeBigInt64BE(n, offset + 1)
  return offset + 9
}

function writeDouble(buffer: Buffer, n: number, offset: number): number {
  checkSpace(buffer, offset, 9)
  buffer[offset] = 0x64 // d
  buffer.writeDoubleBE(n, offset + 1)
  return offset + 9
}

function writeBytes(buffer: Buffer, bytes: Uint8Array, offset: number): number {
  checkSpace(buffer, offset, 5 + bytes.length)
  buffer[offset] = 0x78 // x
  buffer.writeUInt32BE(bytes.length, offset + 1)
  buffer.set(bytes, offset + 5)
  return offset + 5 + bytes.length
}

/** One value with py-amqp's type (headers.ts `wireValue`), tag included. */
function writeValue(buffer: Buffer, value: unknown, offset: number): number {
  switch (typeof value) {
    case 'string':
      return writeLongString(buffer, value, offset)
    case 'boolean':
      checkSpace(buffer, offset, 2)
      buffer[offset] = 0x74 // t
      buffer[offset + 1] = value ? 1 : 0
      return offset + 2
    case 'number':
      if (!Number.isInteger(value)) return writeDouble(buffer, value, offset)
      if (value >= -INT32_MAX && value <= INT32_MAX) return writeInt(buffer, value, offset)
      if (Math.abs(value) < 2 ** 63) return writeLonglong(buffer, BigInt(value), offset)
      return writeDouble(buffer, value, offset)
    case 'bigint':
      return value >= -INT32_MAX && value <= INT32_MAX
        ? writeInt(buffer, Number(value), offset)
        : writeLonglong(buffer, value, offset)
    case 'undefined': // only inside an array: tables skip the key
      checkSpace(buffer, offset, 1)
      buffer[offset] = 0x56 // V
      return offset + 1
    case 'object':
      return writeObject(buffer, value, offset)
    default:
      throw new TypeError(`a ${typeof value} cannot be written`) // the fallback says it well
  }
}

function writeObject(buffer: Buffer, value: object | null, offset: number): number {
  if (value === null) {
    checkSpace(buffer, offset, 1)
    buffer[offset] = 0x56 // V
    return offset + 1
  }
  if (value instanceof Uint8Array) return writeBytes(buffer, value, offset)
  if (value instanceof Date) {
    checkSpace(buffer, offset, 9)
    buffer[offset] = 0x54 // T
    buffer.writeBigUInt64BE(BigInt(Math.floor(value.getTime() / 1000)), offset + 1)
    return offset + 9
  }
  if (Array.isArray(value)) {
    checkSpace(buffer, offset, 5)
    buffer[offset] = 0x41 // A
    const start = offset + 1
    offset += 5
    for (const item of value) offset = writeValue(buffer, item, offset)
    buffer.writeUInt32BE(offset - start - 4, start)
    return offset
  }
  if (Object.hasOwn(value, '!')) return offset + encodeFieldValue(buffer, value, offset)
  checkSpace(buffer, offset, 1)
  buffer[offset] = 0x46 // F
  return offset + 1 + writeTable(buffer, value as Record<string, unknown>, offset + 1)
}
