/**
 * Where the integration tests find Redis: `REDIS_URL` (default redis://127.0.0.1:6379) on
 * database 15, which is theirs (flushed once per file), and backends over it that a test
 * disposes of with `await using`.
 */
import { KeyValueBackend } from '@q/celery'
import { SerializerRegistry } from '@q/kombu'
import { Redis } from 'ioredis'
import { createRedisStore } from '../src/driver.js'
import type { RedisStore } from '../src/store.js'

/** The database of these tests. */
export const DB = 15

/** The machine's Redis, on this package's database. */
export const REDIS_URL = `${(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379').replace(/\/\d*$/, '')}/${DB}`

/** A plain client for looking at keys; disposed with `disconnect()`. */
export function rawClient(): Redis & AsyncDisposable {
  const c = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 }) as Redis & AsyncDisposable
  c[Symbol.asyncDispose] = async () => void c.disconnect()
  return c
}

/** Empties this package's database, and only it. */
export async function flushTestDb(): Promise<void> {
  await using c = rawClient()
  await c.flushdb()
}

/** A backend over a store of its own, with the store at hand. */
export interface TestBackend extends AsyncDisposable {
  backend: KeyValueBackend
  store: RedisStore
}

/** A backend on the test database; options as an app would give them. */
export function testBackend(
  options: { expires?: number | null; extended?: boolean; transportOptions?: Record<string, unknown> } = {},
): TestBackend {
  const store = createRedisStore(REDIS_URL, options.transportOptions)
  const backend = new KeyValueBackend({
    url: REDIS_URL,
    store,
    serializers: new SerializerRegistry(),
    expires: options.expires === undefined ? 86400 : options.expires,
    extended: options.extended ?? false,
  })
  return { backend, store, [Symbol.asyncDispose]: () => backend.close() }
}

/** A command as MONITOR shows it: lower-case name, arguments, and the client's address. */
export interface Monitored {
  name: string
  args: string[]
  source: string
}

/** Every command Redis runs on the test database while `body` runs, from MONITOR. */
export async function monitored(body: () => Promise<void>): Promise<Monitored[]> {
  await using c = rawClient()
  const monitor = await c.monitor()
  const seen: Monitored[] = []
  monitor.on('monitor', (_time: string, args: string[], source: string, db: string) => {
    if (db === String(DB)) seen.push({ name: args[0]!.toLowerCase(), args: args.slice(1), source })
  })
  try {
    await body()
    // MONITOR lines trail the replies: wait for a marker sent after the body's last command.
    const marker = `q-monitor-end-${Math.random()}`
    await c.echo(marker)
    const deadline = Date.now() + 2000
    while (!seen.some((m) => m.args[0] === marker) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5))
  } finally {
    monitor.disconnect()
  }
  return seen.filter((m) => m.name !== 'echo')
}
