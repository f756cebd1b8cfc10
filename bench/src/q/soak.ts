/**
 * Worker memory over a long run: a q worker (its own process, concurrency 100) runs `total` tasks
 * on Redis while this process keeps a bounded backlog in the queue, and samples the worker's RSS
 * and heap every `every` tasks. The trend is the least-squares slope of RSS over the samples after
 * the first quarter (warm-up), in MB per 100,000 tasks.
 */
import { NodeChild } from '../child.js'
import { mb, sleep } from '../stats.js'
import type { QBroker } from './broker.js'
import { prefetchMultiplier } from './drain.js'
import { qPublishBatched } from './publish.js'
import type { QWorkerParams } from './worker.js'

/** What a soak found. */
export interface SoakResult {
  tasks: number
  ms: number
  rssStartMb: number
  rssEndMb: number
  rssMaxMb: number
  /** RSS slope after warm-up, MB per 100k tasks. */
  rssSlope: number
  /** Heap-used slope after warm-up, MB per 100k tasks. */
  heapSlope: number
  samples: Array<{ count: number; rssMb: number; heapMb: number }>
}

/** Least-squares slope of y over x. */
function slope(points: ReadonlyArray<[number, number]>): number {
  const n = points.length
  if (n < 2) return Number.NaN
  const mx = points.reduce((s, [x]) => s + x, 0) / n
  const my = points.reduce((s, [, y]) => s + y, 0) / n
  let num = 0
  let den = 0
  for (const [x, y] of points) {
    num += (x - mx) * (y - my)
    den += (x - mx) ** 2
  }
  return den ? num / den : Number.NaN
}

export async function qSoak(
  broker: QBroker,
  queue: string,
  total: number,
  every: number,
): Promise<SoakResult> {
  const params: QWorkerParams = {
    broker: broker.url,
    queue,
    n: total,
    concurrency: 100,
    prefetchMultiplier: prefetchMultiplier(),
    early: true,
    progressEvery: every,
  }
  const child = new NodeChild('q-worker', { ...params })
  try {
    const ready = await child.next('ready', 60_000)
    child.go()
    const t0 = performance.now()
    const backlog = 20_000
    const chunk = 5_000
    const samples: SoakResult['samples'] = [{ count: 0, rssMb: mb(ready.rss), heapMb: Number.NaN }]
    for (let sent = 0; sent < total; ) {
      if ((await broker.depth(queue)) > backlog - chunk) {
        await sleep(5)
        continue
      }
      const k = Math.min(chunk, total - sent)
      await qPublishBatched(broker.noop, queue, k)
      sent += k
    }
    const done = await child.next('done', 600_000)
    const ms = performance.now() - t0
    for (;;) {
      const p = child.take('progress')
      if (!p) break
      samples.push({ count: p.count, rssMb: mb(p.rss), heapMb: mb(p.heapUsed) })
    }
    samples.push({ count: done.count, rssMb: mb(done.rss), heapMb: Number.NaN })
    const steady = samples.filter((s) => s.count >= total / 4)
    return {
      tasks: done.count,
      ms,
      rssStartMb: mb(ready.rss),
      rssEndMb: mb(done.rss),
      rssMaxMb: Math.max(...samples.map((s) => s.rssMb)),
      rssSlope: slope(steady.map((s) => [s.count / 100_000, s.rssMb])),
      heapSlope: slope(
        steady.filter((s) => Number.isFinite(s.heapMb)).map((s) => [s.count / 100_000, s.heapMb]),
      ),
      samples,
    }
  } finally {
    await child.stop()
    await broker.cleanup(queue)
  }
}
