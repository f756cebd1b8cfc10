/**
 * Python's `json.dumps` of objects that come back with the same keys and mostly the same values:
 * a task's headers, where one call differs from the last in its ids and little else.
 *
 * Why not {@link pyDumps} alone: it writes an object by appending each key and value to a string,
 * a rope of some forty pieces for Celery's sixteen headers, and copying a rope that deep into the
 * socket's buffer costs more than building it (~1 µs an envelope; a flat string of the same bytes
 * copies in a quarter of that). Here every run of entries unchanged since the last object is one
 * flat string kept from the last time that run was written, so the text of a task's headers is a
 * handful of pieces, the runs and the entries that changed, which the caller joins (one flat
 * string, one copy) with the rest of the envelope.
 */
import { isFrozenPrimitives } from '@q/kombu/internal'
import { pyDumps, pyKey } from './py-json.js'

/** Objects with more keys are written by {@link pyDumps} (a run cache that large pays nothing). */
const MAX_KEYS = 64

/** Longer string values are written every time rather than kept for the next object. */
const MAX_KEPT_LENGTH = 4096
/** Stands for a value not kept: no header value is ever this object. */
const NOT_KEPT: unknown = Object.freeze({})

/** A run of entries written before: `[start, end)` and its text. */
interface Run {
  end: number
  /** {@link RecurringObjectWriter.changes} when the run's text was made. */
  made: number
  text: string
}

/**
 * Writes objects as {@link pyDumps} does, byte for byte, keeping the text of the last object's
 * entries to reuse what did not change. Holds the last object's values (a few short strings).
 */
export class RecurringObjectWriter {
  private readonly keys: string[] = []
  private readonly values: unknown[] = []
  /** Each entry's text with the separator before it (none before the first). */
  private readonly texts: string[] = []
  /** When each entry's text last changed, on the {@link changes} count. */
  private readonly changedAt: number[] = []
  /** Runs by their first entry. */
  private readonly runs: Array<Run | undefined> = []
  private changes = 0

  /** `pyDumps(obj)` for a plain object. */
  write(obj: Record<string, unknown>): string {
    const parts: string[] = ['{']
    this.writeParts(obj, parts)
    parts.push('}')
    return parts.join('')
  }

  /**
   * Appends the text of `obj`'s entries, braces left out, to `parts` (a few pieces, for the
   * caller to join into one flat string with the rest of what it writes).
   */
  writeParts(obj: Record<string, unknown>, parts: string[]): void {
    // Keys and values as two arrays: a keyed load per name was a third of this function's time.
    const names = Object.keys(obj)
    const values = Object.values(obj)
    if (names.length > MAX_KEYS) {
      parts.push(pyDumps(obj).slice(1, -1))
      return
    }
    let i = 0
    let runStart = -1
    let runChanged = 0
    for (let n = 0; n < names.length; n++) {
      const k = names[n]!
      const v = values[n]
      if (v === undefined) continue
      if (i < this.keys.length && this.keys[i] === k && this.values[i] === v && isStable(v)) {
        if (runStart < 0) {
          runStart = i
          runChanged = 0
        }
        if (this.changedAt[i]! > runChanged) runChanged = this.changedAt[i]!
      } else {
        if (runStart >= 0) {
          parts.push(this.run(runStart, i, runChanged))
          runStart = -1
        }
        const text = `${i === 0 ? '' : ', '}${pyKey(k)}${pyDumps(v)}`
        // A long string or an object that may change is not kept (NOT_KEPT equals nothing).
        const kept = typeof v === 'string' ? v.length <= MAX_KEPT_LENGTH : isStable(v)
        this.keys[i] = k
        this.values[i] = kept ? v : NOT_KEPT
        this.texts[i] = kept ? text : ''
        this.changedAt[i] = ++this.changes
        parts.push(text)
      }
      i++
    }
    if (runStart >= 0) parts.push(this.run(runStart, i, runChanged))
    if (i < this.keys.length) this.forget(i)
  }

  /** The text of entries `[start, end)`, none of them changed since `changed`. */
  private run(start: number, end: number, changed: number): string {
    const cached = this.runs[start]
    if (cached !== undefined && cached.end === end && cached.made > changed) return cached.text
    // join makes one flat string, where appending would make a rope again.
    const text = this.texts.slice(start, end).join('')
    this.runs[start] = { end, made: this.changes + 1, text }
    return text
  }

  /** Drops the entries from `from` on (the last object had more). */
  private forget(from: number): void {
    this.keys.length = from
    this.values.length = from
    this.texts.length = from
    this.changedAt.length = from
    this.runs.length = from
  }
}

/**
 * Whether a value equal (`===`) to the last one is sure to be written the same: a primitive, or a
 * frozen array or object of primitives (Celery's shared `[null, null]` time limits), whose
 * contents cannot have changed since. Any other object is written anew every time.
 */
function isStable(v: unknown): boolean {
  return typeof v !== 'object' || v === null || isFrozenPrimitives(v)
}
