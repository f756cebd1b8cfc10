/**
 * The raw ioredis loops: the physical limit of the Redis path on this machine.
 *
 * - publish: LPUSH one message per awaited call (single), and LPUSH pipelined 1,000 to a round
 *   trip (batched);
 * - drain: RPOP with a count of 100 per call (the fastest read), and BRPOP one message per call
 *   (what a worker without batched fetches does). Run in a worker process of its own.
 *
 * Each loop runs with the bare ~300-byte payload, and again with the very string q LPUSHes
 * for the bench's no-op task (Kombu's JSON envelope, ~1.2 KB: the body in base64, headers and
 * properties), captured once from q (`captureQRedisMessage`): the second says what Redis and
 * ioredis allow for the message q has to send, apart from what q itself costs.
 */
import type { Task } from '@q/celery'
import { Redis } from 'ioredis'
import type { Role } from '../child-main.js'
import { PADDING, RAW_PAYLOAD } from '../config.js'

/** Publishes `n` messages with one awaited LPUSH each; resolves with the elapsed ms. */
export async function lpushSingle(
  redis: Redis,
  key: string,
  n: number,
  payload = RAW_PAYLOAD,
): Promise<number> {
  const t0 = performance.now()
  for (let i = 0; i < n; i++) await redis.lpush(key, payload)
  return performance.now() - t0
}

/** Publishes `n` messages with LPUSH, `batch` commands per pipeline; resolves with the elapsed ms. */
export async function lpushPipelined(
  redis: Redis,
  key: string,
  n: number,
  batch = 1_000,
  payload = RAW_PAYLOAD,
): Promise<number> {
  const t0 = performance.now()
  for (let i = 0; i < n; i += batch) {
    const pipe = redis.pipeline()
    for (let j = i; j < Math.min(n, i + batch); j++) pipe.lpush(key, payload)
    await pipe.exec()
  }
  return performance.now() - t0
}

/**
 * The exact string q LPUSHes for one no-op task (as the bench's q publishes it: `applyAsync`
 * of the padding to `queue`), read back from the list. Every copy the raw loops send is this one
 * string (same task id and delivery tag): Redis and the raw consumer do not look inside it.
 */
export async function captureQRedisMessage(
  noop: Task<unknown[], null>,
  redis: Redis,
  queue: string,
): Promise<string> {
  try {
    await noop.applyAsync([PADDING], {}, { queue })
    const message = await redis.lindex(queue, 0)
    if (!message) throw new Error(`q's message did not reach '${queue}'`)
    return message
  } finally {
    await redis.del(queue, `_kombu.binding.${queue}`)
  }
}

/** Parameters of the raw Redis consumer process. */
export interface RawRedisConsumeParams {
  url: string
  key: string
  n: number
  /** `rpop`: RPOP key count; `brpop`: one BRPOP per message. */
  mode: 'rpop' | 'brpop'
  batch?: number
}

export const rawRedisConsumeRole: Role = async (params, control) => {
  const p = params as unknown as RawRedisConsumeParams
  const redis = new Redis(p.url)
  control.onStop(() => redis.disconnect())
  await redis.ping()
  control.ready()
  await control.go()
  const t0 = performance.now()
  let got = 0
  const batch = p.batch ?? 100
  while (got < p.n) {
    if (p.mode === 'rpop') {
      const items = await redis.rpop(p.key, Math.min(batch, p.n - got))
      if (items) for (const item of items) if (item.length > 0) got++
    } else {
      const r = await redis.brpop(p.key, 1)
      if (r && r[1].length > 0) got++
    }
  }
  control.done(performance.now() - t0, got)
}
