/**
 * Waiting without sleeping: an Inbox records what a consumer receives and resolves promises
 * when enough has arrived, and `eventually` polls a condition on the broker (a queue size)
 * until it holds. Both fail with a message that says what was expected and what was seen.
 */
import type { Message, MessageHandler } from '@q/kombu'

interface Waiter {
  readonly ready: () => boolean
  readonly resolve: () => void
}

/** Options of an {@link Inbox}. */
export interface InboxOptions {
  /** Milliseconds `collect` and `until` wait by default. Default 2000. */
  timeout?: number
  /** Ack every message as it arrives (after recording it). Default false. */
  ack?: boolean
  /** Name used in timeout messages. */
  label?: string
}

/** What a consumer received, in arrival order, with promises that resolve as it arrives. */
export class Inbox<T = unknown> {
  /** Every message received so far. */
  readonly messages: Message<T>[] = []
  /** `Date.now()` at each arrival, index for index with `messages`. */
  readonly arrivals: number[] = []
  /** Errors of the automatic acks (`ack: true`); a test should end with none. */
  readonly ackErrors: unknown[] = []
  private readonly waiters = new Set<Waiter>()
  private readonly timeout: number
  private readonly label: string

  constructor(private readonly options: InboxOptions = {}) {
    this.timeout = options.timeout ?? 2000
    this.label = options.label ?? 'inbox'
  }

  /** The handler to give a Consumer (`onMessage: inbox.onMessage`). */
  readonly onMessage: MessageHandler<T> = (_body, message) => {
    this.messages.push(message)
    this.arrivals.push(Date.now())
    // Acking before waking the waiters, so a test that resumes sees the message settled.
    if (this.options.ack) message.ack().catch((err: unknown) => this.ackErrors.push(err))
    for (const w of [...this.waiters]) {
      if (w.ready()) {
        this.waiters.delete(w)
        w.resolve()
      }
    }
  }

  /** The decoded bodies received so far. */
  get bodies(): T[] {
    return this.messages.map((m) => m.body)
  }

  /**
   * Resolves with the first `n` messages once `n` have arrived; rejects after `timeout` ms,
   * saying how many came.
   */
  collect(n: number, timeout = this.timeout): Promise<Message<T>[]> {
    return this.wait(
      () => this.messages.length >= n,
      () => this.messages.slice(0, n),
      timeout,
      `${n} message(s)`,
    )
  }

  /**
   * Resolves once a message matching `predicate` has arrived, with every message up to and
   * including it; rejects after `timeout` ms.
   */
  until(
    predicate: (message: Message<T>) => boolean,
    timeout = this.timeout,
    what = 'the awaited message',
  ): Promise<Message<T>[]> {
    const index = () => this.messages.findIndex(predicate)
    return this.wait(
      () => index() >= 0,
      () => this.messages.slice(0, index() + 1),
      timeout,
      what,
    )
  }

  private wait(
    ready: () => boolean,
    result: () => Message<T>[],
    timeout: number,
    what: string,
  ): Promise<Message<T>[]> {
    if (ready()) return Promise.resolve(result())
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        ready,
        resolve: () => {
          clearTimeout(timer)
          resolve(result())
        },
      }
      const timer = setTimeout(() => {
        this.waiters.delete(waiter)
        reject(
          new Error(
            `${this.label}: timed out after ${timeout} ms waiting for ${what}; received ${this.messages.length}: ${preview(this.bodies)}`,
          ),
        )
      }, timeout)
      this.waiters.add(waiter)
    })
  }
}

/**
 * Polls `probe` every `interval` ms until it returns `expected` (compared with Object.is), and
 * resolves with it; rejects after `timeout` ms with the last value seen.
 */
export async function eventually<V>(
  probe: () => Promise<V> | V,
  expected: V,
  options: { timeout?: number; interval?: number; what?: string } = {},
): Promise<V> {
  const { timeout = 2000, interval = 5, what = 'condition' } = options
  const deadline = Date.now() + timeout
  for (;;) {
    const value = await probe()
    if (Object.is(value, expected)) return value
    if (Date.now() >= deadline) {
      throw new Error(
        `timed out after ${timeout} ms waiting for ${what} to be ${String(expected)}; last value: ${String(value)}`,
      )
    }
    await new Promise((r) => setTimeout(r, interval))
  }
}

/** Resolves after `ms`: only for letting time pass on purpose (a TTL lapsing), never to wait for an event. */
export function elapse(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

function preview(values: unknown[]): string {
  const shown = values.slice(0, 10).map((v) => {
    if (Buffer.isBuffer(v)) return `<Buffer ${v.length} bytes>`
    const s = JSON.stringify(v) ?? String(v)
    return s.length > 60 ? `${s.slice(0, 57)}...` : s
  })
  return `[${shown.join(', ')}${values.length > 10 ? `, ... ${values.length - 10} more` : ''}]`
}
