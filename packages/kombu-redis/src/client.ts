/**
 * ioredis options from a broker URL, as Kombu reads it: `redis://[user:password@]host[:port][/db]`,
 * `rediss://` for TLS, `sentinel://host:port` with the `masterName` transport option. Every
 * client is created with ioredis' own reconnection off: a lost connection is reported to the
 * Connection, which reconnects, emits its state events and lets consumers resume.
 */

import type { BrokerUrl } from '@q/kombu'
import { InvalidOptionError } from '@q/kombu'
import type { TransportContext } from '@q/kombu/internal'
import type { RedisOptions } from 'ioredis'
import type { RedisTransportOptions } from './options.js'

/** Redis' default port, and Sentinel's. */
export const DEFAULT_PORT = 6379
export const DEFAULT_SENTINEL_PORT = 26379

/** The database number of a URL path (`/3` -> 3; empty or `/` -> 0), as Kombu's `_prepare_virtual_host`. */
export function databaseOf(url: BrokerUrl): number {
  const path = url.virtualHost.replace(/^\//, '')
  if (path === '') return 0
  const db = Number(path)
  if (!Number.isInteger(db) || db < 0) {
    throw new InvalidOptionError(
      `Redis database must be an integer >= 0, got '${url.virtualHost}' in the URL path`,
    )
  }
  return db
}

function sentinelAddresses(
  url: BrokerUrl,
  extra: RedisTransportOptions['sentinels'],
): Array<{ host: string; port: number }> {
  const list = [{ host: url.hostname || '127.0.0.1', port: url.port ?? DEFAULT_SENTINEL_PORT }]
  for (const s of Array.isArray(extra) ? extra : extra ? String(extra).split(',') : []) {
    if (typeof s === 'object') list.push({ host: s.host, port: Number(s.port) || DEFAULT_SENTINEL_PORT })
    else {
      const [host, port] = s.trim().split(':')
      if (host) list.push({ host, port: Number(port) || DEFAULT_SENTINEL_PORT })
    }
  }
  return list
}

function tlsOptions(context: TransportContext, options: RedisTransportOptions): RedisOptions['tls'] {
  const base = typeof context.ssl === 'object' ? { ...context.ssl } : {}
  if (String(options.sslCertReqs ?? '').toUpperCase() === 'CERT_NONE') {
    ;(base as Record<string, unknown>).rejectUnauthorized = false
  }
  return base as RedisOptions['tls']
}

/** The ioredis options of the command connection to the broker at `url`. */
export function clientOptions(
  url: BrokerUrl,
  context: TransportContext,
  options: RedisTransportOptions,
): RedisOptions {
  const common: RedisOptions = {
    db: databaseOf(url),
    username: url.userid,
    password: url.password,
    connectTimeout: context.connectTimeout,
    lazyConnect: true,
    // Reconnection belongs to the Connection: a lost client ends, and commands fail at once.
    retryStrategy: () => null,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // Writes are coalesced per tick by corking the socket instead (WriteCoalescer): no turn of
    // the event loop before a command leaves, no pipeline waiting for the previous one's replies.
    enableAutoPipelining: false,
    ...(options.socketTimeout ? { socketTimeout: options.socketTimeout * 1000 } : {}),
    ...(context.ssl ? { tls: tlsOptions(context, options) } : {}),
  }
  if (url.scheme === 'sentinel') {
    if (!options.masterName) {
      throw new InvalidOptionError(
        "sentinel:// needs the 'masterName' transport option (Kombu's master_name): the name of the monitored master",
      )
    }
    return {
      ...common,
      sentinels: sentinelAddresses(url, options.sentinels),
      name: options.masterName,
      sentinelPassword: options.sentinelPassword,
      sentinelUsername: options.sentinelUsername,
      sentinelRetryStrategy: () => null,
      ...(context.ssl ? { enableTLSForSentinelMode: true } : {}),
    }
  }
  return { ...common, host: url.hostname || '127.0.0.1', port: url.port ?? DEFAULT_PORT }
}
