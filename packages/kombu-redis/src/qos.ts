/**
 * Acknowledgement emulation, in the structures Python Kombu uses, so that Python and Node
 * workers restore each other's messages:
 *
 * - `unacked` hash: delivery tag -> `[<envelope>, "<exchange>", "<routing key>"]`;
 * - `unacked_index` sorted set: delivery tag scored by the time (seconds) it was delivered;
 * - `unacked_mutex`: the lock a restore scan holds (SET NX PX, as redis-py's `Lock`).
 *
 * A scan restores (RPUSH, flagged redelivered) every message whose score is older than the
 * visibility timeout. Unlike Kombu, a holder renews the score of the messages it holds every
 * `leaseInterval` (ZADD XX), so a message held longer than the visibility timeout (a long task)
 * is not handed to a second worker while its holder lives (kombu#337); a holder that dies stops
 * renewing, and its messages come back one visibility timeout later.
 */
import { randomBytes } from 'node:crypto'
import type { Logger } from '@q/kombu'
import type { Redis } from 'ioredis'
import { parseUnacked, type Route, unackedValue } from './envelope.js'
import type { Keys } from './keys.js'
import { ACK, RESTORE, UNLOCK } from './lua.js'
import type { ResolvedOptions } from './options.js'
import { markRedelivered } from './py-json.js'

/** What the QoS needs from its connection. */
export interface QosHost {
  client(): Redis
  readonly keys: Keys
  readonly options: ResolvedOptions
  readonly logger: Logger
  /** The queues a message published with this exchange and routing key reaches (for restores). */
  route(exchange: string, routingKey: string): Promise<readonly string[]>
}

/** A record of `track` waiting for the end of the tick. */
interface PendingTrack {
  raw: string
  route: Route
  resolve: () => void
  reject: (err: unknown) => void
}

/** Longest life of our hold on `unacked_mutex` (Kombu's `unacked_mutex_expire` is 300 s). */
const LOCK_SECONDS = 10

/** Kombu's time: seconds since the epoch, as a float. */
const seconds = () => Date.now() / 1000

/** The priority written in an envelope, or 0. */
function priorityOf(envelope: string): unknown {
  try {
    return (JSON.parse(envelope) as { properties?: { priority?: unknown } }).properties?.priority
  } catch {
    return 0
  }
}

/** The unacknowledged messages of one connection, their leases and the restore scan. */
export class Qos {
  /** Tags this connection holds, with how many deliveries of each (a tag may be delivered twice). */
  private readonly held = new Map<string, number>()
  private leaseTimer: NodeJS.Timeout | undefined
  private scanTimer: NodeJS.Timeout | undefined
  private acks: string[] = []
  private tracks = new Map<string, PendingTrack>()
  private batch: Promise<void> | undefined
  private readonly sending = new Set<Promise<void>>()
  private scanning: Promise<number> | undefined
  private closed = false

  constructor(private readonly host: QosHost) {}

  /**
   * Records a message taken by BRPOP as unacknowledged (the fetch script records its own). The
   * record leaves at the end of the tick, as two commands (not a MULTI, which ioredis writes to
   * the socket on its own): on loopback every write is a system call that runs the whole TCP
   * path, and these join the fetch and the acks of the tick in one (the connection's
   * WriteCoalescer). A message acked
   * within the same tick (an early ack) is never recorded: its record would be deleted by the
   * next command. Either way the window is Kombu's, between its BRPOP and its HSET.
   *
   * The entry goes in before its index entry, and the index entry is scored now, so a restore
   * scan (which takes only entries older than the visibility timeout) never sees one alone.
   */
  track(tag: string, raw: string, route: Route): Promise<void> {
    if (this.tracks.has(tag)) this.flushTracks() // the same message twice in one tick
    return new Promise<void>((resolve, reject) => {
      this.tracks.set(tag, { raw, route, resolve, reject })
      if (this.tracks.size === 1) process.nextTick(() => this.flushTracks())
    })
  }

  /** Sends the records of `track` not sent yet (before anything else about their messages). */
  private flushTracks(): void {
    if (this.tracks.size === 0) return
    const pending = this.tracks
    this.tracks = new Map()
    const { keys } = this.host
    const client = this.host.client()
    for (const [tag, t] of pending) {
      Promise.all([
        client.hset(keys.unacked, tag, unackedValue(t.raw, t.route)),
        client.zadd(keys.unackedIndex, seconds(), tag),
      ]).then(() => t.resolve(), t.reject)
    }
  }

  /** Starts renewing the lease of `tag`. */
  hold(tag: string): void {
    this.held.set(tag, (this.held.get(tag) ?? 0) + 1)
    if (!this.leaseTimer) {
      this.leaseTimer = setInterval(() => void this.renew(), this.host.options.leaseInterval * 1000)
      this.leaseTimer.unref()
    }
  }

  /** Stops renewing the lease of `tag` (acked, rejected or given back). */
  release(tag: string): void {
    const n = this.held.get(tag) ?? 0
    if (n > 1) this.held.set(tag, n - 1)
    else this.held.delete(tag)
  }

  /** Tags held now (restored after a reconnection when the connection is lost). */
  heldTags(): string[] {
    return [...this.held.keys()]
  }

  /**
   * Acknowledges; acks of the same tick go to Redis in one script call. The batch closes at the
   * end of the tick (process.nextTick), not in the next turn of the event loop: the script call
   * then joins the other commands of this tick (the fetch, the record of a BRPOP'd message) in
   * one socket write (the connection's WriteCoalescer).
   */
  ack(tag: string): Promise<void> {
    this.release(tag)
    const tracked = this.tracks.get(tag)
    if (tracked) {
      // Taken and acked in the same tick: nothing of it has reached Redis, nothing needs to.
      this.tracks.delete(tag)
      tracked.resolve()
      return Promise.resolve()
    }
    this.acks.push(tag)
    this.batch ??= new Promise<void>((r) => process.nextTick(r)).then(() => {
      this.flushTracks()
      const tags = this.acks
      this.acks = []
      this.batch = undefined
      const { keys } = this.host
      return ACK.run(this.host.client(), [keys.unacked, keys.unackedIndex], tags).then(() => {})
    })
    const sent = this.batch
    this.sending.add(sent)
    void sent.then(
      () => this.sending.delete(sent),
      () => this.sending.delete(sent),
    )
    return sent
  }

  /** Waits for the acks already given to reach Redis (before the connection closes). */
  async flush(): Promise<void> {
    this.flushTracks()
    await Promise.allSettled([...this.sending])
  }

  /**
   * Gives `tag` back: removes it from the unacked structures and pushes `payload` to `lists`
   * (LPUSH: behind the others, as Kombu's reject; RPUSH: next in line, as its restore), unless
   * someone else restored it first. Resolves with whether it was pushed.
   */
  async restore(
    tag: string,
    payload: string,
    lists: readonly string[],
    push: 'LPUSH' | 'RPUSH',
  ): Promise<boolean> {
    this.release(tag)
    // Its record (if not sent yet) goes first, so that the restore removes it.
    this.flushTracks()
    const { keys } = this.host
    const r = await RESTORE.run(
      this.host.client(),
      [keys.unacked, keys.unackedIndex, ...lists],
      [tag, push, payload, '', '', '1'],
    )
    return r === 1
  }

  /** Starts the restore scan: now, then every few seconds (Kombu: at poller start and now and then). */
  activate(): void {
    if (this.scanTimer) return
    const vt = this.host.options.visibilityTimeout
    const every = Math.min(10, Math.max(0.25, vt / 4)) * 1000
    this.scanTimer = setInterval(
      () => void this.scan().catch((e) => this.host.logger.debug('restore scan failed', e)),
      every,
    )
    this.scanTimer.unref()
    void this.scan().catch((e) => this.host.logger.debug('restore scan failed', e))
  }

  /** Restores every message whose lease expired (Kombu's `restore_visible`), under the shared mutex. */
  scan(): Promise<number> {
    if (this.closed) return Promise.resolve(0)
    const run = this.scanOnce().finally(() => {
      if (this.scanning === run) this.scanning = undefined
    })
    this.scanning = run
    return run
  }

  private async scanOnce(): Promise<number> {
    const { keys, options } = this.host
    const client = this.host.client()
    const token = randomBytes(16).toString('hex')
    // Held briefly: our restores are atomic (RESTORE re-checks the entry), so the lock only keeps
    // Python's scans out meanwhile; a short life limits the wait when a holder dies with it.
    const life = Math.min(
      options.unackedMutexExpire,
      LOCK_SECONDS,
      Math.max(1, options.visibilityTimeout / 2),
    )
    const ttl = Math.round(life * 1000)
    const locked = await client.set(keys.unackedMutex, token, 'PX', ttl, 'NX')
    if (locked !== 'OK') return 0
    let restored = 0
    try {
      const ceil = seconds() - options.visibilityTimeout
      const limit = options.unackedRestoreLimit
      const found = limit
        ? await client.zrevrangebyscore(keys.unackedIndex, ceil, 0, 'LIMIT', 0, limit)
        : await client.zrevrangebyscore(keys.unackedIndex, ceil, 0)
      for (const tag of found) {
        if (this.held.has(tag)) continue // ours and alive: its renewal is merely late
        if (await this.restoreExpired(client, tag, ceil)) restored++
      }
    } finally {
      await UNLOCK.run(client, [keys.unackedMutex], [token]).catch(() => {})
    }
    return restored
  }

  /** Stops the timers; resolves once a scan in progress has released the lock. */
  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.leaseTimer)
    clearInterval(this.scanTimer)
    await this.scanning?.catch(() => {})
  }

  private async restoreExpired(client: Redis, tag: string, ceil: number): Promise<boolean> {
    const { keys, logger } = this.host
    const base = [keys.unacked, keys.unackedIndex]
    const value = await client.hget(keys.unacked, tag)
    const parsed = value === null ? undefined : parseUnacked(value)
    if (value === null || !parsed) {
      if (value !== null) logger.warn(`dropping unreadable unacked entry ${tag}`)
      await RESTORE.run(client, base, [tag, 'RPUSH', '', value ?? '', String(ceil), '1'])
      return false
    }
    let payload = parsed.envelope
    try {
      payload = markRedelivered(parsed.envelope)
    } catch {
      // Not JSON: give it back as it is; the consumer's decode-error path will see it.
    }
    const step = keys.step(priorityOf(parsed.envelope))
    const lists = (await this.host.route(parsed.exchange, parsed.routingKey)).map((q) => keys.bucket(q, step))
    const r = await RESTORE.run(
      client,
      [...base, ...lists],
      [tag, 'RPUSH', payload, value, String(ceil), '1'],
    )
    return r === 1
  }

  private async renew(): Promise<void> {
    if (this.held.size === 0) return
    const tags = [...this.held.keys()]
    const client = this.host.client()
    for (let i = 0; i < tags.length; i += 500) {
      const now = seconds()
      const args = tags.slice(i, i + 500).flatMap((t) => [now, t])
      await client
        .zadd(this.host.keys.unackedIndex, 'XX', ...args)
        .catch((e) => this.host.logger.debug('lease renewal failed', e))
    }
  }
}
