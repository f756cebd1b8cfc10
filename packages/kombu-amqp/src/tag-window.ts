/**
 * The delivery tags of one amqplib channel that still wait for a settlement, as a ring of states
 * from the oldest one held. Tags grow by one per delivery on a channel, so the window is dense:
 * every operation is O(1) (amortised), where a Set of tags paid for a walk over deleted entries
 * at each batch of acks. A tag delivered with noAck leaves a free slot (one byte) in the window
 * while an older tag is still held.
 */

const FREE = 0
const HELD = 1
const PENDING = 2

/** The unsettled delivery tags of a channel: held, or held with an ack pending. */
export class TagWindow {
  private states = new Uint8Array(256)
  private mask = 255
  /** Ring index of `base`. */
  private head = 0
  /** The oldest tag in the window (always held or pending while the window is not empty). */
  private base = 0
  /** Tags covered, from `base`. */
  private length = 0
  private held = 0

  /** Tags held or pending. */
  get size(): number {
    return this.held
  }

  /** A delivery to settle later. Tags come in increasing order; an older one than the window is ignored. */
  add(tag: number): void {
    if (this.length === 0) {
      this.base = tag
      this.head = 0
    } else if (tag < this.base) return
    const offset = tag - this.base
    if (offset > this.mask) this.grow(offset + 1)
    const i = (this.head + offset) & this.mask
    if (this.states[i] === FREE) this.held++
    this.states[i] = HELD
    if (offset >= this.length) this.length = offset + 1
  }

  /** Whether `tag` is held and no ack is pending for it. */
  isHeld(tag: number): boolean {
    return this.stateOf(tag) === HELD
  }

  /** Marks a held tag as being acked; false if it is not held (or already pending). */
  markPending(tag: number): boolean {
    if (this.stateOf(tag) !== HELD) return false
    this.states[(this.head + tag - this.base) & this.mask] = PENDING
    return true
  }

  /**
   * The run of oldest tags that are all pending (free slots in between do not break it, since the
   * broker holds nothing there): how many, and the last one.
   */
  pendingPrefix(): { last: number; count: number } {
    let count = 0
    let last = 0
    for (let i = 0; i < this.length; i++) {
      const s = this.states[(this.head + i) & this.mask]
      if (s === HELD) break
      if (s === PENDING) {
        count++
        last = this.base + i
      }
    }
    return { last, count }
  }

  /** Forgets one tag (acked or rejected). */
  settle(tag: number): void {
    if (tag < this.base || tag >= this.base + this.length) return
    const i = (this.head + tag - this.base) & this.mask
    if (this.states[i] === FREE) return
    this.states[i] = FREE
    this.held--
    this.trim()
  }

  /** Forgets every tag up to `tag` (a `multiple` ack). */
  settleUpTo(tag: number): void {
    const end = Math.min(tag - this.base + 1, this.length)
    for (let k = 0; k < end; k++) {
      const i = (this.head + k) & this.mask
      if (this.states[i] !== FREE) {
        this.states[i] = FREE
        this.held--
      }
    }
    this.trim()
  }

  /** Forgets everything. */
  clear(): void {
    this.states.fill(FREE)
    this.head = 0
    this.length = 0
    this.held = 0
  }

  private stateOf(tag: number): number {
    const offset = tag - this.base
    if (offset < 0 || offset >= this.length) return FREE
    return this.states[(this.head + offset) & this.mask]!
  }

  /** Drops the free slots at the front, so that the window starts at a tag still held. */
  private trim(): void {
    while (this.length > 0 && this.states[this.head] === FREE) {
      this.head = (this.head + 1) & this.mask
      this.base++
      this.length--
    }
    if (this.length === 0) this.head = 0
  }

  private grow(needed: number): void {
    let capacity = this.states.length * 2
    while (capacity < needed) capacity *= 2
    const next = new Uint8Array(capacity)
    for (let k = 0; k < this.length; k++) next[k] = this.states[(this.head + k) & this.mask]!
    this.states = next
    this.mask = capacity - 1
    this.head = 0
  }
}
