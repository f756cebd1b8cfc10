/**
 * A Lamport clock, as Kombu's `LamportClock`: a counter that every process moves forward when it
 * sends, and past the sender's value when it receives, so that messages can be ordered across
 * processes without synchronized wall clocks. Remote-control requests and replies carry it in
 * their `clock` header; Celery's events carry it too.
 */

/** A logical clock shared by the senders and receivers of one process. */
export class LamportClock {
  /** The current value. */
  value: number

  constructor(initial = 0) {
    this.value = initial
  }

  /** Moves past a value received from another process: `max(value, other) + 1`. */
  adjust(other: number): number {
    const n = Number(other)
    this.value = Math.max(this.value, Number.isFinite(n) ? Math.trunc(n) : 0) + 1
    return this.value
  }

  /** Moves forward for an event of our own (a send); returns the new value. */
  forward(): number {
    this.value += 1
    return this.value
  }
}
