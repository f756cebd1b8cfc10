/**
 * The requests a worker holds (reserved, running, or waiting for their ETA), in arrival order.
 *
 * A doubly linked list threaded through the requests themselves: adding and removing cost two
 * pointer writes and allocate nothing. A Map keyed by task id did the same job for every task
 * but, filling up to the prefetch window and emptying again all the time, V8 rebuilt its table
 * each time it shrank (measured: ~5% of a memory:// worker's time, ~300 bytes of garbage per
 * task). Lookups by id come from remote control (revoke, query_task) and walk the list: at most
 * the prefetch window, and rare.
 */

/** What the list needs of an item: its id and two links it alone writes. */
export interface Listed<T> {
  readonly id: string
  /** @internal the list's links; undefined while the item is not listed */
  listPrev: T | undefined
  /** @internal */
  listNext: T | undefined
  /** @internal whether the item is in a list */
  listed: boolean
}

/** A read-mostly view of the held requests, by task id (as a Map's read side). */
export class ActiveRequests<T extends Listed<T>> implements Iterable<T> {
  private head: T | undefined
  private tail: T | undefined
  private count = 0

  /** Requests held. */
  get size(): number {
    return this.count
  }

  /** Adds `item` at the end; an item already listed stays where it is. */
  add(item: T): void {
    if (item.listed) return
    item.listed = true
    item.listPrev = this.tail
    item.listNext = undefined
    if (this.tail) this.tail.listNext = item
    else this.head = item
    this.tail = item
    this.count++
  }

  /** Removes `item`; an item not listed is ignored. */
  remove(item: T): void {
    if (!item.listed) return
    const { listPrev: prev, listNext: next } = item
    if (prev) prev.listNext = next
    else this.head = next
    if (next) next.listPrev = prev
    else this.tail = prev
    item.listPrev = undefined
    item.listNext = undefined
    item.listed = false
    this.count--
  }

  /** The first request held with task id `id`. */
  get(id: string): T | undefined {
    for (let r = this.head; r; r = r.listNext) if (r.id === id) return r
    return undefined
  }

  has(id: string): boolean {
    return this.get(id) !== undefined
  }

  /** Removes every request with task id `id`. */
  delete(id: string): void {
    for (let r = this.head; r; ) {
      const next = r.listNext
      if (r.id === id) this.remove(r)
      r = next
    }
  }

  /** The requests, oldest first (the current one may be removed meanwhile, not others). */
  *values(): IterableIterator<T> {
    for (let r = this.head; r; ) {
      const next = r.listNext
      yield r
      r = next
    }
  }

  [Symbol.iterator](): IterableIterator<T> {
    return this.values()
  }
}
