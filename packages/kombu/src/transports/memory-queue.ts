/**
 * The storage of one memory-transport queue: a FIFO per priority level, highest level first,
 * with per-message expiry. Split from memory.ts so the transport itself reads in one screen.
 */
import type { Queue } from '../queue.js'
import type { OutgoingMessage } from '../types.js'
import type { PutOptions } from '../virtual/primitives.js'

/** A stored message. */
export interface Entry {
  readonly message: OutgoingMessage
  readonly put: PutOptions
  readonly expiresAt: number
  redelivered: boolean
}

/** A FIFO with O(1) shift and unshift: an array and a moving head, compacted now and then. */
class Fifo {
  private items: Entry[] = []
  private head = 0
  get length(): number {
    return this.items.length - this.head
  }
  peek(): Entry | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined
  }
  push(e: Entry): void {
    this.items.push(e)
  }
  unshift(e: Entry): void {
    if (this.head > 0) this.items[--this.head] = e
    else this.items.unshift(e)
  }
  shift(): Entry | undefined {
    if (this.head >= this.items.length) return undefined
    const e = this.items[this.head]
    this.items[this.head++] = undefined as unknown as Entry
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return e
  }
}

/** A queue: one FIFO per priority level, the highest level served first. */
export class MemoryQueue {
  private readonly levels = new Map<number, Fifo>()
  /** Levels in use, highest first. */
  private order: number[] = []
  constructor(public spec: Queue | undefined) {}
  get size(): number {
    let n = 0
    for (const l of this.levels.values()) n += l.length
    return n
  }
  /** Drops the expired messages at the head of each level, as RabbitMQ does, so they are not counted. */
  prune(now: number): void {
    for (const fifo of this.levels.values()) {
      while ((fifo.peek()?.expiresAt ?? Number.POSITIVE_INFINITY) <= now) fifo.shift()
    }
  }
  clear(): void {
    this.levels.clear()
    this.order = []
  }
  push(e: Entry, front: boolean): void {
    const max = this.spec?.maxPriority ?? 0
    const level = Math.min(max, Math.max(0, Number(e.message.properties.priority) || 0))
    let fifo = this.levels.get(level)
    if (!fifo) {
      fifo = new Fifo()
      this.levels.set(level, fifo)
      this.order = [...this.levels.keys()].sort((a, b) => b - a)
    }
    front ? fifo.unshift(e) : fifo.push(e)
  }
  shift(now: number): Entry | undefined {
    for (const level of this.order) {
      const fifo = this.levels.get(level)!
      let e = fifo.shift()
      while (e && e.expiresAt <= now) e = fifo.shift() // expired: dropped (memory has no dead-lettering)
      if (e) return e
    }
    return undefined
  }
}
