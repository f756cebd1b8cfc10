/**
 * Rate limits: a token bucket per task, as Celery's. A task over its limit waits for a token;
 * other tasks are unaffected.
 */
import { ConfigurationError } from '../errors.js'

/** Parses '10/s', '100/m', '1000/h' (or a number per second) into tasks per second; 0 = no limit. */
export function parseRate(rate: string | number | null | undefined): number {
  if (rate === null || rate === undefined || rate === '') return 0
  if (typeof rate === 'number') return rate
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*([smh]))?\s*$/.exec(rate)
  if (!m) throw new ConfigurationError(`Invalid rate limit '${rate}': use e.g. '10/s', '100/m' or '1000/h'`)
  const per = { s: 1, m: 60, h: 3600 }[(m[2] ?? 's') as 's' | 'm' | 'h']
  return Number(m[1]) / per
}

/** A token bucket: `rate` tokens per second, holding at most `capacity`. */
export class TokenBucket {
  private tokens: number
  private last: number

  constructor(
    readonly rate: number,
    readonly capacity = Math.max(1, rate),
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = capacity
    this.last = now()
  }

  private refill(): void {
    const t = this.now()
    this.tokens = Math.min(this.capacity, this.tokens + ((t - this.last) / 1000) * this.rate)
    this.last = t
  }

  /** Takes a token if one is there. */
  tryTake(): boolean {
    this.refill()
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }

  /** Milliseconds until a token is there. */
  waitTime(): number {
    this.refill()
    return this.tokens >= 1 ? 0 : ((1 - this.tokens) / this.rate) * 1000
  }
}
