/**
 * Header and argument tables as Python Kombu writes them (py-amqp's `_write_item`): strings `S`,
 * null `V`, booleans `t`, integers `I` (signed 32-bit) or `L` (signed 64-bit) outside that range,
 * other numbers `d`, nested tables `F` and arrays `A`, dates `T` (seconds). amqplib on its own
 * would pick the smallest integer type (`b`, `s`), which py-amqp reads unsigned (`-1` becomes
 * 255), so every value is given its type explicitly here before amqplib encodes it.
 *
 * Decoding is the reverse: amqplib's typed wrappers become plain values (`T` a Date, `D` a
 * decimal string), and 64-bit integers too large for a number stay exact as bigints.
 */
import { EncodeError } from '@q/kombu'
import type { TypedValue } from './field-table.js'

const INT32_MAX = 2147483647
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

/** Whether the `L` encoder is installed in amqplib (see amqplib.ts); set once at load. */
let longlong = true

/** Tells the encoder whether amqplib can write `L`; without it, large integers degrade gracefully. */
export function setLonglongSupported(supported: boolean): void {
  longlong = supported
}

function isTyped(value: object): value is TypedValue {
  return Object.hasOwn(value, '!')
}

function bigInteger(n: bigint | number, path: string): TypedValue {
  const big = typeof n === 'bigint' ? n : BigInt(n)
  if (big < INT64_MIN || big > INT64_MAX)
    throw new EncodeError(`Header '${path}' (${big}) does not fit an AMQP signed 64-bit integer`)
  if (longlong) return { '!': 'longlong', value: big }
  // amqplib's own 'l' reads back right in Python for positive values only.
  return big >= 0n ? { '!': 'long', value: big } : { '!': 'double', value: Number(big) }
}

function wireValue(value: unknown, path: string): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      if (!Number.isInteger(value)) return { '!': 'double', value }
      if (value >= -INT32_MAX && value <= INT32_MAX) return { '!': 'int', value }
      if (Math.abs(value) < 2 ** 63) return bigInteger(value, path)
      return { '!': 'double', value }
    case 'bigint':
      return value >= -INT32_MAX && value <= INT32_MAX
        ? { '!': 'int', value: Number(value) }
        : bigInteger(value, path)
    case 'undefined':
      return null
    case 'object': {
      if (value === null || Buffer.isBuffer(value)) return value
      if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
      if (value instanceof Date) return { '!': 'timestamp', value: Math.floor(value.getTime() / 1000) }
      if (Array.isArray(value)) return value.map((v, i) => wireValue(v, `${path}[${i}]`))
      if (isTyped(value)) return value
      return toWireTable(value as Record<string, unknown>, path)
    }
    default:
      throw new EncodeError(`Header '${path}' is a ${typeof value}, which an AMQP table cannot carry`)
  }
}

/**
 * A header or argument table with every value typed as py-amqp would write it. Keys whose value
 * is undefined are left out; undefined inside an array becomes null.
 */
export function toWireTable(table: Readonly<Record<string, unknown>>, path = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(table)) {
    const value = table[key]
    if (value !== undefined) out[key] = wireValue(value, path ? `${path}.${key}` : key)
  }
  return out
}

function decimalString(places: number, digits: number): string {
  const sign = digits < 0 ? '-' : ''
  const abs = String(Math.abs(digits)).padStart(places + 1, '0')
  return places === 0 ? `${sign}${abs}` : `${sign}${abs.slice(0, -places)}.${abs.slice(-places)}`
}

function plainValue(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value
  if (Buffer.isBuffer(value)) return Buffer.from(value) // a copy: the original is a view of the frame
  if (Array.isArray(value)) return value.map(plainValue)
  const v = value as Record<string, unknown>
  if (isTyped(v)) {
    const inner = v.value as { places: number; digits: number } | number
    if (v['!'] === 'timestamp') return new Date((inner as number) * 1000)
    if (v['!'] === 'decimal' && typeof inner === 'object') return decimalString(inner.places, inner.digits)
    return inner
  }
  return fromWireTable(v)
}

/** A decoded table with amqplib's typed wrappers turned into plain values; changes it in place. */
export function fromWireTable(table: Record<string, unknown>): Record<string, unknown> {
  for (const key of Object.keys(table)) {
    const value = table[key]
    if (value === null || typeof value !== 'object') continue
    // An own `__proto__` key (field-decode.ts makes it one) stays one: no assignment through the setter.
    if (key === '__proto__')
      Object.defineProperty(table, key, {
        value: plainValue(value),
        enumerable: true,
        writable: true,
        configurable: true,
      })
    else table[key] = plainValue(value)
  }
  return table
}
