/**
 * The KeyValueStore of the Redis result backend, writing what Celery's RedisBackend writes: a
 * value is `SETEX key <expires> value` (plain SET when results do not expire) and `PUBLISH key
 * value` in one MULTI/EXEC, so a client subscribed to the key's channel gets every state. Reads
 * are GET/MGET. Waiters share one subscriber connection (see subscriber.ts).
 */
import type { KeyValueStore } from '@q/celery'
import { Command, type Redis } from 'ioredis'
import { disconnectQuietly } from './disconnect.js'
import { Script } from './script.js'
import { type Listener, type Opening, Subscriber } from './subscriber.js'

/**
 * GET, and unless it holds a SUCCESS meta, SET (PX when expiring) and PUBLISH on the key's name.
 * A SUCCESS already stored stays, and is published again: a client that subscribed before
 * sending the task (and reads nothing) learns the outcome from it.
 */
const SET_UNLESS_SUCCEEDED = new Script(`
local current = redis.call('GET', KEYS[1])
if current and string.find(current, '^{"status":%s*"SUCCESS"') then
  redis.call('PUBLISH', KEYS[1], current)
  return 0
end
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[1])
end
redis.call('PUBLISH', KEYS[1], ARGV[1])
return 1
`)

/** A write waiting for the end of the tick. */
interface PendingWrite {
  key: string
  value: Buffer
  ms: number
  resolve: () => void
  reject: (err: unknown) => void
}

/** Options of a RedisStore. */
export interface RedisStoreOptions {
  /** Sorted set of revoked ids, scored by expiry (unix seconds). Default `q-revoked`. */
  revokedKey?: string
  /** Creates the subscriber connection; default `client.duplicate()` with `autoResubscribe` off. */
  subscriber?: () => Redis
  /**
   * Called with the connection errors ioredis reports while it reconnects (a refused
   * connection, a TLS or AUTH failure). Commands fail on their own; by default these are only
   * kept in `lastError`.
   */
  onError?: (err: Error) => void
}

/**
 * Adds ids to the revoked set, drops the expired ones, and lets the set itself expire with its
 * last member, so a forgotten deployment leaves nothing behind.
 * KEYS[1] = set, ARGV[1] = now, ARGV[2] = expiry of the new ids, ARGV[3..] = ids.
 */
const ADD_REVOKED = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
for i = 3, #ARGV do redis.call('ZADD', KEYS[1], ARGV[2], ARGV[i]) end
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('EXPIREAT', KEYS[1], math.ceil(tonumber(last[2]))) end
return 1`

/**
 * Runs `issue`, whose commands ioredis writes at once on a connected client, with the socket
 * corked: they leave in one write. (Not yet connected, ioredis queues them and sends them
 * together anyway.)
 */
function inOneWrite(client: Redis, issue: () => void): void {
  const stream = client.status === 'ready' ? client.stream : undefined
  stream?.cork()
  try {
    issue()
  } finally {
    stream?.uncork()
  }
}

/** A KeyValueStore on ioredis. The store owns its client: close() closes it. */
export class RedisStore implements KeyValueStore, AsyncDisposable {
  /** The command connection. */
  readonly client: Redis
  private readonly subscriber: Subscriber
  private readonly revokedKey: string
  private closing: Promise<void> | undefined
  private error: Error | undefined
  private writes: PendingWrite[] = []

  constructor(client: Redis, options: RedisStoreOptions = {}) {
    this.client = client
    this.revokedKey = options.revokedKey ?? 'q-revoked'
    const name = client.options.connectionName
    const connect =
      options.subscriber ??
      (() =>
        client.duplicate({
          autoResubscribe: false,
          enableAutoPipelining: false,
          ...(name ? { connectionName: `${name}:sub` } : {}),
        }))
    const onError = (err: Error) => {
      this.error = err
      options.onError?.(err)
    }
    this.subscriber = new Subscriber(connect, (keys) => this.mget(keys), onError)
    client.on('error', onError)
  }

  /** The last connection error either connection reported, for diagnosis. */
  get lastError(): Error | undefined {
    return this.error
  }

  /** Channels with at least one waiter (one per task being waited for). */
  get subscriptions(): number {
    return this.subscriber.size
  }

  get(key: string): Promise<Buffer | null> {
    return this.client.getBuffer(key)
  }

  async mget(keys: readonly string[]): Promise<Array<Buffer | null>> {
    return keys.length === 0 ? [] : this.client.mgetBuffer(...keys)
  }

  /**
   * Celery's "a stored SUCCESS is final" check and the SETEX + PUBLISH in one script: one round
   * trip instead of a GET and then a transaction. Matches Python's `"status": "SUCCESS"` and our
   * compact JSON alike. The writes of one tick leave together, in one pipeline written at the end
   * of the tick: not in ioredis' auto-pipeline, which waits for the next turn of the event loop
   * (behind every other socket write of that turn) while a client waits for this result.
   */
  setUnlessSucceeded(key: string, value: Buffer, expiresSeconds: number | null): Promise<void> {
    const ms = !expiresSeconds || expiresSeconds <= 0 ? 0 : Math.max(1, Math.round(expiresSeconds * 1000))
    return new Promise<void>((resolve, reject) => {
      if (this.writes.push({ key, value, ms, resolve, reject }) === 1)
        process.nextTick(() => this.flushWrites())
    })
  }

  private flushWrites(): void {
    const batch = this.writes
    this.writes = []
    // The tick's writes leave in one socket write. Plain commands, not an ioredis pipeline: a
    // pipeline per result kept a worker's objects alive through young-generation collections
    // until the next full one (a third of its allocation survived each scavenge).
    inOneWrite(this.client, () => {
      for (const w of batch)
        SET_UNLESS_SUCCEEDED.send(this.client, [w.key], [w.value, w.ms]).then(() => w.resolve(), w.reject)
    })
  }

  async set(key: string, value: Buffer, expiresSeconds: number | null): Promise<void> {
    const set: Array<string | number | Buffer> =
      !expiresSeconds || expiresSeconds <= 0
        ? ['set', key, value]
        : Number.isInteger(expiresSeconds)
          ? ['setex', key, expiresSeconds, value]
          : ['set', key, value, 'PX', Math.max(1, Math.round(expiresSeconds * 1000))]
    // Same transaction as Celery's: a subscriber never sees a value the key does not hold.
    await this.transaction([set, ['publish', key, value]])
  }

  /**
   * MULTI, the commands, EXEC: in one socket write, as plain commands rather than an ioredis
   * pipeline (see flushWrites). Throws the first error of a command or of the transaction.
   */
  private async transaction(commands: Array<Array<string | number | Buffer>>): Promise<unknown[]> {
    const client = this.client
    const send = (name: string, args: Array<string | number | Buffer>) =>
      client.sendCommand(new Command(name, args, { replyEncoding: 'utf8' })) as Promise<unknown>
    const sent: Array<Promise<unknown>> = []
    inOneWrite(client, () => {
      sent.push(send('multi', []))
      for (const [name, ...args] of commands) sent.push(send(String(name), args))
      sent.push(send('exec', []))
    })
    // A command refused while queued fails the EXEC too: report the command's own error.
    const settled = await Promise.allSettled(sent)
    for (const r of settled) if (r.status === 'rejected') throw r.reason
    const replies = (settled.at(-1) as PromiseFulfilledResult<unknown>).value
    if (!Array.isArray(replies)) throw new Error('Redis aborted the transaction')
    for (const v of replies) if (v instanceof Error) throw v
    return replies
  }

  async delete(key: string): Promise<void> {
    await this.client.del(key)
  }

  incr(key: string): Promise<number> {
    return this.client.incr(key)
  }

  async expire(key: string, seconds: number): Promise<void> {
    if (Number.isInteger(seconds)) await this.client.expire(key, seconds)
    else await this.client.pexpire(key, Math.max(1, Math.round(seconds * 1000)))
  }

  subscribe(key: string, listener: Listener): Promise<() => Promise<void>> {
    return this.subscriber.subscribe(key, listener)
  }

  /** Subscribes for a task about to be sent: the SUBSCRIBE leaves now, ahead of the task. */
  watch(key: string, listener: Listener): Opening {
    return this.subscriber.open(key, listener)
  }

  /** Remembers revoked ids until `expiresAtSeconds` (q only: Python workers keep theirs in memory). */
  async addRevoked(ids: readonly string[], expiresAtSeconds: number): Promise<void> {
    if (ids.length === 0) return
    const now = String(Date.now() / 1000)
    await this.client.eval(ADD_REVOKED, 1, this.revokedKey, now, String(expiresAtSeconds), ...ids)
  }

  /** The revoked ids that expire after `nowSeconds`; drops the others. */
  async listRevoked(nowSeconds: number): Promise<string[]> {
    const [, ids] = await this.transaction([
      ['zremrangebyscore', this.revokedKey, '-inf', String(nowSeconds)],
      ['zrange', this.revokedKey, '0', '-1'],
    ])
    return ids as string[]
  }

  /** Closes both connections, letting sent commands finish. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.subscriber.close()
      if (this.client.status === 'ready') await this.client.quit().catch(() => undefined)
      disconnectQuietly(this.client)
    })()
    return this.closing
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}
