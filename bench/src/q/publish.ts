/**
 * q's publish rate: `applyAsync` awaited one at a time (single), and `applyMany` of `chunk` calls
 * at a time (batched, as the raw clients' pipelines of 1,000). Timed until every call resolved;
 * on RabbitMQ, until the queue holds them all (q resolves a publish once amqplib took the frame,
 * without a confirm).
 */
import type { Task } from '@q/celery'
import { PADDING } from '../config.js'

/** Publishes `n` no-op tasks to `queue` one awaited `delay` at a time; resolves with the ms. */
export async function qPublishSingle(noop: Task<unknown[], null>, queue: string, n: number): Promise<number> {
  const t0 = performance.now()
  for (let i = 0; i < n; i++) await noop.applyAsync([PADDING], {}, { queue })
  return performance.now() - t0
}

/** Publishes `n` no-op tasks to `queue` with `applyMany`, `chunk` calls a batch; resolves with the ms. */
export async function qPublishBatched(
  noop: Task<unknown[], null>,
  queue: string,
  n: number,
  chunk = 1_000,
): Promise<number> {
  const options = { queue }
  const t0 = performance.now()
  for (let i = 0; i < n; i += chunk) {
    const calls: unknown[][] = []
    for (let j = i; j < Math.min(n, i + chunk); j++) calls.push([PADDING])
    await noop.applyMany(calls, options)
  }
  return performance.now() - t0
}
