/**
 * What one run measures and where: message count, repetitions, broker URLs, queue names and the
 * payload. `--quick` is the CI smoke: few messages, one repetition, q and the raw loops only.
 */
import { randomBytes } from 'node:crypto'

/** Options of a run, from the command line. */
export interface BenchConfig {
  readonly quick: boolean
  /** Messages (no-op tasks) per measurement. */
  readonly n: number
  /** Repetitions; each figure is their median. */
  readonly reps: number
  /** Sequential delay+get calls of the round-trip measurement. */
  readonly roundTrips: number
  /** Tasks of the worker-memory soak (0 = skip it). */
  readonly soakTasks: number
  /** Worker concurrencies of the drain measurements. */
  readonly concurrencies: readonly number[]
  /** BullMQ concurrencies tried (its best is the peer figure). */
  readonly bullmqConcurrencies: readonly number[]
  /** Which groups to run (all by default; `--only=q-redis,bullmq` to narrow). */
  readonly only: ReadonlySet<string> | undefined
  /** A JSON file of source patches applied to the worker bundle (see bundle.ts). */
  readonly patch: string | undefined
  /** Prefetch multiplier of the q workers (Celery's default, 4, unless given). */
  readonly prefetchMultiplier: number
  /** Run the worker processes from the sources under tsx instead of the esbuild bundle. */
  readonly tsxWorkers: boolean
  /** Profile the q worker (`node --cpu-prof`) in the drain runs; profiles go to results/profiles/. */
  readonly profile: boolean
  readonly redisUrl: string
  readonly redisDb: number
  readonly amqpBase: string
  /** A tag unique to this run: queue names and the RabbitMQ vhost carry it. */
  readonly runId: string
}

function flag(argv: readonly string[], name: string): string | undefined {
  const hit = argv.find((a) => a === `--${name}` || a.startsWith(`--${name}=`))
  if (!hit) return undefined
  return hit.includes('=') ? hit.slice(hit.indexOf('=') + 1) : ''
}

function int(v: string | undefined, fallback: number): number {
  if (v === undefined || v === '') return fallback
  const n = Number(v.replace(/_/g, ''))
  if (!Number.isInteger(n) || n < 0) throw new Error(`expected a whole number, got '${v}'`)
  return n
}

/** Reads the command line (and BENCH_* environment variables for the broker addresses). */
export function parseArgs(argv: readonly string[], env = process.env): BenchConfig {
  const quick = flag(argv, 'quick') !== undefined
  const only = flag(argv, 'only')
  return {
    quick,
    n: int(flag(argv, 'n'), quick ? 1_000 : 20_000),
    reps: Math.max(1, int(flag(argv, 'reps'), quick ? 1 : 3)),
    roundTrips: int(flag(argv, 'round-trips'), quick ? 100 : 1_000),
    soakTasks: int(flag(argv, 'soak'), quick ? 0 : 1_000_000),
    concurrencies: [1, 10, 100],
    bullmqConcurrencies: quick ? [50] : [10, 50, 100],
    only: only ? new Set(only.split(',').map((s) => s.trim())) : undefined,
    profile: flag(argv, 'profile') !== undefined,
    tsxWorkers: flag(argv, 'tsx-workers') !== undefined,
    patch: flag(argv, 'patch') || undefined,
    prefetchMultiplier: Math.max(1, int(flag(argv, 'prefetch-multiplier'), 4)),
    redisUrl: env.BENCH_REDIS ?? 'redis://127.0.0.1:6379',
    redisDb: int(env.BENCH_REDIS_DB, 8),
    amqpBase: env.BENCH_AMQP ?? 'amqp://guest:guest@127.0.0.1:5672',
    runId: `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`,
  }
}

/** The groups of measurements, in the order they run. */
export const GROUPS = [
  'q-memory',
  'raw-redis',
  'q-redis',
  'bullmq',
  'celery-redis',
  'raw-amqp',
  'q-amqp',
  'celery-amqp',
  'roundtrip',
  'soak',
] as const
export type Group = (typeof GROUPS)[number]

/** The groups --quick runs: no BullMQ, no Python, no soak. */
export const QUICK_GROUPS: ReadonlySet<Group> = new Set([
  'q-memory',
  'raw-redis',
  'q-redis',
  'raw-amqp',
  'q-amqp',
  'roundtrip',
])

/** Whether a group is part of this run. */
export function wants(config: BenchConfig, group: Group): boolean {
  if (config.only) return config.only.has(group)
  return config.quick ? QUICK_GROUPS.has(group) : true
}

/** The Redis URL of the bench's database. */
export function redisUrl(config: BenchConfig): string {
  return `${config.redisUrl.replace(/\/\d*$/, '')}/${config.redisDb}`
}

/**
 * The padding that makes each message about 300 bytes: q's task body
 * (`[[padding], {}, {"callbacks": null, ...}]`) and the raw/BullMQ payloads
 * (`{"task":"bench.noop","args":[padding]}`) both come out at ~300 bytes of JSON.
 */
export const PADDING = 'x'.repeat(216)

/** The ~300-byte payload of the raw loops and BullMQ jobs. */
export const RAW_PAYLOAD = JSON.stringify({
  task: 'bench.noop',
  id: '00000000-0000-0000-0000-000000000000',
  args: [PADDING],
})

/** The task every measurement runs: does nothing. */
export const TASK_NAME = 'bench.noop'
