/**
 * The measurement groups, one function each, in the order main.ts runs them. Every figure is
 * recorded in `Results` as the median of `config.reps` repetitions; each repetition uses a queue
 * of its own, removed afterwards.
 */
import { AmqpAdmin, type RedisAdmin } from './brokers.js'
import { NodeChild, runChild } from './child.js'
import { type BenchConfig, RAW_PAYLOAD } from './config.js'
import { amqpBroker, type QBroker, redisBroker } from './q/broker.js'
import { qDrain, qEndToEnd } from './q/drain.js'
import type { QMemoryParams } from './q/memory.js'
import { qPublishBatched, qPublishSingle } from './q/publish.js'
import type { Results } from './results.js'
import { mb, percentile, rate } from './stats.js'

/** What the groups share. */
export interface Context {
  readonly config: BenchConfig
  readonly results: Results
  /** The Redis URL of the bench's broker database (and of BullMQ and the raw loops). */
  readonly redisUrl: string
  /** The Redis URL of the result backend database (round trips). */
  readonly backendUrl: string
  readonly redis: RedisAdmin
  /** The AMQP URL of the bench's vhost. */
  amqpUrl: string
  /** Prints a progress line. */
  log(line: string): void
}

let seq = 0
/** A queue name unique to this run. */
export const queueName = (ctx: Context, what: string) => `qb-${ctx.config.runId}-${what}-${seq++}`

/** How long a drain of `n` messages may take before it counts as hung. */
const drainTimeout = (n: number) => 60_000 + n * 5

/** Runs `reps` repetitions and records each listed key as msg/s. */
async function reps(ctx: Context, once: (rep: number) => Promise<Record<string, number>>, note?: string) {
  const runs: Array<Record<string, number>> = []
  for (let rep = 0; rep < ctx.config.reps; rep++) runs.push(await once(rep))
  record(ctx, runs, note)
}

/** Records each key of `runs` (one record per repetition) with its unit, and logs its median. */
function record(ctx: Context, runs: ReadonlyArray<Record<string, number>>, note?: string): void {
  for (const key of Object.keys(runs[0] ?? {})) {
    const unit =
      key.endsWith('.rss.start') || key.endsWith('.rss.end')
        ? 'MB'
        : key.endsWith('.startup')
          ? 'ms'
          : 'msg/s'
    const value = ctx.results.set(
      key,
      unit,
      runs.map((r) => r[key]!),
      note,
    )
    ctx.log(`  ${key.padEnd(34)} ${fmt(value)} ${unit}`)
  }
}

const fmt = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : String(v))

/**
 * The lean heap of the soak's third run: what `NODE_OPTIONS=--max-semi-space-size=4 q worker
 * --heap-growing-percent 30` gives a worker (the command sets the second in the running process,
 * which V8 treats as this flag; measured the same).
 */
export const LEAN_HEAP = ['--max-semi-space-size=4', '--heap-growing-percent=30'] as const

// ---------------------------------------------------------------- memory

export async function qMemoryGroup(ctx: Context): Promise<void> {
  const { n, reps: count, concurrencies } = ctx.config
  // In a process of its own (see q/memory.ts), from the bundle as the workers.
  const params: QMemoryParams = { n, reps: count, concurrencies: [...concurrencies] }
  const child = new NodeChild('q-memory', { ...params })
  const runs = new Map<string, Array<Record<string, number>>>()
  try {
    await child.next('ready', 60_000)
    child.go()
    const expected = count * (concurrencies.length + 3)
    for (let i = 0; i < expected; i++) {
      const { values } = await child.next('result', drainTimeout(n) * 4)
      const group = Object.keys(values).join()
      runs.set(group, [...(runs.get(group) ?? []), values])
    }
    await child.next('done', 60_000)
  } finally {
    await child.stop()
  }
  for (const [group, records] of runs)
    record(ctx, records, group === 'q.memory.e2e' ? 'worker concurrency 100' : undefined)
}

// ---------------------------------------------------------------- raw loops

export async function rawRedisGroup(ctx: Context): Promise<void> {
  const { n } = ctx.config
  const { captureQRedisMessage, lpushPipelined, lpushSingle } = await import('./peers/raw-redis.js')
  const { redisWirePublish } = await import('./peers/wire.js')
  const client = ctx.redis.client
  // The loops run with the issue's bare payload, then with the envelope q LPUSHes (suffix .same).
  const broker = redisBroker(ctx.redisUrl, ctx.redis)
  let same: string
  try {
    same = await captureQRedisMessage(broker.noop, client, queueName(ctx, 'capture'))
  } finally {
    await broker.close()
  }
  ctx.results.set('raw.redis.same.bytes', 'bytes', [Buffer.byteLength(same)])
  const payloads = [
    ['', undefined],
    ['.same', same],
  ] as const
  for (const [suffix, payload] of payloads) {
    await reps(ctx, async () => {
      const key = queueName(ctx, 'raw')
      const single = rate(n, await lpushSingle(client, key, n, payload))
      await client.del(key)
      const batched = rate(n, await lpushPipelined(client, key, n, 1_000, payload))
      await client.del(key)
      // The same batches pre-encoded on a bare socket: what Redis alone accepts of the message.
      const wire = rate(n, await redisWirePublish(ctx.redisUrl, key, n, payload ?? RAW_PAYLOAD))
      await client.del(key)
      return {
        [`raw.redis.publish.single${suffix}`]: single,
        [`raw.redis.publish.batched${suffix}`]: batched,
        [`wire.redis.publish${suffix}`]: wire,
      }
    })
    for (const mode of ['rpop', 'brpop'] as const) {
      await reps(ctx, async () => {
        const key = queueName(ctx, 'raw')
        await lpushPipelined(client, key, n, 1_000, payload)
        try {
          const { ready, done } = await runChild(
            'raw-redis-consume',
            { url: ctx.redisUrl, key, n, mode, batch: 100 },
            { timeoutMs: drainTimeout(n) },
          )
          const k = `${mode === 'rpop' ? 'raw.redis.drain.rpop100' : 'raw.redis.drain.brpop'}${suffix}`
          return { [k]: rate(n, done.ms), [`${k}.rss.start`]: mb(ready), [`${k}.rss.end`]: mb(done.rss) }
        } finally {
          await client.del(key)
        }
      })
    }
  }
}

/** The raw amqplib loops; `q` is q's publishing app, used once to capture the message it sends. */
export async function rawAmqpGroup(ctx: Context, q: QBroker): Promise<void> {
  const { n } = ctx.config
  const { BARE_MESSAGE, captureQAmqpMessage, declareRawQueue, publishRaw } = await import(
    './peers/raw-amqp.js'
  )
  const { amqpWirePublish } = await import('./peers/wire.js')
  const { connect } = await import('amqplib')
  const admin = await AmqpAdmin.open(ctx.amqpUrl)
  const conn = await connect(ctx.amqpUrl)
  try {
    const ch = await conn.createChannel()
    const capture = queueName(ctx, 'capture')
    const same = await captureQAmqpMessage(q.noop, ch, admin, capture).finally(() => q.cleanup(capture))
    ctx.log(
      `  q's message: ${same.body.length}-byte body, ${Object.keys(same.options.headers ?? {}).length} headers`,
    )
    // The bare message with both ack modes, then q's message (suffix .same) with one ack each,
    // the bar's limit.
    const runs = [
      { ack: 'each', message: BARE_MESSAGE, suffix: '' },
      { ack: 'multiple', message: BARE_MESSAGE, suffix: '' },
      { ack: 'each', message: same, suffix: '.same' },
    ] as const
    for (const { ack, message, suffix } of runs) {
      await reps(ctx, async () => {
        const queue = queueName(ctx, 'raw')
        await declareRawQueue(ch, queue)
        const t0 = performance.now()
        await publishRaw(ch, queue, n, message)
        await admin.waitDepth(queue, n)
        const publish = rate(n, performance.now() - t0)
        try {
          const { ready, done } = await runChild(
            'raw-amqp-consume',
            { url: ctx.amqpUrl, queue, n, prefetch: 1000, ack },
            { timeoutMs: drainTimeout(n) },
          )
          const k = `raw.amqp.drain.ack-${ack}${suffix}`
          return {
            ...(ack === 'each' ? { [`raw.amqp.publish.batched${suffix}`]: publish } : {}),
            [k]: rate(n, done.ms),
            [`${k}.rss.start`]: mb(ready),
            [`${k}.rss.end`]: mb(done.rss),
          }
        } finally {
          await admin.deleteQueue(queue)
        }
      })
    }
    // RabbitMQ alone: both messages' frames pre-encoded on a bare socket, in turn in each repetition.
    await reps(ctx, async () => {
      const out: Record<string, number> = {}
      for (const [suffix, message] of [
        ['', BARE_MESSAGE],
        ['.same', same],
      ] as const) {
        const queue = queueName(ctx, 'wire')
        await declareRawQueue(ch, queue)
        try {
          out[`wire.amqp.publish${suffix}`] = rate(
            n,
            await amqpWirePublish(ctx.amqpUrl, admin, queue, n, message),
          )
        } finally {
          await admin.deleteQueue(queue)
        }
      }
      return out
    })
  } finally {
    await conn.close().catch(() => {})
    await admin.close()
  }
}

// ---------------------------------------------------------------- q on a broker

async function qBrokerGroup(ctx: Context, broker: QBroker): Promise<void> {
  const { n } = ctx.config
  const k = `q.${broker.kind}`
  await reps(ctx, async () => {
    let queue = queueName(ctx, 'pub')
    let t0 = performance.now()
    await qPublishSingle(broker.noop, queue, n)
    await broker.waitDepth(queue, n)
    const single = rate(n, performance.now() - t0)
    await broker.cleanup(queue)
    queue = queueName(ctx, 'pub')
    t0 = performance.now()
    await qPublishBatched(broker.noop, queue, n)
    await broker.waitDepth(queue, n)
    const batched = rate(n, performance.now() - t0)
    if (broker.kind === 'redis') {
      const raw = await ctx.redis.client.lindex(queue, 0)
      ctx.results.set('q.redis.message.bytes', 'bytes', [raw ? Buffer.byteLength(raw) : Number.NaN])
    }
    await broker.cleanup(queue)
    return { [`${k}.publish.single`]: single, [`${k}.publish.batched`]: batched }
  })
  const flags = (c: number) =>
    ctx.config.profile
      ? [
          '--cpu-prof',
          `--cpu-prof-dir=${new URL('../results/profiles/', import.meta.url).pathname}`,
          `--cpu-prof-name=q-${broker.kind}-c${c}-${Date.now()}.cpuprofile`,
        ]
      : []
  for (const c of ctx.config.concurrencies) {
    await reps(ctx, async () => {
      const r = await qDrain(broker, queueName(ctx, `c${c}`), n, c, flags(c))
      return {
        [`${k}.drain.c${c}`]: rate(n, r.ms),
        [`${k}.drain.c${c}.rss.start`]: mb(r.rssStart),
        [`${k}.drain.c${c}.rss.end`]: mb(r.rssEnd),
        [`${k}.drain.c${c}.startup`]: r.startupMs,
      }
    })
  }
  await reps(
    ctx,
    async () => ({ [`${k}.e2e`]: rate(n, await qEndToEnd(broker, queueName(ctx, 'e2e'), n, 100)) }),
    'worker concurrency 100, consuming while the tasks are published (batched)',
  )
}

export async function qRedisGroup(ctx: Context): Promise<void> {
  const broker = redisBroker(ctx.redisUrl, ctx.redis)
  try {
    await qBrokerGroup(ctx, broker)
  } finally {
    await broker.close()
  }
}

export async function qAmqpGroup(ctx: Context, broker: QBroker): Promise<void> {
  await qBrokerGroup(ctx, broker)
}

/** q's publishing app on RabbitMQ, connected (so that @q/kombu-amqp loads amqplib first). */
export async function openQAmqp(ctx: Context): Promise<{ broker: QBroker; admin: AmqpAdmin }> {
  const { benchApp } = await import('./q/app.js')
  const { app, noop } = benchApp(ctx.amqpUrl)
  await app.connection().connect()
  const admin = await AmqpAdmin.open(ctx.amqpUrl)
  return { broker: amqpBroker(ctx.amqpUrl, admin, app, noop), admin }
}

// ---------------------------------------------------------------- peers

export async function bullmqGroup(ctx: Context): Promise<void> {
  const { n } = ctx.config
  const b = await import('./peers/bullmq.js')
  const target = b.bullTarget(ctx.redisUrl, `qb-${ctx.config.runId}`)
  await reps(ctx, async () => {
    let queue = b.bullQueue(target, queueName(ctx, 'bull'))
    const single = rate(n, await b.addSingle(queue, n))
    await b.obliterate(queue)
    queue = b.bullQueue(target, queueName(ctx, 'bull'))
    const batched = rate(n, await b.addBulk(queue, n))
    await b.obliterate(queue)
    return { 'bullmq.publish.single': single, 'bullmq.publish.batched': batched }
  })
  for (const c of ctx.config.bullmqConcurrencies) {
    await reps(ctx, async () => {
      const name = queueName(ctx, 'bull')
      const queue = b.bullQueue(target, name)
      try {
        await b.addBulk(queue, n)
        const { ready, done } = await runChild(
          'bullmq-worker',
          { target, queue: name, n, concurrency: c },
          { timeoutMs: drainTimeout(n) },
        )
        return {
          [`bullmq.drain.c${c}`]: rate(n, done.ms),
          [`bullmq.drain.c${c}.rss.start`]: mb(ready),
          [`bullmq.drain.c${c}.rss.end`]: mb(done.rss),
        }
      } finally {
        await b.obliterate(queue)
      }
    })
  }
}

async function celeryGroup(ctx: Context, kind: 'redis' | 'amqp', broker: QBroker): Promise<void> {
  const { n } = ctx.config
  const { celeryDrain } = await import('./peers/celery-python.js')
  await reps(
    ctx,
    async () => {
      const queue = queueName(ctx, 'py')
      await qPublishBatched(broker.noop, queue, n)
      await broker.waitDepth(queue, n)
      try {
        const r = await celeryDrain(broker.url, queue, n)
        return {
          [`celery.${kind}.drain`]: rate(n, r.ms),
          [`celery.${kind}.drain.rss.start`]: mb(r.rssStart),
          [`celery.${kind}.drain.rss.end`]: mb(r.rssEnd),
        }
      } finally {
        await broker.cleanup(queue)
      }
    },
    'solo pool, prefetch multiplier 64, results ignored; the queue filled by q',
  )
}

export async function celeryRedisGroup(ctx: Context): Promise<void> {
  const broker = redisBroker(ctx.redisUrl, ctx.redis)
  try {
    await celeryGroup(ctx, 'redis', broker)
  } finally {
    await broker.close()
  }
}

export async function celeryAmqpGroup(ctx: Context, broker: QBroker): Promise<void> {
  await celeryGroup(ctx, 'amqp', broker)
}

// ---------------------------------------------------------------- round trips

/** Records p50/p99 of each repetition's latencies, and their medians. */
function recordLatency(ctx: Context, key: string, perRep: number[][], note: string): void {
  const p50 = ctx.results.set(
    `${key}.p50`,
    'ms',
    perRep.map((l) => percentile(l, 50)),
    note,
  )
  const p99 = ctx.results.set(
    `${key}.p99`,
    'ms',
    perRep.map((l) => percentile(l, 99)),
    note,
  )
  ctx.log(`  ${`${key}.p50/p99`.padEnd(34)} ${p50.toFixed(3)} / ${p99.toFixed(3)} ms`)
}

/**
 * The calls of one round-trip repetition, in the order they were made: `count` measured calls
 * right after the warm-up (the worker process started moments ago: the issue's figure), then
 * `settle` unmeasured ones, then `count` more measured (the same worker, warm: its code
 * compiled, its heap grown to its working size).
 */
interface RoundTripPlan {
  count: number
  warmup: number
  settle: number
}

/** Records the cold window as `key` and the warm one as `key.warm`. */
function recordRoundTrips(ctx: Context, key: string, plan: RoundTripPlan, perRep: number[][], note: string) {
  const { count, settle } = plan
  recordLatency(
    ctx,
    key,
    perRep.map((l) => l.slice(0, count)),
    `${note}; the first ${count} calls of a fresh worker`,
  )
  recordLatency(
    ctx,
    `${key}.warm`,
    perRep.map((l) => l.slice(count + settle)),
    `${note}; ${count} calls after ${count + settle} more`,
  )
}

export async function roundTripGroup(
  ctx: Context,
  peers: { bullmq: boolean; celery: boolean },
): Promise<void> {
  const { roundTrips: count, reps: r } = ctx.config
  const plan: RoundTripPlan = {
    count,
    warmup: Math.min(50, Math.ceil(count / 10)),
    settle: Math.min(4_000, 4 * count),
  }
  // Each function measures the calls after its warm-up; both windows come from one sequence.
  const calls = 2 * count + plan.settle
  const { qRoundTrips } = await import('./q/roundtrip.js')
  const { pingLatencies } = await import('./brokers.js')
  const q: number[][] = []
  const pings: number[][] = []
  for (let i = 0; i < r; i++) {
    // The host's floor of the moment, right before each repetition (see pingLatencies).
    pings.push(await pingLatencies(ctx.redisUrl, 2 * count))
    q.push(await qRoundTrips(ctx.redisUrl, ctx.backendUrl, queueName(ctx, 'rt'), calls, plan.warmup))
  }
  recordLatency(ctx, 'host.redis.ping', pings, 'sequential PINGs on a bare socket, before each q repetition')
  recordRoundTrips(ctx, 'q.redis.roundtrip', plan, q, 'sequential delay+get, Redis broker and backend')
  const { rawRoundTrips } = await import('./peers/raw-redis.js')
  const raw: number[][] = []
  for (let i = 0; i < r; i++)
    raw.push(await rawRoundTrips(ctx.redisUrl, queueName(ctx, 'rawrt'), calls, plan.warmup))
  recordRoundTrips(
    ctx,
    'raw.redis.roundtrip',
    plan,
    raw,
    'sequential LPUSH + reply on a channel; the worker BRPOPs, stores and PUBLISHes in one EVAL',
  )
  if (peers.bullmq) {
    const b = await import('./peers/bullmq.js')
    const { NodeChild } = await import('./child.js')
    const target = b.bullTarget(ctx.redisUrl, `qb-${ctx.config.runId}`)
    const lat: number[][] = []
    for (let i = 0; i < r; i++) {
      const name = queueName(ctx, 'bullrt')
      const child = new NodeChild('bullmq-worker', {
        target,
        queue: name,
        n: 0,
        concurrency: 10,
        early: true,
      })
      try {
        await child.next('ready', 60_000)
        child.go()
        lat.push(await b.bullRoundTrips(target, name, calls, plan.warmup))
      } finally {
        await child.stop()
      }
    }
    recordRoundTrips(ctx, 'bullmq.roundtrip', plan, lat, 'sequential add+waitUntilFinished (QueueEvents)')
  }
  if (peers.celery) {
    const { celeryRoundTrips } = await import('./peers/celery-python.js')
    const lat: number[][] = []
    for (let i = 0; i < r; i++)
      lat.push(
        await celeryRoundTrips(ctx.redisUrl, ctx.backendUrl, queueName(ctx, 'pyrt'), calls, plan.warmup),
      )
    recordRoundTrips(
      ctx,
      'celery.roundtrip',
      plan,
      lat,
      'sequential delay().get(), Python client and solo worker',
    )
  }
}

// ---------------------------------------------------------------- soak

export async function soakGroup(ctx: Context): Promise<void> {
  const total = ctx.config.soakTasks
  if (!total) return
  const { qSoak } = await import('./q/soak.js')
  const broker = redisBroker(ctx.redisUrl, ctx.redis)
  try {
    const every = Math.max(1, Math.round(total / 20))
    // As memory comes (the level), then settled by a full GC every 1% (the trend): see q/soak.ts.
    const s = await qSoak(broker, queueName(ctx, 'soak'), total, every, false)
    const settled = await qSoak(broker, queueName(ctx, 'soak'), total, every, true)
    const note = `${s.tasks.toLocaleString('en-US')} tasks on Redis, concurrency 100, in ${(s.ms / 1000).toFixed(0)} s`
    const r = ctx.results
    r.set('q.soak.rss.start', 'MB', [s.rssStartMb], note)
    r.set('q.soak.rss.end', 'MB', [s.rssEndMb], note)
    r.set('q.soak.rss.max', 'MB', [s.rssMaxMb], note)
    const how =
      'least squares after the first quarter, over samples taken right after a full GC (every 1% of the tasks, a second run)'
    r.set('q.soak.rss.slope', 'MB/100k tasks', [settled.rssSlope], how)
    r.set('q.soak.heap.slope', 'MB/100k tasks', [settled.heapSlope], how)
    r.set('q.soak.rate', 'msg/s', [rate(s.tasks, s.ms)], note)
    r.set(
      'q.soak.cpu',
      'µs/task',
      [s.cpuUsPerTask],
      `the worker's CPU time (user + system) per task, ${note}`,
    )
    // Once more with the heap settings `q worker` offers (see packages/celery/src/cli/node-flags.ts),
    // as the level: what the same worker needs when V8 is told to keep less room.
    const lean = await qSoak(broker, queueName(ctx, 'soak'), total, every, false, LEAN_HEAP)
    const leanNote = `${note}, node ${LEAN_HEAP.join(' ')}`
    r.set('q.soak.lean.rss.end', 'MB', [lean.rssEndMb], leanNote)
    r.set('q.soak.lean.rss.max', 'MB', [lean.rssMaxMb], leanNote)
    r.set('q.soak.lean.cpu', 'µs/task', [lean.cpuUsPerTask], leanNote)
    r.series['q.soak'] = s.samples
    r.series['q.soak.settled'] = settled.samples
    r.series['q.soak.lean'] = lean.samples
    ctx.log(
      `  q.soak: RSS ${s.rssStartMb} -> ${s.rssEndMb} MB (max ${s.rssMaxMb}), ${s.cpuUsPerTask.toFixed(1)} µs CPU per task; settled run: slope ${settled.rssSlope.toFixed(2)} MB/100k, heap slope ${settled.heapSlope.toFixed(2)} MB/100k`,
    )
    ctx.log(
      `  q.soak.lean: RSS ${lean.rssStartMb} -> ${lean.rssEndMb} MB (max ${lean.rssMaxMb}), ${lean.cpuUsPerTask.toFixed(1)} µs CPU per task`,
    )
  } finally {
    await broker.close()
  }
}
