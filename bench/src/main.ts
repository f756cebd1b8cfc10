/**
 * q measured against its real peers, side by side in one run (issue 8). See ../README.md.
 *
 *   pnpm bench              N=20,000, 3 repetitions, every group (~10 min)
 *   pnpm bench --quick      CI smoke: N=1,000, 1 repetition, q and the raw loops only (<60 s)
 *   pnpm bench --only=q-redis,bullmq --n=5000 --reps=1 --profile
 *
 * Writes results/latest.{json,md,png} (--quick: results/tmp/quick.*, --only: results/tmp/partial.*). Exits non-zero only when
 * a measurement crashed, never because a number is slow.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { type AmqpAdmin, RabbitVhost, RedisAdmin, reachable } from './brokers.js'
import { usePatches, workerBundle } from './bundle.js'
import { chartPng } from './chart.js'
import { setRuntime } from './child.js'
import { type Group, parseArgs, redisUrl, wants } from './config.js'
import type { QBroker } from './q/broker.js'
import { prefetchMultiplier, setPrefetchMultiplier } from './q/drain.js'
import { checks } from './report/bar.js'
import { markdown } from './report/markdown.js'
import { Results } from './results.js'
import * as suite from './suite.js'

const config = parseArgs(process.argv.slice(2))
setPrefetchMultiplier(config.prefetchMultiplier)
const started = performance.now()
const results = new Results()
const log = (line: string) => console.log(line)
const load0 = loadavg()

/**
 * The commit measured, and whether the library or bench sources differ from it (a run of work in
 * progress); undefined outside a git checkout.
 */
function codeVersion(): string | undefined {
  const root = fileURLToPath(new URL('../../', import.meta.url))
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  try {
    const head = git('rev-parse', '--short', 'HEAD')
    const dirty = git('status', '--porcelain', '--', 'packages', 'bench/src') !== ''
    return dirty ? `${head}, with uncommitted changes to packages/ or bench/src/` : head
  } catch {
    return undefined
  }
}

function pkgVersion(name: string): string {
  try {
    const url = new URL(`../node_modules/${name}/package.json`, import.meta.url)
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version
  } catch {
    return '?'
  }
}

log(
  `q bench${config.quick ? ' --quick' : ''}: N=${config.n}, ${config.reps} repetition(s), run ${config.runId}`,
)

const redisOk = await reachable(config.redisUrl, 6379)
const amqpOk = await reachable(config.amqpBase, 5672)
const versions: Record<string, string> = {
  node: process.version,
  bullmq: pkgVersion('bullmq'),
  amqplib: pkgVersion('amqplib'),
  ioredis: pkgVersion('ioredis'),
}
const brokerUrl = redisUrl(config)
const backendUrl = `${brokerUrl.replace(/\/\d+$/, '')}/${config.redisDb + 1}`
const redis = redisOk ? new RedisAdmin(brokerUrl) : undefined
const backendAdmin = redisOk ? new RedisAdmin(backendUrl) : undefined
let vhost: RabbitVhost | undefined
let qAmqp: { broker: QBroker; admin: AmqpAdmin } | undefined
let pythonCelery: string | undefined

const ctx: suite.Context = {
  config,
  results,
  redisUrl: brokerUrl,
  backendUrl,
  // Only read by the groups that need Redis, which do not run without it.
  redis: redis as RedisAdmin,
  amqpUrl: '',
  log,
}

/** Runs one group, recording a crash instead of stopping the run. */
async function group(
  name: Group,
  needs: { redis?: boolean; amqp?: boolean; python?: boolean },
  fn: () => Promise<void>,
) {
  if (!wants(config, name)) return
  const missing =
    needs.redis && !redisOk
      ? `Redis does not answer at ${config.redisUrl}`
      : needs.amqp && !amqpOk
        ? `RabbitMQ does not answer at ${config.amqpBase}`
        : needs.python && !pythonCelery
          ? 'no Python Celery at /usr/bin/python3 (apt-get install python3-celery)'
          : undefined
  if (missing) {
    results.skipped[name] = missing
    log(`${name}: skipped (${missing})`)
    return
  }
  log(`${name}`)
  const t0 = performance.now()
  try {
    await fn()
  } catch (err) {
    results.errors[name] = err instanceof Error ? (err.stack ?? err.message) : String(err)
    console.error(`  ${name} failed: ${results.errors[name]}`)
  }
  log(`  (${((performance.now() - t0) / 1000).toFixed(1)} s)`)
}

try {
  const patched = usePatches(config.patch)
  if (patched.length) log(`  worker bundle patched: ${patched.map((p) => p.file).join(', ')}`)
  if (!config.tsxWorkers) setRuntime({ kind: 'bundle', file: await workerBundle() })
  if (redis) {
    await redis.flush()
    await backendAdmin?.flush()
    const info = await redis.client.info('server')
    versions.redis = /redis_version:(\S+)/.exec(info)?.[1] ?? '?'
  }
  if (wants(config, 'celery-redis') || wants(config, 'celery-amqp') || wants(config, 'roundtrip')) {
    const { celeryVersion } = await import('./peers/celery-python.js')
    pythonCelery = config.quick ? undefined : celeryVersion()
    if (pythonCelery) versions['Python Celery'] = pythonCelery
  }
  const amqpWanted = ['raw-amqp', 'q-amqp', 'celery-amqp'].some((g) => wants(config, g as Group))
  if (amqpOk && amqpWanted) {
    vhost = await RabbitVhost.create(config.amqpBase, `q-bench-${config.runId}`)
    ctx.amqpUrl = vhost.url
    // q's transport loads amqplib first (it installs its header codec), then the raw clients.
    qAmqp = await suite.openQAmqp(ctx)
    versions.RabbitMQ = qAmqp.admin.serverVersion
  }

  await group('q-memory', {}, () => suite.qMemoryGroup(ctx))
  await group('raw-redis', { redis: true }, () => suite.rawRedisGroup(ctx))
  await group('q-redis', { redis: true }, () => suite.qRedisGroup(ctx))
  await group('bullmq', { redis: true }, () => suite.bullmqGroup(ctx))
  await group('celery-redis', { redis: true, python: true }, () => suite.celeryRedisGroup(ctx))
  await group('raw-amqp', { amqp: true }, () => suite.rawAmqpGroup(ctx, qAmqp!.broker))
  await group('q-amqp', { amqp: true }, () => suite.qAmqpGroup(ctx, qAmqp!.broker))
  await group('celery-amqp', { amqp: true, python: true }, () => suite.celeryAmqpGroup(ctx, qAmqp!.broker))
  await group('roundtrip', { redis: true }, () =>
    suite.roundTripGroup(ctx, { bullmq: !config.quick, celery: pythonCelery !== undefined }),
  )
  await group('soak', { redis: true }, () => suite.soakGroup(ctx))
} finally {
  await qAmqp?.broker.close().catch(() => {})
  await qAmqp?.admin.close().catch(() => {})
  await vhost?.delete()
  await redis?.flush().catch(() => {})
  await backendAdmin?.flush().catch(() => {})
  await redis?.close()
  await backendAdmin?.close()
}

const durationSec = (performance.now() - started) / 1000
const bar = checks(results)
const cores = cpus()
const info = {
  date: new Date().toISOString(),
  quick: config.quick,
  n: config.n,
  reps: config.reps,
  roundTrips: config.roundTrips,
  durationSec,
  code: codeVersion(),
  machine: `${cores.length} x ${cores[0]?.model ?? '?'}, load average ${load0[0]!.toFixed(1)} at the start and ${loadavg()[0]!.toFixed(1)} at the end`,
  versions,
  configurations: [
    `Worker processes: each drain runs its worker in a Node process of its own, from an esbuild bundle of the sources (condition @q/source) under plain \`node\`, drivers from node_modules${config.tsxWorkers ? ' (this run: under tsx, --tsx-workers)' : ''}${config.patch ? `; this run patched the bundle with ${config.patch}` : ''}.`,
    `q: @q/celery worker, concurrency 1/10/100, prefetch = concurrency x ${prefetchMultiplier()} (${prefetchMultiplier() === 4 ? "Celery's default multiplier; 10 measured slower on Redis" : "this run's --prefetch-multiplier; Celery's default is 4"}), acks early, no result backend (results ignored), log level warn; timed from workerReady (consumer up) until the N-th task ran; start() before that (connect, remote control, 1 s of mingle) is reported apart as startup. Publish: \`applyAsync\` awaited one at a time, and \`applyMany\` of 1,000 calls a batch (batched); on RabbitMQ timed until the queue holds all N. End to end: worker at concurrency 100 consuming while the N tasks are published (batched).`,
    'BullMQ: Worker, concurrency 10/50/100 (best counts), jobs added with removeOnComplete/removeOnFail, default locks and stalled checks; timed from worker.run() until N `completed` events. Publish: `add` awaited one at a time, and `addBulk` of 1,000.',
    'Python Celery 5 (Debian): `celery worker -P solo --prefetch-multiplier 64 -l warning --without-gossip --without-mingle --without-heartbeat`, task_ignore_result; timed in the worker from worker_ready to the N-th task. The queue is filled by q (Celery protocol v2, which the Python worker runs as its own).',
    'Raw ioredis: LPUSH awaited one at a time, and pipelined 1,000 per round trip; drain with RPOP count 100 (limit) and BRPOP one per call. Each loop runs twice: with the issue\'s bare ~300-byte payload (what the bar is held against), and with the exact envelope string q LPUSHes for the no-op task, captured once from q ("raw, same message as q": a diagnostic, how close q is to what Redis allows for the message q has to send).',
    "Raw amqplib: durable queue, persistent messages through the default exchange on a plain channel with drain backpressure, timed until the queue holds all N; drain with prefetch 1,000 and one ack per message (the limit of the bar) or one `multiple` ack per event-loop turn. Publish and ack-each drain run twice: with the issue's bare ~300-byte body, no headers (what the bar is held against), and with the message q publishes for the no-op task, taken once off a queue and sent verbatim (same body, Celery's ~19 headers typed as q writes them, same properties; default exchange): \"raw, same message as q\", a diagnostic of how close q is to what RabbitMQ allows for that message. In that loop the publisher (the bench process) encodes the headers with q's codec, which q installs in amqplib there, while the consumer process decodes them with amqplib's own, slower codec.",
    "The brokers alone (rows \"broker alone\"): no client library, the message's bytes encoded once and written again and again on a bare socket, so the broker has both cores to itself: what it accepts of that message here, the most any client could publish of it. RabbitMQ: the frames amqplib writes for one basic.publish (method, content header, body), taken from amqplib as it writes them, written 100 copies a socket write on a connection of their own (no heartbeats), timed until the queue holds all N; with the bare message and with q's. Redis: one variadic LPUSH of 1,000 copies (as q's batched publish sends), its RESP bytes built once, each batch awaited before the next (one round trip per 1,000, as the pipelined loop); with the bare payload and with q's envelope.",
    `Round trip: sequential delay+get (BullMQ: add + waitUntilFinished) against a worker process started for the repetition: the ${config.roundTrips} calls after a short warm-up (the issue's figure, held against the bar), then, after ${Math.min(4000, 4 * config.roundTrips)} more calls to the same worker, ${config.roundTrips} calls again ("warm worker": its code compiled, its heap grown); Redis broker (db ${config.redisDb}) and Redis result backend (db ${config.redisDb + 1}); workers at concurrency 10 (Celery: solo); the q worker runs from the bundle as the others (the bundle holds @q/backend-redis, which @q/celery loads by name). Raw ioredis, the limit of that path: the client LPUSHes the 300-byte payload and waits for it on a channel subscribed once; a fresh worker process per repetition (as q's) BRPOPs it and stores and PUBLISHes it in one EVAL (as the result backends do).`,
    'RSS: of the worker process, read when it is ready (before the run) and when it finished; q at concurrency 100, BullMQ at 50, Celery from /proc. A bare `node` is ~43 MB here and node + ioredis ~67 MB.',
  ],
}
const report = {
  ...info,
  runId: config.runId,
  bar: bar,
  measurements: results.measurements,
  series: results.series,
  skipped: results.skipped,
  errors: results.errors,
}

// Only a full run replaces results/latest.*; a smoke or a partial run writes to results/tmp/.
const full = !config.quick && !config.only && !config.patch && config.prefetchMultiplier === 4
const dir = fileURLToPath(new URL(full ? '../results/' : '../results/tmp/', import.meta.url))
const base = config.quick ? 'quick' : full ? 'latest' : 'partial'
mkdirSync(dir, { recursive: true })
writeFileSync(`${dir}${base}.json`, `${JSON.stringify(report, null, 2)}\n`)
writeFileSync(`${dir}${base}.md`, markdown(results, bar, info))
const chart = await chartPng(
  results,
  `q vs peers, N=${config.n.toLocaleString('en-US')}, ${info.date.slice(0, 10)}`,
)
if (chart.png) writeFileSync(`${dir}${base}.png`, chart.png)
else {
  writeFileSync(`${dir}${base}.svg`, chart.svg)
  console.warn(`PNG not rendered (${chart.error}); wrote ${base}.svg instead`)
}

log('')
for (const c of bar)
  log(
    `${c.pass === undefined ? '  ?  ' : c.pass ? ' met ' : 'SHORT'} ${c.goal}: ${c.measured} (target ${c.target})`,
  )
log(`\nwritten to ${dir}${base}.{json,md,png} in ${durationSec.toFixed(0)} s`)
const failed = Object.keys(results.errors)
if (failed.length) {
  console.error(`\n${failed.length} group(s) crashed: ${failed.join(', ')}`)
  process.exitCode = 1
}
// Clients that linger (a BullMQ or ioredis socket) must not keep the run alive.
setTimeout(() => process.exit(), 2_000).unref()
