/**
 * q's worker on a real broker, in a process of its own: drain rate (the queue is filled first,
 * then the worker is timed from its start until it has run every task), end to end (the worker
 * is consuming; timed from the first publish to the last task run), and its RSS.
 */
import { NodeChild, runChild } from '../child.js'
import type { QBroker } from './broker.js'
import { qPublishBatched } from './publish.js'
import type { QWorkerParams } from './worker.js'

let multiplier = 4

/** Prefetch multiplier of the bench's q workers: Celery's default (4) unless --prefetch-multiplier. */
export const prefetchMultiplier = () => multiplier

/** Sets it (main.ts, from the command line). */
export function setPrefetchMultiplier(m: number): void {
  multiplier = m
}

/** One drain run. */
export interface DrainRun {
  ms: number
  rssStart: number
  rssEnd: number
  /** How long worker.start() took (connect, remote control, mingle) before consuming. */
  startupMs: number
}

/** Fills `queue` with `n` tasks, then times a q worker of `concurrency` draining it. */
export async function qDrain(
  broker: QBroker,
  queue: string,
  n: number,
  concurrency: number,
  nodeFlags: readonly string[] = [],
): Promise<DrainRun> {
  await qPublishBatched(broker.noop, queue, n)
  await broker.waitDepth(queue, n)
  const params: QWorkerParams = {
    broker: broker.url,
    queue,
    n,
    concurrency,
    prefetchMultiplier: prefetchMultiplier(),
  }
  try {
    const { ready, done } = await runChild('q-worker', { ...params }, { nodeFlags })
    return { ms: done.ms, rssStart: ready, rssEnd: done.rss, startupMs: done.startupMs ?? Number.NaN }
  } finally {
    await broker.cleanup(queue)
  }
}

/** Times `n` tasks from the first publish to the last run, with a worker of `concurrency` consuming. */
export async function qEndToEnd(
  broker: QBroker,
  queue: string,
  n: number,
  concurrency: number,
): Promise<number> {
  const params: QWorkerParams = {
    broker: broker.url,
    queue,
    n,
    concurrency,
    prefetchMultiplier: prefetchMultiplier(),
    early: true,
  }
  const child = new NodeChild('q-worker', { ...params })
  try {
    await child.next('ready', 60_000)
    child.go()
    const t0 = performance.now()
    await qPublishBatched(broker.noop, queue, n)
    await child.next('done', 600_000)
    return performance.now() - t0
  } finally {
    await child.stop()
    await broker.cleanup(queue)
  }
}
