/**
 * Delayed delivery (ours; Kombu has none on Redis): `publish(..., { delay })` adds the message to
 * the queue's sorted set `<queue>\x06\x16delayed`, scored by its due time in milliseconds, as
 * `<priority step>:<envelope>`. The fetch script moves due messages to their bucket list, tail
 * first as a fresh publish, in the same atomic step as it pops; Python workers only ever see them
 * arrive in the list. So delayed work never sits unacknowledged in a consumer (Kombu/Celery's
 * ETA messages do, and come back after the visibility timeout: kombu#337).
 *
 * This timer wakes consumers blocked in BRPOP when a delayed message falls due: at once for
 * messages published through this connection, within `pollMs` for those published elsewhere.
 */
import type { Logger } from '@q/kombu'

/** Moves due messages of `queues`; resolves with the earliest due time left (ms), if any. */
export type Promote = (queues: readonly string[]) => Promise<number | undefined>

/** The delayed-delivery timer of one connection. */
export class DelayTimer {
  private readonly watched = new Map<object, readonly string[]>()
  private timer: NodeJS.Timeout | undefined
  private dueAt = Number.POSITIVE_INFINITY
  private closed = false

  constructor(
    private readonly promote: Promote,
    private readonly pollMs: number,
    private readonly logger: Logger,
  ) {}

  /** Promotes delayed messages of `queues` for as long as `owner` (a consuming channel) watches. */
  watch(owner: object, queues: readonly string[]): void {
    const before = this.watched.get(owner)
    this.watched.set(owner, queues)
    if (!before || queues.some((q) => !before.includes(q))) this.schedule(Date.now())
  }

  unwatch(owner: object): void {
    this.watched.delete(owner)
  }

  /** A message due at `at` (ms) was published through this connection. */
  due(at: number): void {
    if (this.watched.size) this.schedule(at)
  }

  close(): void {
    this.closed = true
    clearTimeout(this.timer)
  }

  private schedule(at: number): void {
    if (this.closed || (this.timer && at >= this.dueAt)) return
    clearTimeout(this.timer)
    this.dueAt = at
    this.timer = setTimeout(() => void this.run(), Math.max(0, at - Date.now()))
    this.timer.unref()
  }

  private async run(): Promise<void> {
    this.timer = undefined
    this.dueAt = Number.POSITIVE_INFINITY
    const queues = [...new Set([...this.watched.values()].flat())]
    if (queues.length === 0 || this.closed) return
    let earliest: number | undefined
    try {
      earliest = await this.promote(queues)
    } catch (err) {
      this.logger.debug('could not promote delayed messages', err)
    }
    // A due() during the promote may have set an earlier timer: schedule() keeps it.
    this.schedule(Math.min(earliest ?? Number.POSITIVE_INFINITY, Date.now() + this.pollMs))
  }
}
