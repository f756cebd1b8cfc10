/**
 * What a run found, keyed by measurement (`q.redis.drain.c100`, `bullmq.drain.best`...): each a
 * median with the repetitions it came from, plus what was skipped and what failed.
 */

/** Units of the figures. */
export type Unit = 'msg/s' | 'ms' | 'MB' | 'MB/100k tasks' | 'bytes' | 'µs/task'

/** One figure: the median of `runs`. */
export interface Measurement {
  value: number
  unit: Unit
  runs: number[]
  /** How it was measured, when that is not obvious from the key. */
  note?: string
}

/** The figures of a run. */
export class Results {
  readonly measurements: Record<string, Measurement> = {}
  readonly skipped: Record<string, string> = {}
  readonly errors: Record<string, string> = {}
  readonly series: Record<string, Array<{ count: number; rssMb: number; heapMb: number }>> = {}

  set(key: string, unit: Unit, runs: readonly number[], note?: string): number {
    const sorted = [...runs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
    const value = sorted.length ? sorted[Math.floor(sorted.length / 2)]! : Number.NaN
    this.measurements[key] = { value, unit, runs: [...runs], ...(note ? { note } : {}) }
    return value
  }

  /** The median of `key`, or NaN. */
  get(key: string): number {
    return this.measurements[key]?.value ?? Number.NaN
  }

  /** The largest median among `keys` (the best configuration), and its key. */
  best(keys: readonly string[]): { key: string | undefined; value: number } {
    let key: string | undefined
    let value = Number.NaN
    for (const k of keys) {
      const v = this.get(k)
      if (Number.isFinite(v) && !(v <= value)) {
        key = k
        value = v
      }
    }
    return { key, value }
  }
}
