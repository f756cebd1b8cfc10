/**
 * From a backend URL and `resultBackendTransportOptions` to ioredis options. Option names are
 * read in camelCase or Celery's snake_case (`master_name`, `ssl_cert_reqs`); a URL query
 * parameter wins over the same transport option, as in Celery ("query parameters override").
 * Durations are in seconds, as Celery's, so values copy over from a Python configuration.
 */
import { readFileSync } from 'node:fs'
import { ConfigurationError } from '@q/celery'
import type { RedisOptions } from 'ioredis'
import { maskPassword, parseRedisUrl, type RedisTarget } from './url.js'

/** Options of the Redis result backend (`resultBackendTransportOptions`, or the URL's query). */
export interface RedisBackendOptions {
  /** Sentinel: the name of the monitored master (Celery's `master_name`); required with `sentinel://`. */
  masterName?: string
  /** Sentinel: credentials of the sentinels themselves (Celery's `sentinel_kwargs`). */
  sentinelKwargs?: { password?: string; username?: string }
  /** Seconds a command may go without a reply before it fails (redis-py's `socket_timeout`). */
  socketTimeout?: number
  /** Seconds to establish a connection (redis-py's `socket_connect_timeout`). */
  socketConnectTimeout?: number
  /** `rediss://`: `CERT_REQUIRED` (default), `CERT_OPTIONAL` (same, for a client) or `CERT_NONE`. */
  sslCertReqs?: string
  /** `rediss://`: paths of the CA bundle, client certificate and client key (PEM). */
  sslCaCerts?: string
  sslCertfile?: string
  sslKeyfile?: string
  /** Sorted set that remembers revoked ids (q only; Python Celery keeps them in memory). Default `q-revoked`. */
  revokedKey?: string
  /** `CLIENT SETNAME` of the connections; the subscriber's gets `:sub` appended. */
  connectionName?: string
  /** More ioredis options, applied last (retryStrategy, maxRetriesPerRequest, tls...). */
  redisOptions?: RedisOptions
  /** Receives connection errors as ioredis reports them while reconnecting (default: none). */
  onError?: (err: Error) => void
}

/** What the store is built from. */
export interface ResolvedBackendOptions {
  readonly target: RedisTarget
  readonly client: RedisOptions
  readonly revokedKey: string
  readonly onError: ((err: Error) => void) | undefined
}

const SSL_KEYS = ['sslCertReqs', 'sslCaCerts', 'sslCertfile', 'sslKeyfile'] as const
const CERT_REQS = new Set(['REQUIRED', 'OPTIONAL', 'NONE'])

function camel(raw: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(raw)) out[k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())] = v
  return out
}

function seconds(name: string, value: unknown, url: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined
  const n = Number(value)
  if (!(n > 0) || !Number.isFinite(n)) {
    throw new ConfigurationError(
      `Redis result backend option '${name}' must be a number of seconds > 0, got '${String(value)}' (${maskPassword(url)})`,
    )
  }
  return n
}

function text(name: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string' || value === '')
    throw new ConfigurationError(`Redis result backend option '${name}' must be a non-empty string`)
  return value
}

function tls(o: RedisBackendOptions): NonNullable<RedisOptions['tls']> {
  const reqs = String(o.sslCertReqs ?? 'CERT_REQUIRED')
    .toUpperCase()
    .replace(/^CERT_/, '')
  if (!CERT_REQS.has(reqs)) {
    throw new ConfigurationError(
      `ssl_cert_reqs must be CERT_REQUIRED, CERT_OPTIONAL or CERT_NONE, got '${String(o.sslCertReqs)}'`,
    )
  }
  const file = (path: string | undefined) => (path ? readFileSync(path) : undefined)
  return {
    // A client verifies the server under CERT_OPTIONAL too, as Python's ssl module does.
    rejectUnauthorized: reqs !== 'NONE',
    ...(o.sslCaCerts ? { ca: file(o.sslCaCerts) } : {}),
    ...(o.sslCertfile ? { cert: file(o.sslCertfile) } : {}),
    ...(o.sslKeyfile ? { key: file(o.sslKeyfile) } : {}),
  }
}

/** Reads the URL and the transport options; throws ConfigurationError naming a bad value. */
export function resolveBackendOptions(
  url: string,
  transportOptions: Readonly<Record<string, unknown>> = {},
): ResolvedBackendOptions {
  const target = parseRedisUrl(url)
  const o = { ...camel(transportOptions), ...camel(target.query) } as RedisBackendOptions
  if (target.scheme === 'redis' && SSL_KEYS.some((k) => o[k] !== undefined)) {
    throw new ConfigurationError(
      `SSL options need a rediss:// URL, not redis:// (${maskPassword(url)}), as in Celery`,
    )
  }
  const socketTimeout = seconds('socketTimeout', o.socketTimeout, url)
  const connectTimeout = seconds('socketConnectTimeout', o.socketConnectTimeout, url)
  const connectionName = text('connectionName', o.connectionName)
  const client: RedisOptions = {
    db: target.db,
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    // Nothing connects before the first command: creating an app must not open sockets.
    lazyConnect: true,
    enableAutoPipelining: true,
    ...(socketTimeout ? { socketTimeout: socketTimeout * 1000 } : {}),
    ...(connectTimeout ? { connectTimeout: connectTimeout * 1000 } : {}),
    ...(connectionName ? { connectionName } : {}),
    ...(target.scheme === 'rediss' ? { tls: tls(o) } : {}),
  }
  if (target.scheme === 'sentinel') {
    const masterName = text('masterName', o.masterName)
    if (!masterName) {
      throw new ConfigurationError(
        `sentinel:// needs the name of the monitored master: resultBackendTransportOptions { masterName: 'mymaster' } or ?master_name=mymaster (${maskPassword(url)})`,
      )
    }
    const kw = (o.sentinelKwargs ?? {}) as NonNullable<RedisBackendOptions['sentinelKwargs']>
    Object.assign(client, {
      sentinels: target.hosts,
      name: masterName,
      ...(kw.password ? { sentinelPassword: kw.password } : {}),
      ...(kw.username ? { sentinelUsername: kw.username } : {}),
    })
  } else {
    Object.assign(client, target.hosts[0])
  }
  return {
    target,
    client: { ...client, ...(o.redisOptions ?? {}) },
    revokedKey: text('revokedKey', o.revokedKey) ?? 'q-revoked',
    onError: typeof o.onError === 'function' ? o.onError : undefined,
  }
}
