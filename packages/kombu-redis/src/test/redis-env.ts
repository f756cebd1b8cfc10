/**
 * Where the integration tests find Redis: `REDIS_URL` (default redis://127.0.0.1:6379), on a
 * database of their own (9-14) so that flushing it touches nothing else, and a fresh key prefix.
 */
import { randomBytes } from 'node:crypto'
import { Connection, type ConnectionOptions } from '@q/kombu'
import { Redis } from 'ioredis'
import { transport } from '../driver.js'

/** The machine's Redis, without a database number. */
export const REDIS_BASE = (process.env.REDIS_URL ?? 'redis://127.0.0.1:6379').replace(/\/\d*$/, '')

/** A URL of `db` on the machine's Redis. */
export const redisUrl = (db: number) => `${REDIS_BASE}/${db}`

/** A key prefix no other run uses. */
export const uniquePrefix = (label: string) => `q-test-${label}-${randomBytes(4).toString('hex')}:`

/** A plain client of `db`, for looking at keys. Close it with `disconnect()`. */
export function rawClient(db: number): Redis {
  return new Redis(redisUrl(db), { lazyConnect: false, maxRetriesPerRequest: 1 })
}

/** A Connection to `db` through this package's driver. */
export function connect(
  db: number,
  transportOptions: Record<string, unknown>,
  options: ConnectionOptions = {},
) {
  return new Connection(redisUrl(db), { transport, transportOptions, ...options })
}

/** Deletes every key that starts with `prefix` in `db`. */
export async function deletePrefix(db: number, prefix: string): Promise<void> {
  const client = rawClient(db)
  try {
    let cursor = '0'
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length) await client.del(...keys)
    } while (cursor !== '0')
  } finally {
    client.disconnect()
  }
}
