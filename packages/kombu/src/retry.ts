/**
 * Retry policies, as Kombu's `retry_policy` (`max_retries`, `interval_start`, `interval_step`,
 * `interval_max`) plus a growth factor: with `factor: 1` the waits grow linearly as Kombu's do,
 * with the default `factor: 2` they double.
 */
import { InvalidOptionError } from './errors.js'

/** How often and how patiently to retry. Durations are milliseconds. */
export interface RetryPolicy {
  /** Retries after the first attempt; `Infinity` retries for ever. Default 3. */
  maxRetries?: number
  /** Wait before the first retry. Default 0. */
  intervalStart?: number
  /** Base increment of the wait. Default 200. */
  intervalStep?: number
  /** Longest wait. Default 5000. */
  intervalMax?: number
  /** Growth of the increment per retry: 1 is linear, 2 doubles. Default 2. */
  factor?: number
}

/** A policy with every field filled in. */
export type ResolvedRetryPolicy = Required<RetryPolicy>

/** The defaults of {@link RetryPolicy}. */
export const DEFAULT_RETRY_POLICY: ResolvedRetryPolicy = Object.freeze({
  maxRetries: 3,
  intervalStart: 0,
  intervalStep: 200,
  intervalMax: 5000,
  factor: 2,
})

/** Fills in defaults and checks every value, naming the bad one. */
export function resolveRetryPolicy(
  policy: RetryPolicy | undefined,
  base = DEFAULT_RETRY_POLICY,
): ResolvedRetryPolicy {
  const p = { ...base, ...stripUndefined(policy ?? {}) }
  for (const key of ['maxRetries', 'intervalStart', 'intervalStep', 'intervalMax'] as const) {
    if (typeof p[key] !== 'number' || Number.isNaN(p[key]) || p[key] < 0) {
      throw new InvalidOptionError(`retryPolicy.${key} must be a number >= 0, got ${String(p[key])}`)
    }
  }
  if (typeof p.factor !== 'number' || !(p.factor >= 1) || !Number.isFinite(p.factor)) {
    throw new InvalidOptionError(`retryPolicy.factor must be a finite number >= 1, got ${String(p.factor)}`)
  }
  return p
}

/** Milliseconds to wait before retry number `retry` (1-based). */
export function retryDelay(policy: ResolvedRetryPolicy, retry: number): number {
  const { intervalStart, intervalStep, intervalMax, factor } = policy
  // Sum of a geometric series of steps: linear when factor is 1, doubling when 2.
  const growth = factor === 1 ? retry - 1 : (factor ** (retry - 1) - 1) / (factor - 1)
  // A zero step stays zero when the growth overflows to Infinity (0 * Infinity is NaN).
  return Math.min(intervalMax, intervalStart + (intervalStep && intervalStep * growth))
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
