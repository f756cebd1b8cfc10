/**
 * One subscriber connection per backend, shared by every waiter (as Celery's ResultConsumer):
 * a channel is SUBSCRIBEd when its first listener comes and UNSUBSCRIBEd when its last goes.
 * After a reconnect the channels are subscribed again and their keys read, because a result
 * published while the connection was down is not delivered again (Celery's `_reconnect_pubsub`).
 */
import { CeleryError } from '@q/celery'
import type { Redis } from 'ioredis'
import { disconnectQuietly } from './disconnect.js'

/** Called with every message published on a channel. */
export type Listener = (value: Buffer) => void

interface Channel {
  readonly listeners: Set<Listener>
  /** Settles when the server has confirmed the SUBSCRIBE. */
  readonly subscribed: Promise<void>
}

/** Multiplexes pub/sub channels over one ioredis connection. */
export class Subscriber {
  private readonly channels = new Map<string, Channel>()
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
  async subscribe(channel: string, listener: Listener): Promise<() => Promise<void>> {
    if (this.closed)
      throw new CeleryError('The Redis result backend is closed: create a new one to wait for results')
    let entry = this.channels.get(channel)
    if (!entry) {
      const created: Channel = {
        listeners: new Set(),
        subscribed: this.conn()
          .subscribe(channel)
          .then(
            () => undefined,
            (err: Error) => {
              if (this.channels.get(channel) === created) this.channels.delete(channel)
              throw err
            },
          ),
      }
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
      await this.connection?.unsubscribe(channel).catch(() => undefined)
    }
    try {
      await entry.subscribed
    } catch (err) {
      current.listeners.delete(listener)
      throw err
    }
    return unsubscribe
  }

  /** Disconnects; listeners get nothing more. Idempotent. */
  close(): void {
    this.closed = true
    this.channels.clear()
    if (this.connection) disconnectQuietly(this.connection)
  }

  private conn(): Redis {
    if (this.connection) return this.connection
    const c = this.connect()
    c.on('messageBuffer', (channel: Buffer, message: Buffer) => this.dispatch(channel.toString(), message))
    c.on('ready', () => {
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
