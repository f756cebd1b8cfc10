/**
 * Subscriptions made when a task is sent (`onTaskCall`), over a memory store that can `watch`,
 * once the backend has waited for a result: the result is pushed to the waiter without a read,
 * also when it came before `get()`; a subscription not in place in time falls back to
 * subscribe-then-read; the number kept is bounded.
 */
import { SerializerRegistry } from '@q/kombu'
import { describe, expect, it, vi } from 'vitest'
import type { StoreWatch } from './key-value.js'
import { KeyValueBackend } from './key-value.js'
import { MemoryStore } from './memory.js'

/** A memory store with `watch`, counting reads and live subscriptions. */
class WatchingStore extends MemoryStore {
  reads = 0
  live = 0
  constructor(private readonly inPlace = true) {
    super()
  }
  override async get(key: string): Promise<Buffer | null> {
    this.reads++
    return super.get(key)
  }
  watch(key: string, listener: (value: Buffer) => void): StoreWatch {
    this.live++
    const subscribed = this.subscribe(key, listener).then((unsubscribe) => {
      let once = false
      return () => {
        if (once) return
        once = true
        this.live--
        unsubscribe()
      }
    })
    return { inPlace: this.inPlace, subscribed }
  }
}

const meta = (id: string, status: string, result: unknown = null) =>
  Buffer.from(JSON.stringify({ status, result, traceback: null, children: [], date_done: null, task_id: id }))

/** A backend that has waited once (early subscriptions start with the first wait). */
async function setup(inPlace = true) {
  const store = new WatchingStore(inPlace)
  const b = new KeyValueBackend({ url: 'memory://early', store, serializers: new SerializerRegistry() })
  await store.set(b.key('first'), meta('first', 'SUCCESS'), null)
  await b.waitForReady('first')
  store.reads = 0
  return { b, store }
}

describe('onTaskCall', () => {
  it('subscribes only once the backend has waited for a result', async () => {
    const store = new WatchingStore()
    const b = new KeyValueBackend({ url: 'memory://early', store, serializers: new SerializerRegistry() })
    b.onTaskCall('t0')
    expect(store.live).toBe(0)
    await store.set(b.key('t0'), meta('t0', 'SUCCESS', 0), null)
    expect((await b.waitForReady('t0')).result).toBe(0)
    b.onTaskCall('t00')
    expect(store.live).toBe(1)
  })

  it('keeps a result published before get() and hands it over without a read', async () => {
    const { b, store } = await setup()
    b.onTaskCall('t1')
    await store.set(b.key('t1'), meta('t1', 'SUCCESS', 7), null)
    await new Promise((r) => setImmediate(r))
    expect(store.live).toBe(0) // a final state ends the subscription at once
    const reads = store.reads
    expect((await b.waitForReady('t1')).result).toBe(7)
    expect(store.reads).toBe(reads)
  })

  it('pushes a result published while waiting, with no read when the subscription was in place', async () => {
    const { b, store } = await setup()
    b.onTaskCall('t2')
    const updates: string[] = []
    const waiting = b.waitForReady('t2', { onUpdate: (m) => updates.push(m.status) })
    await new Promise((r) => setImmediate(r))
    await store.set(b.key('t2'), meta('t2', 'STARTED'), null)
    await store.set(b.key('t2'), meta('t2', 'SUCCESS', 'ok'), null)
    expect((await waiting).result).toBe('ok')
    expect(updates).toEqual(['STARTED'])
    expect(store.reads).toBe(0)
    expect(store.live).toBe(0)
  })

  it('reads after a while when nothing is published (a result stored before the task was sent)', async () => {
    const { b, store } = await setup()
    await store.set(b.key('t3'), meta('t3', 'SUCCESS', 3), null)
    b.onTaskCall('t3')
    vi.useFakeTimers()
    try {
      const waiting = b.waitForReady('t3')
      await vi.advanceTimersByTimeAsync(300)
      expect((await waiting).result).toBe(3)
      expect(store.reads).toBe(1)
    } finally {
      vi.useRealTimers()
    }
  })

  it('reads once subscribed when the subscription may have come after the task', async () => {
    const { b, store } = await setup(false)
    await store.set(b.key('t4'), meta('t4', 'SUCCESS', 4), null)
    b.onTaskCall('t4')
    expect((await b.waitForReady('t4')).result).toBe(4)
    expect(store.reads).toBe(1)
  })

  it('keeps at most 8192 subscriptions, dropping the oldest; close() ends the rest', async () => {
    const { b, store } = await setup()
    for (let i = 0; i < 8200; i++) b.onTaskCall(`n${i}`)
    await new Promise((r) => setImmediate(r))
    expect(store.live).toBe(8192)
    // The dropped one is waited for as without a subscription: subscribe, then read.
    await store.set(b.key('n0'), meta('n0', 'SUCCESS', 0), null)
    expect((await b.waitForReady('n0')).result).toBe(0)
    await b.close()
    await new Promise((r) => setImmediate(r))
    expect(store.live).toBe(0)
  })

  it('does nothing with a store that cannot watch', async () => {
    const store = new MemoryStore()
    const b = new KeyValueBackend({ url: 'memory://x', store, serializers: new SerializerRegistry() })
    b.onTaskCall('t5')
    await store.set(b.key('t5'), meta('t5', 'SUCCESS', 5), null)
    expect((await b.waitForReady('t5')).result).toBe(5)
  })
})

describe('onTaskCall with a store that cannot subscribe now', () => {
  it('does not throw: sending the task must not fail for it', () => {
    const store = new WatchingStore()
    store.watch = () => {
      throw new Error('closed')
    }
    const b = new KeyValueBackend({ url: 'memory://y', store, serializers: new SerializerRegistry() })
    void b.waitForReady('t6', { timeout: 1 }).catch(() => undefined)
    expect(() => b.onTaskCall('t6')).not.toThrow()
  })
})
