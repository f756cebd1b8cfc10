/**
 * AMQP field tables, as a drop-in superset of amqplib's `lib/codec.js` (same signatures, same
 * bytes and values for everything amqplib handles), with what py-amqp needs on top:
 *
 * - decoding `L` (signed 64-bit, what py-amqp writes for integers outside int32) and `U`
 *   (signed 16-bit): amqplib throws on both, which closes the whole connection when a Python
 *   peer sends `2**40` in a header;
 * - encoding `{ '!': 'longlong', value }` as `L`, so large integers read back in Python as the
 *   same (signed) int; amqplib's `l` is read by py-amqp as unsigned;
 * - `D` digits read as signed 32-bit, as py-amqp writes them (amqplib reads them unsigned).
 *
 * amqplib.ts puts these two functions in amqplib's codec module before amqplib's frame
 * definitions capture them (the encoder through py-table.ts, the decoder is in field-decode.ts).
 */
export { decodeFields } from './field-decode.js'

/** A value with an explicit AMQP type, amqplib's escape hatch: `{ '!': 'int', value: 3 }`. */
export interface TypedValue {
  '!': string
  value: unknown
}

// amqplib's rule: integers below 2^50 that have a fractional part are doubles, so are numbers
// at or above 2^63; everything else is an integer of the smallest signed size that fits.
function isFloatingPoint(n: number): boolean {
  return n >= 0x8000000000000000 || (Math.abs(n) < 0x4000000000000 && Math.floor(n) !== n)
}

/** Throws amqplib's RangeError when `size` bytes do not fit at `offset`. */
export function checkSpace(buffer: Buffer, offset: number, size: number): void {
  if (offset + size > buffer.length) {
    throw new RangeError(
      `Encoded field table (headers or arguments) exceeds the ${buffer.length} byte encoding buffer`,
    )
  }
}

/** Writes `val` as a field table at `offset` (with its length prefix); returns the bytes written. */
export function encodeTable(buffer: Buffer, val: Record<string, unknown>, offset: number): number {
  const start = offset
  checkSpace(buffer, offset, 4)
  offset += 4
  // for...in on purpose: amqplib passes argument tables whose defaults live on the prototype.
  for (const key in val) {
    if (val[key] === undefined) continue
    const len = Buffer.byteLength(key)
    checkSpace(buffer, offset, 1 + len)
    buffer.writeUInt8(len, offset)
    offset++
    buffer.write(key, offset, 'utf8')
    offset += len
    offset += encodeFieldValue(buffer, val[key], offset)
  }
  buffer.writeUInt32BE(offset - start - 4, start)
  return offset - start
}

function encodeArray(buffer: Buffer, val: readonly unknown[], offset: number): number {
  const start = offset
  checkSpace(buffer, offset, 4)
  offset += 4
  for (const item of val) offset += encodeFieldValue(buffer, item, offset)
  buffer.writeUInt32BE(offset - start - 4, start)
  return offset - start
}

function guessNumberType(n: number): string {
  if (isFloatingPoint(n)) return 'double'
  if (n < 128 && n >= -128) return 'byte'
  if (n >= -0x8000 && n < 0x8000) return 'short'
  if (n >= -0x80000000 && n < 0x80000000) return 'int'
  return 'long'
}

/** Writes one value, tag included, by amqplib's rules (and `longlong`); returns the bytes written. */
export function encodeFieldValue(buffer: Buffer, value: unknown, offset: number): number {
  const start = offset
  let type: string = typeof value
  let val = value as never
  if (value && type === 'object' && Object.hasOwn(value, '!')) {
    val = (value as TypedValue).value as never
    type = (value as TypedValue)['!']
  }
  if (type === 'number') type = guessNumberType(val)

  const tag = (t: string) => {
    checkSpace(buffer, offset, 1)
    buffer.write(t, offset)
    offset++
  }
  const fixed = (t: string, size: number, write: (o: number) => void) => {
    tag(t)
    checkSpace(buffer, offset, size)
    write(offset)
    offset += size
  }

  switch (type) {
    case 'string': {
      const len = Buffer.byteLength(val, 'utf8')
      tag('S')
      checkSpace(buffer, offset, 4 + len)
      buffer.writeUInt32BE(len, offset)
      buffer.write(val, offset + 4, 'utf8')
      offset += 4 + len
      break
    }
    case 'object': {
      const v = val as unknown
      if (v === null) tag('V')
      else if (Array.isArray(v)) {
        tag('A')
        offset += encodeArray(buffer, v, offset)
      } else if (Buffer.isBuffer(v)) {
        tag('x')
        checkSpace(buffer, offset, 4 + v.length)
        buffer.writeUInt32BE(v.length, offset)
        v.copy(buffer, offset + 4)
        offset += 4 + v.length
      } else {
        tag('F')
        offset += encodeTable(buffer, v as Record<string, unknown>, offset)
      }
      break
    }
    case 'boolean':
      fixed('t', 1, (o) => buffer.writeUInt8(val ? 1 : 0, o))
      break
    case 'double':
    case 'float64':
      fixed('d', 8, (o) => buffer.writeDoubleBE(val, o))
      break
    case 'byte':
    case 'int8':
      fixed('b', 1, (o) => buffer.writeInt8(val, o))
      break
    case 'unsignedbyte':
    case 'uint8':
      fixed('B', 1, (o) => buffer.writeUInt8(val, o))
      break
    case 'short':
    case 'int16':
      fixed('s', 2, (o) => buffer.writeInt16BE(val, o))
      break
    case 'unsignedshort':
    case 'uint16':
      fixed('u', 2, (o) => buffer.writeUInt16BE(val, o))
      break
    case 'int':
    case 'int32':
      fixed('I', 4, (o) => buffer.writeInt32BE(val, o))
      break
    case 'unsignedint':
    case 'uint32':
      fixed('i', 4, (o) => buffer.writeUInt32BE(val, o))
      break
    case 'long':
    case 'int64':
      fixed('l', 8, (o) => buffer.writeBigInt64BE(BigInt(val), o))
      break
    case 'longlong':
      // Ours: py-amqp's tag for a signed 64-bit integer.
      fixed('L', 8, (o) => buffer.writeBigInt64BE(BigInt(val), o))
      break
    case 'timestamp':
      fixed('T', 8, (o) => buffer.writeBigUInt64BE(BigInt(val), o))
      break
    case 'float':
      fixed('f', 4, (o) => buffer.writeFloatBE(val, o))
      break
    case 'decimal': {
      const d = val as { places?: number; digits?: number } | null
      if (
        !d ||
        typeof d.places !== 'number' ||
        typeof d.digits !== 'number' ||
        d.places < 0 ||
        d.places > 255
      )
        throw new TypeError(
          `Decimal value must be {'places': 0..255, 'digits': uint32}, got ${JSON.stringify(val)}`,
        )
      tag('D')
      checkSpace(buffer, offset, 5)
      buffer[offset] = d.places
      if (d.digits < 0) buffer.writeInt32BE(d.digits, offset + 1)
      else buffer.writeUInt32BE(d.digits, offset + 1)
      offset += 5
      break
    }
    default:
      throw new TypeError(`Unknown type to encode: ${type}`)
  }
  return offset - start
}
