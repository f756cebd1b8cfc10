/**
 * Python's `repr` of JSON-like values, for the `argsrepr`/`kwargsrepr` headers and for events,
 * which Python tools (Flower, `celery events`, logs) display as is. Truncated as Celery's
 * saferepr is, at `maxlen` characters.
 */

function reprString(s: string): string {
  // As Celery's saferepr (`_format_chars`), not Python's repr: always single quotes, only `'`
  // escaped; argsrepr from Python clients look exactly like this.
  return `'${s.replace(/'/g, "\\'")}'`
}

function reprNumber(n: number): string {
  if (Number.isNaN(n)) return 'nan'
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf'
  return String(n)
}

/** Python repr of a value; arrays as lists, unless `asTuple`. */
export function pythonRepr(value: unknown, asTuple = false, depth = 0): string {
  if (value === null || value === undefined) return 'None'
  if (value === true) return 'True'
  if (value === false) return 'False'
  if (typeof value === 'number') return reprNumber(value)
  if (typeof value === 'bigint') return value.toString()
  if (typeof value === 'string') return reprString(value)
  if (value instanceof Date) return reprString(value.toISOString())
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `b'<${value.length} bytes>'`
  // Celery's saferepr shows three levels of containers (maxlevels=3), then `[...]`/`{...}`.
  if (depth >= 3) return Array.isArray(value) ? '[...]' : '{...}'
  if (Array.isArray(value)) {
    const items = value.map((v) => pythonRepr(v, false, depth + 1))
    if (asTuple) return items.length === 1 ? `(${items[0]},)` : `(${items.join(', ')})`
    return `[${items.join(', ')}]`
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).map(
      ([k, v]) => `${reprString(k)}: ${pythonRepr(v, false, depth + 1)}`,
    )
    return `{${entries.join(', ')}}`
  }
  return reprString(String(value))
}

/** Celery's saferepr with a length limit (1024 for argsrepr/kwargsrepr). */
export function saferepr(value: unknown, maxlen = 1024, asTuple = false): string {
  const r = pythonRepr(value, asTuple)
  return r.length > maxlen ? `${r.slice(0, maxlen)}...` : r
}
