/**
 * A small typed event emitter. Unlike node:events, an 'error' event with no listener does not
 * throw: connection trouble is reported, never turned into an uncaught exception.
 */

/** Maps event names to their listener argument. */
export type EventMap = Record<string, unknown>

/** Listener of one event. */
export type Listener<T> = (payload: T) => void

/** Typed on/off/once/emit. */
export class Emitter<E extends EventMap> {
  private readonly listeners = new Map<keyof E, Set<Listener<never>>>()

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    let set = this.listeners.get(event)
    if (!set) {
      set = new Set()
      this.listeners.set(event, set)
    }
    set.add(listener as Listener<never>)
    return () => this.off(event, listener)
  }

  /** Adds a listener called at most once. */
  once<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    const off = this.on(event, (payload) => {
      off()
      listener(payload)
    })
    return off
  }

  /** How many listeners `event` has (to skip building a payload nobody reads). */
  listenerCount<K extends keyof E>(event: K): number {
    return this.listeners.get(event)?.size ?? 0
  }

  off<K extends keyof E>(event: K, listener: Listener<E[K]>): void {
    this.listeners.get(event)?.delete(listener as Listener<never>)
  }

  /** Calls every listener; a listener that throws does not stop the others. */
  protected emit<K extends keyof E>(event: K, payload: E[K]): void {
    const set = this.listeners.get(event)
    if (!set) return
    for (const l of [...set]) {
      try {
        ;(l as Listener<E[K]>)(payload)
      } catch (err) {
        queueMicrotask(() => {
          throw err
        })
      }
    }
  }
}
