/**
 * Transport options of the Redis transport: Kombu's names in camelCase (`visibility_timeout` in a
 * URL query or in Python becomes `visibilityTimeout`), Kombu's defaults, and ours. Durations keep
 * Kombu's unit, seconds, so a value can be copied from a Celery configuration as it is.
 */
import { InvalidOptionError } from '@q/kombu'

/** Options of the Redis transport (Connection `transportOptions` or the URL's query string). */
export interface RedisTransportOptions {
  /** Separator of priority-bucket keys and binding members. Default `'\x06\x16'`. */
  sep?: string
  /** Track unacknowledged messages in Redis (`unacked` hash). Default true, as Kombu. */
  ackEmulation?: boolean
  /** Hash of unacknowledged messages. Default `unacked`. */
  unackedKey?: string
  /** Sorted set of delivery times of unacknowledged messages. Default `unacked_index`. */
  unackedIndexKey?: string
  /** Lock held while restoring expired messages (shared with Python workers). Default `unacked_mutex`. */
  unackedMutexKey?: string
  /** Seconds the restore lock lives at most. Default 300. */
  unackedMutexExpire?: number
  /** Seconds an unacknowledged message may go without a lease renewal before it is restored. Default 3600. */
  visibilityTimeout?: number
  /** Messages restored per scan at most; default no limit. */
  unackedRestoreLimit?: number
  /** Priority buckets: a message goes to the largest step not above its priority. Default [0, 3, 6, 9]. */
  prioritySteps?: number[]
  /** Prefix of fanout channels: true for `/<db>.`, false for none, or a string (`{db}` is replaced). */
  fanoutPrefix?: boolean | string
  /** Publish fanout messages on `<exchange>/<routing key>` and subscribe by binding-key pattern. Default true. */
  fanoutPatterns?: boolean
  /** Prefix of every key and channel. Default none. */
  globalKeyprefix?: string
  /** Order of queues in one fetch: `round_robin` (default), `sorted` or `priority` (as given). */
  queueOrderStrategy?: 'round_robin' | 'sorted' | 'priority'
  /** Exchanges that are fanout without being declared here (Redis does not store exchange types). */
  fanoutExchanges?: string[]
  /** Seconds between lease renewals of held messages; default visibilityTimeout / 3. */
  leaseInterval?: number
  /** Sentinel: name of the monitored master (required with `sentinel://`). */
  masterName?: string
  /** Sentinel: more sentinels than the URL's, as `host:port` strings or objects. */
  sentinels?: Array<string | { host: string; port: number }>
  /** Sentinel: password and user name of the sentinels themselves. */
  sentinelPassword?: string
  sentinelUsername?: string
  /** Seconds of socket inactivity before a command fails; default none. */
  socketTimeout?: number
  /** `CERT_NONE` turns off certificate verification (as Celery's `ssl_cert_reqs`). */
  sslCertReqs?: string
  /** Messages of a fanout subscription kept while the consumer's prefetch window is full. Default 10 000. */
  fanoutBufferLimit?: number
  /**
   * Messages one run of the fetch script takes at most, when a consumer's prefetch window has
   * room for more (a worker draining a backlog). Default 200. Redis runs nothing else while a
   * script runs: measured here, a run held Redis 1.9 ms on average and 5.4 ms at p99 when it took
   * the whole window of 400; 0.9 and 2.8 ms at 200; 0.5 and 1.4 ms at 100, for a few percent of
   * drain rate.
   */
  fetchBatchSize?: number
}

/** The options with every default filled in. */
export interface ResolvedOptions {
  readonly sep: string
  readonly ackEmulation: boolean
  readonly unackedKey: string
  readonly unackedIndexKey: string
  readonly unackedMutexKey: string
  readonly unackedMutexExpire: number
  readonly visibilityTimeout: number
  readonly unackedRestoreLimit: number | undefined
  readonly prioritySteps: readonly number[]
  readonly fanoutPrefix: boolean | string
  readonly fanoutPatterns: boolean
  readonly globalKeyprefix: string
  readonly queueOrderStrategy: 'round_robin' | 'sorted' | 'priority'
  readonly fanoutExchanges: readonly string[]
  readonly leaseInterval: number
  readonly fanoutBufferLimit: number
  readonly fetchBatchSize: number
}

/** Exchanges Celery makes fanout on Redis: the remote-control mailbox and the events exchange. */
export const CELERY_FANOUT_EXCHANGES = Object.freeze(['celery.pidbox', 'celeryev'])

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new InvalidOptionError(
      `Redis transport option '${name}' must be a number > 0, got ${String(value)}`,
    )
  }
  return value
}

function count(name: string, value: unknown, fallback: number): number {
  const n = positive(name, value, fallback)
  if (!Number.isInteger(n)) {
    throw new InvalidOptionError(`Redis transport option '${name}' must be a whole number, got ${n}`)
  }
  return n
}

function text(name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string') {
    throw new InvalidOptionError(`Redis transport option '${name}' must be a string, got ${typeof value}`)
  }
  return value
}

function list(value: unknown): unknown[] | undefined {
  if (value === undefined) return undefined
  if (Array.isArray(value)) return value
  // From a URL query: "0,3,6,9" (or a single number, which coerce() already turned into one).
  return String(value)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
}

function steps(value: unknown): number[] {
  const raw = list(value)
  if (raw === undefined) return [0, 3, 6, 9]
  const out = raw.map(Number)
  if (out.length === 0 || out.some((n) => !Number.isInteger(n) || n < 0) || out[0] !== 0) {
    throw new InvalidOptionError(
      `Redis transport option 'prioritySteps' must be ascending integers starting at 0, got ${JSON.stringify(value)}`,
    )
  }
  return [...new Set(out)].sort((a, b) => a - b)
}

/** Fills in Kombu's defaults and checks every value, naming the bad one. */
export function resolveOptions(raw: Readonly<Record<string, unknown>>): ResolvedOptions {
  const o = raw as RedisTransportOptions & Record<string, unknown>
  const strategy = text('queueOrderStrategy', o.queueOrderStrategy, 'round_robin')
  if (strategy !== 'round_robin' && strategy !== 'sorted' && strategy !== 'priority') {
    throw new InvalidOptionError(
      `Redis transport option 'queueOrderStrategy' must be round_robin, sorted or priority, got '${strategy}'`,
    )
  }
  const visibilityTimeout = positive('visibilityTimeout', o.visibilityTimeout, 3600)
  const fanoutPrefix = o.fanoutPrefix ?? true
  if (typeof fanoutPrefix !== 'boolean' && typeof fanoutPrefix !== 'string') {
    throw new InvalidOptionError("Redis transport option 'fanoutPrefix' must be a boolean or a string")
  }
  return Object.freeze({
    sep: text('sep', o.sep, '\x06\x16'),
    ackEmulation: o.ackEmulation ?? true,
    unackedKey: text('unackedKey', o.unackedKey, 'unacked'),
    unackedIndexKey: text('unackedIndexKey', o.unackedIndexKey, 'unacked_index'),
    unackedMutexKey: text('unackedMutexKey', o.unackedMutexKey, 'unacked_mutex'),
    unackedMutexExpire: positive('unackedMutexExpire', o.unackedMutexExpire, 300),
    visibilityTimeout,
    unackedRestoreLimit:
      o.unackedRestoreLimit === undefined
        ? undefined
        : positive('unackedRestoreLimit', o.unackedRestoreLimit, 1),
    prioritySteps: Object.freeze(steps(o.prioritySteps)),
    fanoutPrefix,
    fanoutPatterns: o.fanoutPatterns ?? true,
    globalKeyprefix: text('globalKeyprefix', o.globalKeyprefix, ''),
    queueOrderStrategy: strategy,
    fanoutExchanges: Object.freeze([
      ...CELERY_FANOUT_EXCHANGES,
      ...((list(o.fanoutExchanges) ?? []) as string[]).map(String),
    ]),
    leaseInterval: positive('leaseInterval', o.leaseInterval, visibilityTimeout / 3),
    fanoutBufferLimit: positive('fanoutBufferLimit', o.fanoutBufferLimit, 10_000),
    fetchBatchSize: count('fetchBatchSize', o.fetchBatchSize, 200),
  })
}
