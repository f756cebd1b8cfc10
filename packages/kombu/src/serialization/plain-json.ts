/** Past this depth we stop checking and let the replacer path (and its cycle check) run. */
const MAX_PLAIN_DEPTH = 64

/**
 * Whether JSON.stringify alone encodes `value` exactly as Kombu's JSON would: only
 * strings, finite numbers, booleans, null, undefined, arrays and plain objects without
 * toJSON. Anything else (Dates, bigints, NaN, Buffers, class instances, cycles, very deep
 * nesting) answers false and goes through the slower replacer.
 */
export function isPlainJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'undefined':
      return true
    case 'number':
      return Number.isFinite(value)
    case 'object':
      break
    default:
      return false
  }
  if (value === null) return true
  if (depth > MAX_PLAIN_DEPTH) return false
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!isPlainJson(value[i], depth + 1)) return false
    return true
  }
  const proto = Object.getPrototypeOf(value)
  if (proto !== Object.prototype && proto !== null) return false
  const object = value as Record<string, unknown>
  if (typeof object.toJSON === 'function') return false
  for (const key in object) if (!isPlainJson(object[key], depth + 1)) return false
  return true
}

/** What JSON.stringify escapes in a string: quote, backslash, controls, and any surrogate (a lone one is escaped). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what JSON escapes
const JSON_ESCAPES = /["\\\u0000-\u001f\ud800-\udfff]/

/** JSON.stringify of a string: most strings need no escape, and one RegExp scan is cheaper than its serializer. */
export function jsonString(s: string): string {
  return JSON_ESCAPES.test(s) ? JSON.stringify(s) : `"${s}"`
}

/** JSON of a primitive that {@link isPlainJson} accepted, in an array (undefined is null there). */
function primitiveJson(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string':
      return jsonString(v)
    case 'number':
      // Finite (isPlainJson); String(-0) is "0", as JSON writes it.
      return String(v)
    case 'boolean':
      return v ? 'true' : 'false'
    case 'undefined':
      return 'null'
    default:
      return v === null ? 'null' : undefined
  }
}

/**
 * JSON.stringify of a value {@link isPlainJson} accepted, byte for byte: an array of primitives
 * (task arguments, most often) is written here, because V8's serializer walks a string one
 * character at a time (a 216-character argument alone took 0.26 µs); anything else by
 * JSON.stringify.
 */
export function plainValueJson(value: unknown): string | undefined {
  if (!Array.isArray(value)) return primitiveJson(value) ?? JSON.stringify(value)
  let out = '['
  for (let i = 0; i < value.length; i++) {
    const item = primitiveJson(value[i])
    if (item === undefined) return JSON.stringify(value)
    out += i === 0 ? item : `,${item}`
  }
  return `${out}]`
}
