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
