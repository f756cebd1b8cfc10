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

/**
 * The raw round trip's worker side: BRPOP a message, then store it under a key of its own and
 * PUBLISH it, in one EVAL (what q's and Celery's Redis result backends do for a result), until
 * the message `stop`. The keys expire after a minute. With `rawRoundTrips`, the physical limit of a delay+get.
 */
const STORE_AND_PUBLISH = `redis.call('SET', KEYS[1], ARGV[1], 'PX', 60000)
redis.call('PUBLISH', ARGV[2], ARGV[1])
return 1`

/** Parameters of the raw round-trip worker process. */
export interface RawRedisEchoParams {
  url: string
  key: string
  channel: string
}

export const rawRedisEchoRole: Role = async (params, control) => {
  const p = params as unknown as RawRedisEchoParams
  const pop = new Redis(p.url)
  const store = new Redis(p.url)
  control.onStop(() => {
    pop.disconnect()
    store.disconnect()
  })
  await Promise.all([pop.ping(), store.ping()])
  control.ready()
  await control.go()
  let n = 0
  for (;;) {
    const r = await pop.brpop(p.key, 1)
    if (!r) continue
    if (r[1] === 'stop') break
    await store.eval(STORE_AND_PUBLISH, 1, `${p.key}-result-${n++}`, r[1], p.channel)
  }
  control.done(0, n)
}

/**
 * Latencies (ms) of `count` sequential raw round trips, after `warmup` more: LPUSH the
 * 300-byte payload, wait for it on a channel subscribed once, against a fresh `raw-redis-echo`
 * worker process (as q's round trip: one worker process per repetition).
 */
export async function rawRoundTrips(
  url: string,
  key: string,
  count: number,
  warmup: number,
): Promise<number[]> {
  const { NodeChild } = await import('../child.js')
  const channel = `${key}-reply`
  const child = new NodeChild('raw-redis-echo', { url, key, channel })
  const client = new Redis(url)
  const sub = new Redis(url)
  try {
    await sub.subscribe(channel)
    let arrived: (() => void) | undefined
    sub.on('message', () => arrived?.())
    await child.next('ready', 60_000)
    child.go()
    const out: number[] = []
    for (let i = 0; i < count + warmup; i++) {
      const t0 = performance.now()
      const got = new Promise<void>((r) => {
        arrived = r
      })
      await client.lpush(key, RAW_PAYLOAD)
      await got
      if (i >= warmup) out.push(performance.now() - t0)
    }
    await client.lpush(key, 'stop')
    await child.next('done', 10_000)
    return out
  } finally {
    await child.stop()
    await client.del(key)
    client.disconnect()
    sub.disconnect()
  }
}
