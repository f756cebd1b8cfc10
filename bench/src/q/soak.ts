/**
 * Worker memory over a long run: a q worker (its own process, concurrency 100) runs `total` tasks
 * on Redis while this process keeps a bounded backlog in the queue, and samples the worker's RSS
 * and heap every `every / 10` tasks.
 *
 * Two runs. As memory comes: the RSS at the end and its maximum. And settled, for the trend: RSS
 * swings by ±10 MB with the moment of the last garbage collection, and a least-squares slope over
 * the samples as they come moved between -0.9 and +2.0 MB per 100k tasks from run to run of the
 * same code, more than the 0.5 to tell. In the settled run the worker (`--expose-gc`) runs a full
 * collection every 1% of the tasks and reports its memory right after it; the trend is the
 * least-squares slope of those samples after the first quarter (warm-up), in MB per 100,000
 * tasks. The frequent collections keep that run's RSS ~20 MB lower than a worker left alone, so
 * its level is not reported.
 */
import { readFileSync } from 'node:fs'
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
  /** Slope after warm-up, MB per 100k tasks (of the settled samples in a settled run). */
  rssSlope: number
  /** Heap-used slope after warm-up, MB per 100k tasks (likewise). */
  heapSlope: number
  /** Every `every` tasks: as they came, or in a settled run right after a full GC. */
  samples: Array<{ count: number; rssMb: number; heapMb: number }>
  /** The worker's CPU time (user + system) from ready to done, µs per task; NaN off Linux. */
  cpuUsPerTask: number
}

/** CPU time (user + system) a process has used, in µs, from /proc (Linux); NaN elsewhere. */
function cpuUsOf(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces, hence from the last ')'): utime is
    // the 12th and stime the 13th, in clock ticks (100 a second on Linux).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(') ') + 2).split(' ')
    return (Number(f[11]) + Number(f[12])) * 10_000
  } catch {
    return Number.NaN
  }
}

/** How many more samples the worker takes than the table shows. */
const FINE = 10

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
  /** Settled: a full GC every 1% of the tasks, the samples taken right after it. */
  settle: boolean,
  /** Node flags of the worker (V8 heap settings), besides `--expose-gc` when settled. */
  nodeFlags: readonly string[] = [],
): Promise<SoakResult> {
  const params: QWorkerParams = {
    broker: broker.url,
    queue,
    n: total,
    concurrency: 100,
    prefetchMultiplier: prefetchMultiplier(),
    early: true,
    progressEvery: Math.max(1, Math.round(every / FINE)),
    // 75 samples after warm-up: a full collection leaves RSS within ±5 MB (V8 keeps its pages).
    ...(settle ? { gcEvery: Math.max(1, Math.round(total / 100)) } : {}),
  }
  const child = new NodeChild(
    'q-worker',
    { ...params },
    { nodeFlags: [...nodeFlags, ...(settle ? ['--expose-gc'] : [])] },
  )
  try {
    const ready = await child.next('ready', 60_000)
    const cpu0 = cpuUsOf(child.pid)
    child.go()
    const t0 = performance.now()
    const backlog = 20_000
    const chunk = 5_000
    const fine: SoakResult['samples'] = [{ count: 0, rssMb: mb(ready.rss), heapMb: Number.NaN }]
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
    const cpuUs = cpuUsOf(child.pid) - cpu0
    const settled = new Map<number, { rssMb: number; heapMb: number }>()
    for (;;) {
      const p = child.take('progress')
      if (!p) break
      if (p.settled) settled.set(p.count, { rssMb: mb(p.rss), heapMb: mb(p.heapUsed) })
      else fine.push({ count: p.count, rssMb: mb(p.rss), heapMb: mb(p.heapUsed) })
    }
    // The end as it came (in a settled run, done's own sample follows the last collection).
    if (fine.at(-1)?.count !== done.count)
      fine.push({ count: done.count, rssMb: mb(done.rss), heapMb: Number.NaN })
    const trend = settle
      ? [...settled].map(([count, m]) => ({ count, ...m }))
      : fine.filter((f) => Number.isFinite(f.heapMb))
    const steady = trend.filter((f) => f.count >= total / 4)
    // The table: the start, then every `every` tasks.
    const shown = settle ? trend : fine
    const samples = [fine[0]!, ...shown.filter((f) => f.count > 0 && f.count % every === 0)]
    return {
      tasks: done.count,
      ms,
      rssStartMb: mb(ready.rss),
      rssEndMb: fine.at(-1)!.rssMb,
      rssMaxMb: Math.max(...fine.map((f) => f.rssMb)),
      rssSlope: slope(steady.map((f) => [f.count / 100_000, f.rssMb])),
      heapSlope: slope(steady.map((f) => [f.count / 100_000, f.heapMb])),
      samples,
      cpuUsPerTask: cpuUs / done.count,
    }
  } finally {
    await child.stop()
    await broker.cleanup(queue)
  }
}
