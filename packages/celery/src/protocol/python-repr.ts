/**
 * Python's `repr` of JSON-like values, for the `argsrepr`/`kwargsrepr` headers and for events,
 * which Python tools (Flower, `celery events`, logs) display as is. Truncated as Celery's
 * saferepr is, at `maxlen` characters.
 */

function reprString(s: string): string {
  // As Celery's saferepr (`_format_chars`), not Python's repr: always single quotes, only `'`
  // escaped; argsrepr from Python clients look exactly like this.
  // indexOf first: most strings hold no quote, and a replace with a RegExp costs a call per string.
  return s.indexOf("'") === -1 ? `'${s}'` : `'${s.replace(/'/g, "\\'")}'`
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
  // Concatenated in place rather than mapped and joined: argsrepr and kwargsrepr are made for
  // every message sent, and the intermediate arrays were most of their garbage.
  if (Array.isArray(value)) {
    let items = ''
    for (let i = 0; i < value.length; i++)
      items += (i === 0 ? '' : ', ') + pythonRepr(value[i], false, depth + 1)
    if (asTuple) return value.length === 1 ? `(${items},)` : `(${items})`
    return `[${items}]`
  }
  if (typeof value === 'object') {
    let entries = ''
    const object = value as Record<string, unknown>
    for (const k in object) {
      if (!Object.hasOwn(object, k)) continue
      entries += `${entries === '' ? '' : ', '}${reprString(k)}: ${pythonRepr(object[k], false, depth + 1)}`
    }
    return `{${entries}}`
  }
  return reprString(String(value))
}

/** Celery's saferepr with a length limit (1024 for argsrepr/kwargsrepr). */
export function saferepr(value: unknown, maxlen = 1024, asTuple = false): string {
  const r = pythonRepr(value, asTuple)
  return r.length > maxlen ? `${r.slice(0, maxlen)}...` : r
}
