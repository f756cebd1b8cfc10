/**
 * Worker memory over a long run: a q worker (its own process, concurrency 100) runs `total` tasks
 * on Redis while this process keeps a bounded backlog in the queue, and samples the worker's RSS
 * and heap every `every` tasks. The trend is the least-squares slope of RSS over the samples after
 * the first quarter (warm-up), in MB per 100,000 tasks.
 *
 * RSS swings by ±5 MB with the moment of the last garbage collection, so a slope over 15 points
 * moves by ~2 MB/100k from run to run at 300,000 tasks (measured: no heap growth after forced GCs,
 * README "Worker memory, session 2b"). The worker therefore samples ten times as often as the
 * table shows, and the slopes are taken over all the samples.
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
  /** RSS slope after warm-up, MB per 100k tasks. */
  rssSlope: number
  /** Heap-used slope after warm-up, MB per 100k tasks. */
  heapSlope: number
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
  /** Extra node flags for the worker (e.g. V8 heap sizes); none in the bench's default figures. */
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
  }
  const child = new NodeChild('q-worker', { ...params }, nodeFlags.length ? { nodeFlags } : {})
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
    for (;;) {
      const p = child.take('progress')
      if (!p) break
      fine.push({ count: p.count, rssMb: mb(p.rss), heapMb: mb(p.heapUsed) })
    }
    fine.push({ count: done.count, rssMb: mb(done.rss), heapMb: Number.NaN })
    const steady = fine.filter((s) => s.count >= total / 4)
    // The table: the start, every `every` tasks (each FINE-th sample), and the end.
    const samples = fine.filter((_, i) => i % FINE === 0 || i === fine.length - 1)
    return {
      tasks: done.count,
      ms,
      rssStartMb: mb(ready.rss),
      rssEndMb: mb(done.rss),
      rssMaxMb: Math.max(...fine.map((s) => s.rssMb)),
      rssSlope: slope(steady.map((s) => [s.count / 100_000, s.rssMb])),
      heapSlope: slope(
        steady.filter((s) => Number.isFinite(s.heapMb)).map((s) => [s.count / 100_000, s.heapMb]),
      ),
      samples,
      cpuUsPerTask: cpuUs / done.count,
    }
  } finally {
    await child.stop()
    await broker.cleanup(queue)
  }
}
