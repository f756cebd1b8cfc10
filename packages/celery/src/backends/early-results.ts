/**
 * Subscriptions made when a task is sent, before anybody waits for its result (Celery's
 * `ResultConsumer.consume_from` in `on_task_call`): the SUBSCRIBE leaves ahead of the task
 * message, so the result is pushed to the client without a read, and a result published before
 * `get()` is called is kept until then. A final state ends the subscription at once; at most
 * `max` subscriptions and early results are kept, the oldest dropped first (a waiter that finds
 * none subscribes and reads, as without them).
 */
import type { StoreWatch } from './key-value.js'

/** The subscription of one sent task. */
export interface EarlyWatch {
  /** See `StoreWatch.inPlace`. */
  readonly inPlace: boolean
  /** Resolves with the unsubscribe function once subscribed. */
  readonly subscribed: Promise<() => Promise<void> | void>
  /** The latest value published while nobody listened. */
  readonly last: Buffer | undefined
  /** Where values go once a waiter has taken the watch. */
  listener: ((value: Buffer) => void) | undefined
}

interface Entry {
  inPlace: boolean
  subscribed: Promise<() => Promise<void> | void>
  last: Buffer | undefined
  listener: ((value: Buffer) => void) | undefined
}

function release(entry: Entry): void {
  entry.subscribed.then(
    (unsubscribe) => void unsubscribe(),
    () => undefined,
  )
}

/** The early subscriptions of one backend. */
export class EarlyWatches {
  private readonly entries = new Map<string, Entry>()

  /**
   * @param max - most subscriptions and unclaimed results kept.
   * @param isFinal - whether a published value is a final state (the subscription can end).
   */
  constructor(
    private readonly max: number,
    private readonly isFinal: (value: Buffer) => boolean,
  ) {}

  /** How many are kept. */
  get size(): number {
    return this.entries.size
  }

  /** Subscribes to `key` through `watch`, unless already subscribed. */
  start(key: string, watch: (key: string, listener: (value: Buffer) => void) => StoreWatch): void {
    if (this.entries.has(key)) return
    const entry: Entry = {
      inPlace: false,
      subscribed: Promise.resolve(() => undefined),
      last: undefined,
      listener: undefined,
    }
    const opened = watch(key, (value) => {
      if (entry.listener) return entry.listener(value)
      entry.last = value
      if (this.isFinal(value)) release(entry)
    })
    entry.inPlace = opened.inPlace
    entry.subscribed = opened.subscribed
    opened.subscribed.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key)
    })
    this.entries.set(key, entry)
    if (this.entries.size > this.max) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [string, Entry]
      this.entries.delete(oldestKey)
      release(oldest)
    }
  }

  /** Hands the watch of `key` to a waiter (who unsubscribes when done), if there is one. */
  take(key: string): EarlyWatch | undefined {
    const entry = this.entries.get(key)
    if (entry) this.entries.delete(key)
    return entry
  }

  /** Forgets `key`, ending its subscription. */
  drop(key: string): void {
    const entry = this.take(key)
    if (entry) release(entry as Entry)
  }

  /** Ends every subscription. */
  clear(): void {
    for (const entry of this.entries.values()) release(entry)
    this.entries.clear()
  }
}
