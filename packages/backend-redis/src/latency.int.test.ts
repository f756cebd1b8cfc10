/**
 * Round-trip latency on the machine's Redis, printed for the record: 1000 sequential
 * store-then-waitForReady (result already there: SUBSCRIBE, GET, UNSUBSCRIBE), and 1000
 * waitForReady-then-store (the result is pushed by the PUBLISH). Bounds are loose: they catch a
 * fall back to polling (500 ms), not a slow machine.
 */
import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { expect, it } from 'vitest'
import { testBackend } from '../test/redis-env.js'

const N = 1000

function percentiles(samples: number[]): { p50: number; p99: number } {
  const s = [...samples].sort((a, b) => a - b)
  const at = (q: number) => Number(s[Math.min(s.length - 1, Math.floor(q * s.length))]!.toFixed(3))
  return { p50: at(0.5), p99: at(0.99) }
}

it('store then waitForReady, and waitForReady then store', async () => {
  await using t = testBackend({ expires: 60 })
  await using writer = testBackend({ expires: 60 })
  await t.store.get('warm-up')
  await writer.store.get('warm-up')
  const storeThenWait: number[] = []
  for (let i = 0; i < N; i++) {
    const id = randomUUID()
    const t0 = performance.now()
    await t.backend.storeResult(id, i, 'SUCCESS')
    await t.backend.waitForReady(id, { timeout: 5000 })
    storeThenWait.push(performance.now() - t0)
  }
  const pushed: number[] = []
  for (let i = 0; i < N; i++) {
    const id = randomUUID()
    let subscribed!: () => void
    const ready = new Promise<void>((r) => (subscribed = r))
    const get = t.store.get.bind(t.store)
    // The waiter's GET comes right after its SUBSCRIBE is confirmed: store once it has run.
    t.store.get = async (k) => {
      const v = await get(k)
      subscribed()
      return v
    }
    const pending = t.backend.waitForReady(id, { timeout: 5000 })
    await ready
    t.store.get = get
    const t0 = performance.now()
    await writer.backend.storeResult(id, i, 'SUCCESS')
    await pending
    pushed.push(performance.now() - t0)
  }
  const a = percentiles(storeThenWait)
  const b = percentiles(pushed)
  console.log(
    `store then waitForReady (ms): p50 ${a.p50}, p99 ${a.p99}; waitForReady then store: p50 ${b.p50}, p99 ${b.p99}`,
  )
  expect(a.p99).toBeLessThan(100)
  expect(b.p99).toBeLessThan(100)
}, 60_000)
