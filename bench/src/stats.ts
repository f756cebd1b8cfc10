/** Medians, percentiles and rates. */

/** The median (the upper one of an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

/** The p-th percentile (0-100), nearest rank. */
export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN
  const s = [...xs].sort((a, b) => a - b)
  const rank = Math.ceil((p / 100) * s.length)
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))]!
}

/** Messages per second. */
export function rate(n: number, ms: number): number {
  return ms > 0 ? (n / ms) * 1000 : Number.NaN
}

/** Megabytes, one decimal. */
export function mb(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10
}

/** Runs `once` `reps` times; returns the median of each numeric field, and the raw runs. */
export async function repeat<T extends Record<string, number>>(
  reps: number,
  once: (rep: number) => Promise<T>,
): Promise<{ median: T; runs: T[] }> {
  const runs: T[] = []
  for (let rep = 0; rep < reps; rep++) runs.push(await once(rep))
  const keys = Object.keys(runs[0] ?? {}) as Array<keyof T>
  const out = {} as Record<keyof T, number>
  for (const k of keys) out[k] = median(runs.map((r) => r[k] as number))
  return { median: out as T, runs }
}

/** Resolves after `ms`. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Polls `check` every `everyMs` until it returns true, or throws after `timeoutMs`. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  everyMs = 2,
): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(everyMs)
  }
}
