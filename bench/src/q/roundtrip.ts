/**
 * Round trip on Redis: `delay` then `get`, one after the other, with a q worker (its own
 * process) and the Redis result backend (results pushed by PUBLISH, as Celery's).
 */
import { NodeChild } from '../child.js'
import { PADDING } from '../config.js'
import { benchApp } from './app.js'
import type { QWorkerParams } from './worker.js'

/** Latencies (ms) of `count` sequential delay+get calls, after `warmup` more. */
export async function qRoundTrips(
  broker: string,
  backend: string,
  queue: string,
  count: number,
  warmup: number,
): Promise<number[]> {
  const params: QWorkerParams = { broker, backend, queue, n: 0, concurrency: 10, early: true }
  const child = new NodeChild('q-worker', { ...params })
  const { app, noop } = benchApp(broker, { backend })
  try {
    await child.next('ready', 60_000)
    child.go()
    const out: number[] = []
    for (let i = 0; i < count + warmup; i++) {
      const t0 = performance.now()
      const result = await noop.applyAsync([PADDING], {}, { queue })
      await result.get({ timeout: 10_000 })
      if (i >= warmup) out.push(performance.now() - t0)
    }
    return out
  } finally {
    await child.stop()
    await app.close()
  }
}
