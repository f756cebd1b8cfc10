/**
 * BullMQ (latest) on Redis, in the configuration that makes it fastest for no-op jobs: jobs added
 * with `removeOnComplete`/`removeOnFail` (nothing kept), a Worker with a high concurrency (the
 * best of 10, 50 and 100 counts) and default locks and stalled checks; `addBulk` for batched adds.
 */
import { Queue, QueueEvents, Worker } from 'bullmq'
import type { Role } from '../child-main.js'
import { RAW_PAYLOAD } from '../config.js'

const DATA = JSON.parse(RAW_PAYLOAD) as Record<string, unknown>
const JOB_OPTIONS = { removeOnComplete: true, removeOnFail: true } as const

/** Where BullMQ keeps a queue: a Redis database and a key prefix of the bench's own. */
export interface BullTarget {
  host: string
  port: number
  db: number
  prefix: string
}

/** A target from a redis:// URL. */
export function bullTarget(url: string, prefix: string): BullTarget {
  const u = new URL(url)
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port) || 6379,
    db: Number(u.pathname.slice(1)) || 0,
    prefix,
  }
}

function connection(t: BullTarget) {
  return { host: t.host, port: t.port, db: t.db, maxRetriesPerRequest: null }
}

/**
 * A BullMQ Queue whose jobs leave nothing behind; with `keep`, the last 1,000 completed jobs stay
 * (`waitUntilFinished` fails with "Missing key" when the job it waits for is already removed).
 */
export function bullQueue(t: BullTarget, name: string, keep = false): Queue {
  return new Queue(name, {
    connection: connection(t),
    prefix: t.prefix,
    defaultJobOptions: keep ? { removeOnComplete: 1_000, removeOnFail: 1_000 } : JOB_OPTIONS,
  })
}

/** Adds `n` jobs one awaited `add` at a time; resolves with the elapsed ms. */
export async function addSingle(queue: Queue, n: number): Promise<number> {
  const t0 = performance.now()
  for (let i = 0; i < n; i++) await queue.add('noop', DATA)
  return performance.now() - t0
}

/** Adds `n` jobs with `addBulk`, `batch` a call; resolves with the elapsed ms. */
export async function addBulk(queue: Queue, n: number, batch = 1_000): Promise<number> {
  const t0 = performance.now()
  for (let i = 0; i < n; i += batch) {
    const jobs = Array.from({ length: Math.min(batch, n - i) }, () => ({ name: 'noop', data: DATA }))
    await queue.addBulk(jobs)
  }
  return performance.now() - t0
}

/** Removes the queue and everything of it. */
export async function obliterate(queue: Queue): Promise<void> {
  await queue.obliterate({ force: true }).catch(() => {})
  await queue.close()
}

/**
 * Round trip: `add` then `waitUntilFinished`, `count` times in sequence (after `warmup` more);
 * resolves with each latency in ms.
 */
export async function bullRoundTrips(
  t: BullTarget,
  name: string,
  count: number,
  warmup: number,
): Promise<number[]> {
  const queue = bullQueue(t, name, true)
  // From the stream's start (the queue is new): with the default '$', a job that completes
  // before the first XREAD is issued is never reported, and its wait times out (seen once).
  const events = new QueueEvents(name, { connection: connection(t), prefix: t.prefix, lastEventId: '0-0' })
  try {
    await events.waitUntilReady()
    const out: number[] = []
    for (let i = 0; i < count + warmup; i++) {
      const t0 = performance.now()
      const job = await queue.add('noop', DATA)
      await job.waitUntilFinished(events, 10_000)
      if (i >= warmup) out.push(performance.now() - t0)
    }
    return out
  } finally {
    await events.close()
    await obliterate(queue)
  }
}

/** Parameters of the BullMQ worker process. */
export interface BullWorkerParams {
  target: BullTarget
  queue: string
  n: number
  concurrency: number
  /** Start consuming before saying ready (round trip). */
  early?: boolean
}

export const bullmqWorkerRole: Role = async (params, control) => {
  const p = params as unknown as BullWorkerParams
  let count = 0
  let t0 = 0
  const worker = new Worker(p.queue, async () => null, {
    connection: connection(p.target),
    prefix: p.target.prefix,
    concurrency: p.concurrency,
    autorun: false,
  })
  worker.on('completed', () => {
    count++
    if (count === p.n) control.done(performance.now() - t0, count)
  })
  worker.on('error', () => {})
  control.onStop(() => worker.close())
  await worker.waitUntilReady()
  if (p.early) void worker.run()
  control.ready()
  await control.go()
  t0 = performance.now()
  if (!p.early) void worker.run()
}
