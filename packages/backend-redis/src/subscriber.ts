/**
 * One subscriber connection per backend, shared by every waiter (as Celery's ResultConsumer):
 * a channel is SUBSCRIBEd when its first listener comes and UNSUBSCRIBEd when its last goes.
 * After a reconnect the channels are subscribed again and their keys read, because a result
 * published while the connection was down is not delivered again (Celery's `_reconnect_pubsub`).
 *
 * UNSUBSCRIBEs linger a few milliseconds and leave together: on loopback every socket write is a
 * system call that runs the whole TCP path, and a client waiting for one result after another
 * would otherwise pay one per result. A channel subscribed again meanwhile simply stays.
 */
import { CeleryError } from '@q/celery'
import type { Redis } from 'ioredis'
import { disconnectQuietly } from './disconnect.js'

/** Called with every message published on a channel. */
export type Listener = (value: Buffer) => void

/** A subscription being made: see `Subscriber.open`. */
export interface Opening {
  /**
   * True when the SUBSCRIBE was written to a connected socket by the call (or the channel was
   * subscribed already): anything published after the call returned reaches the listener.
   */
  readonly inPlace: boolean
  /** Resolves once the server confirmed, with the unsubscribe function. */
  readonly subscribed: Promise<() => Promise<void>>
}

/** How long UNSUBSCRIBEs wait to leave together, ms. */
const UNSUBSCRIBE_LINGER_MS = 10

interface Channel {
  readonly listeners: Set<Listener>
  /** Settles when the server has confirmed the SUBSCRIBE. */
  readonly subscribed: Promise<void>
  /** The SUBSCRIBE was on the socket when the channel was opened (see `Opening.inPlace`). */
  readonly inPlace: boolean
}

/** Multiplexes pub/sub channels over one ioredis connection. */
export class Subscriber {
  private readonly channels = new Map<string, Channel>()
  /** Channels still subscribed on the server, whose UNSUBSCRIBE has not left yet. */
  private readonly lingering = new Set<string>()
  private lingerTimer: NodeJS.Timeout | undefined
  private connection: Redis | undefined
  private connectedOnce = false
  private closed = false

  /**
   * @param connect - creates the subscriber connection (with ioredis' `autoResubscribe` off).
   * @param read - reads the current values of keys, for the catch-up after a reconnect.
   * @param onError - receives the connection's errors (ioredis reconnects by itself).
   */
  constructor(
    private readonly connect: () => Redis,
    private readonly read: (keys: string[]) => Promise<Array<Buffer | null>>,
    private readonly onError: (err: Error) => void = () => {},
  ) {}

  /** Channels with at least one listener. */
  get size(): number {
    return this.channels.size
  }

  /** Subscribes `listener` to `channel`; resolves once the server confirmed; returns the unsubscribe. */
  subscribe(channel: string, listener: Listener): Promise<() => Promise<void>> {
    try {
      return this.open(channel, listener).subscribed
    } catch (err) {
      return Promise.reject(err)
    }
  }

  /**
   * Subscribes `listener` to `channel` without waiting for the server: the SUBSCRIBE is written
   * now when the connection is up, so a caller that sends a task right after is subscribed
   * before its result can be published. Throws when the subscriber is closed.
   */
  open(channel: string, listener: Listener): Opening {
    if (this.closed)
      throw new CeleryError('The Redis result backend is closed: create a new one to wait for results')
    let entry = this.channels.get(channel)
    if (!entry) {
      const conn = this.conn()
      let subscribed: Promise<void>
      let inPlace = true
      if (this.lingering.delete(channel)) {
        // Its UNSUBSCRIBE has not left: the server still has it.
        subscribed = Promise.resolve()
      } else {
        // ioredis writes a command to the socket at once when the connection is ready (this
        // connection does not auto-pipeline); otherwise it is queued until the connection is.
        inPlace = conn.status === 'ready'
        subscribed = conn.subscribe(channel).then(
          () => undefined,
          (err: Error) => {
            if (this.channels.get(channel) === created) this.channels.delete(channel)
            throw err
          },
        )
      }
      const created: Channel = { listeners: new Set(), subscribed, inPlace }
      entry = created
      this.channels.set(channel, entry)
    }
    entry.listeners.add(listener)
    const current = entry
    const unsubscribe = async () => {
      current.listeners.delete(listener)
      if (current.listeners.size > 0 || this.channels.get(channel) !== current) return
      this.channels.delete(channel)
      // A SUBSCRIBE for the same channel sent after this UNSUBSCRIBE is applied after it, in order.
      this.linger(channel)
    }
    const subscribed = current.subscribed.then(
      () => unsubscribe,
      (err: unknown) => {
        current.listeners.delete(listener)
        throw err
      },
    )
    return { inPlace: current.inPlace, subscribed }
  }

  /** Queues the UNSUBSCRIBE of `channel`, to leave with the others of the next few milliseconds. */
  private linger(channel: string): void {
    if (!this.connection) return
    this.lingering.add(channel)
    this.lingerTimer ??= setTimeout(() => this.flushUnsubscribes(), UNSUBSCRIBE_LINGER_MS)
    this.lingerTimer.unref?.()
  }

  private flushUnsubscribes(): void {
    this.lingerTimer = undefined
    const channels = [...this.lingering]
    this.lingering.clear()
    if (channels.length && this.connection && !this.closed)
      this.connection.unsubscribe(...channels).catch(() => undefined)
  }

  /** Disconnects; listeners get nothing more. Idempotent. */
  close(): void {
    this.closed = true
    this.channels.clear()
    this.lingering.clear()
    clearTimeout(this.lingerTimer)
    if (this.connection) disconnectQuietly(this.connection)
  }

  private conn(): Redis {
    if (this.connection) return this.connection
    const c = this.connect()
    c.on('messageBuffer', (channel: Buffer, message: Buffer) => this.dispatch(channel.toString(), message))
    c.on('ready', () => {
      // A new connection has no subscriptions: nothing lingers on it.
      this.lingering.clear()
      if (this.connectedOnce) void this.resume(c)
      this.connectedOnce = true
    })
    c.on('error', this.onError)
    this.connection = c
    return c
  }

  private dispatch(channel: string, value: Buffer): void {
    const entry = this.channels.get(channel)
    // A copy: a listener that resolves its waiter unsubscribes while we iterate.
    if (entry) for (const l of [...entry.listeners]) l(value)
  }

  /** After a reconnect: subscribe again first, then read, so nothing falls in between. */
  private async resume(c: Redis): Promise<void> {
    const keys = [...this.channels.keys()]
    if (keys.length === 0) return
    try {
      await c.subscribe(...keys)
      const values = await this.read(keys)
      keys.forEach((key, i) => {
        const v = values[i]
        if (v) this.dispatch(key, v)
      })
    } catch (err) {
      // Lost again: the next 'ready' tries again.
      this.onError(err as Error)
    }
  }
}
