/**
 * Times as Celery puts them on the wire: `eta`/`expires` headers are `isoformat()` of aware
 * datetimes (`+00:00`), result `date_done` is naive UTC, and parsing accepts `Z`, offsets and
 * naive strings (naive means UTC, as Celery's parser treats it).
 */

function micros(d: Date): string {
  const ms = d.getUTCMilliseconds()
  return ms ? `.${String(ms).padStart(3, '0')}000` : ''
}

function base(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0')
  return `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`
}

/** `datetime.isoformat()` of an aware UTC datetime: `2026-11-21T14:07:36.787000+00:00`. */
export function isoformatUtc(d: Date): string {
  return `${base(d)}${micros(d)}+00:00`
}

/** `datetime.utcnow().isoformat()`: naive, no suffix (result `date_done`). */
export function isoformatNaive(d: Date): string {
  return `${base(d)}${micros(d)}`
}

/** Parses an ISO-8601 time as Celery does; naive means UTC. Undefined for null/invalid. */
export function parseIso(value: unknown): Date | undefined {
  if (typeof value !== 'string' || value === '') return undefined
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$/i.exec(
    value.trim(),
  )
  if (!m) {
    const t = Date.parse(value)
    return Number.isNaN(t) ? undefined : new Date(t)
  }
  const frac = m[3] ? `.${m[3].slice(0, 3).padEnd(3, '0')}` : ''
  const zone = m[4] ? (m[4].toUpperCase() === 'Z' ? 'Z' : m[4].replace(/^([+-]\d{2})(\d{2})$/, '$1:$2')) : 'Z'
  const t = Date.parse(`${m[1]}T${m[2]}${frac}${zone}`)
  return Number.isNaN(t) ? undefined : new Date(t)
}
