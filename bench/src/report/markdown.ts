/**
 * latest.md: the run's figures side by side, with the ratios q/peer and q/limit, and the bar.
 */
import type { Results } from '../results.js'
import { bullBestDrain, type Check, qBestDrain } from './bar.js'

/** What the report says about the run itself. */
export interface RunInfo {
  date: string
  quick: boolean
  n: number
  reps: number
  roundTrips: number
  durationSec: number
  /** The commit measured (see main.ts); absent in reports of older runs. */
  code?: string
  machine: string
  versions: Record<string, string>
  configurations: string[]
}

/** A table row: a label and the keys of each column (undefined: not applicable). */
interface Row {
  label: string
  q: string | undefined
  peers: Array<string | undefined>
  /** Latencies and memory: lower is better. */
  lower?: boolean
}

/** A round-trip row: q, BullMQ, Celery and the raw loop, for one figure (`p50`, `warm.p99`...). */
const roundTripRow = (label: string, figure: string): Row => ({
  label,
  q: `q.redis.roundtrip.${figure}`,
  peers: [`bullmq.roundtrip.${figure}`, `celery.roundtrip.${figure}`, `raw.redis.roundtrip.${figure}`],
  lower: true,
})

/** The host's one-hop floor of the run (bare-socket PINGs), under the Redis table when measured. */
function hostFloor(r: Results): string[] {
  const p50 = value(r, 'host.redis.ping.p50')
  const p99 = value(r, 'host.redis.ping.p99')
  if (!Number.isFinite(p50)) return []
  return [
    '',
    `One hop to Redis and back on this host during the round trips (sequential PINGs on a bare socket, no client library): p50 ${p50.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms. A PING crosses twice (to Redis and back); a round trip of \`delay\` + \`get\` crosses at least four times, in q as in the raw loop (client to Redis, Redis to the worker, the worker to Redis, Redis to the client): two PINGs is its floor.`,
  ]
}

const num = (v: number, unit?: string) => {
  if (!Number.isFinite(v)) return '—'
  if (unit === 'ms') return v < 100 ? v.toFixed(3) : Math.round(v).toLocaleString('en-US')
  if (unit === 'MB') return v.toFixed(1)
  return Math.round(v).toLocaleString('en-US')
}

function value(r: Results, key: string | undefined): number {
  if (!key) return Number.NaN
  if (key.startsWith('best:')) {
    const what = key.slice(5)
    return what === 'bullmq'
      ? bullBestDrain(r).value
      : qBestDrain(r, what as 'redis' | 'amqp' | 'memory').value
  }
  return r.get(key)
}

function unitOf(r: Results, key: string | undefined): string | undefined {
  if (!key || key.startsWith('best:')) return 'msg/s'
  return r.measurements[key]?.unit
}

function table(r: Results, head: string[], rows: Row[]): string {
  const peers = head.length - 2
  const lines = [
    `| ${head.join(' | ')} | ${head
      .slice(2)
      .map((h) => `q/${h.split(' ')[0]}`)
      .join(' | ')} |`,
    `|${' --- |'.repeat(head.length + peers)}`,
  ]
  for (const row of rows) {
    const unit = unitOf(r, row.q ?? row.peers.find(Boolean))
    const q = value(r, row.q)
    const cells = row.peers.map((k) => num(value(r, k), unitOf(r, k)))
    const ratios = row.peers.map((k) => {
      const v = q / value(r, k)
      return Number.isFinite(v) ? `${v.toFixed(2)}` : '—'
    })
    lines.push(`| ${row.label} | **${num(q, unit)}** | ${cells.join(' | ')} | ${ratios.join(' | ')} |`)
  }
  return lines.join('\n')
}

function checkTable(checks: readonly Check[]): string {
  const mark = (p: boolean | undefined) => (p === undefined ? 'not measured' : p ? '**met**' : '**short**')
  return [
    "| goal | this run (raw: the issue's 300-byte message) | target | | diagnostic: the raw loop sending q's own message, and the broker alone fed it (round trip: the raw loop over the same path) |",
    '| --- | --- | --- | --- | --- |',
    ...checks.map(
      (c) =>
        `| ${c.goal} | ${c.measured} | ${c.target} | ${mark(c.pass)} | ${[c.diagnostic?.measured, c.ceiling?.measured].filter(Boolean).join('; ')} |`,
    ),
  ].join('\n')
}

/** What the rows "raw, same message as q" are, under each broker's heading. */
const SAME_MESSAGE =
  'Rows marked "raw, same message as q": the raw loop sends, verbatim, the message q sends for the no-op task (Celery headers and properties on RabbitMQ, Kombu\'s JSON envelope on Redis) instead of the issue\'s bare ~300 bytes: a diagnostic of how close q is to what the broker allows for that message. Rows marked "broker alone": no client library at all, the message\'s bytes encoded once and written again and again on a bare socket, so the broker has the machine to itself: the most any client could publish of that message here. The bar is held against the 300-byte client loops.'

/** The whole report. */
export function markdown(r: Results, checks: readonly Check[], info: RunInfo): string {
  const redisRows: Row[] = [
    {
      label: 'publish, one awaited call (msg/s)',
      q: 'q.redis.publish.single',
      peers: ['bullmq.publish.single', undefined, 'raw.redis.publish.single'],
    },
    {
      label: 'publish, batched (msg/s)',
      q: 'q.redis.publish.batched',
      peers: ['bullmq.publish.batched', undefined, 'raw.redis.publish.batched'],
    },
    {
      label: 'publish, one awaited call; raw, same message as q',
      q: 'q.redis.publish.single',
      peers: [undefined, undefined, 'raw.redis.publish.single.same'],
    },
    {
      label: 'publish, batched; raw, same message as q',
      q: 'q.redis.publish.batched',
      peers: [undefined, undefined, 'raw.redis.publish.batched.same'],
    },
    {
      label: 'publish, batched; broker alone (the LPUSH pre-encoded on a bare socket)',
      q: 'q.redis.publish.batched',
      peers: [undefined, undefined, 'wire.redis.publish'],
    },
    {
      label: 'publish, batched; broker alone, same message as q',
      q: 'q.redis.publish.batched',
      peers: [undefined, undefined, 'wire.redis.publish.same'],
    },
    {
      label: 'drain, concurrency 1 (tasks/s; raw: BRPOP one at a time)',
      q: 'q.redis.drain.c1',
      peers: ['bullmq.drain.c1', 'celery.redis.drain', 'raw.redis.drain.brpop'],
    },
    {
      label: 'drain, concurrency 10',
      q: 'q.redis.drain.c10',
      peers: ['bullmq.drain.c10', undefined, undefined],
    },
    {
      label: 'drain, concurrency 50',
      q: 'q.redis.drain.c50',
      peers: ['bullmq.drain.c50', undefined, undefined],
    },
    {
      label: 'drain, concurrency 100',
      q: 'q.redis.drain.c100',
      peers: ['bullmq.drain.c100', undefined, undefined],
    },
    {
      label: 'drain, best of each (raw: RPOP 100 a call)',
      q: 'best:redis',
      peers: ['best:bullmq', 'celery.redis.drain', 'raw.redis.drain.rpop100'],
    },
    {
      label: 'drain, concurrency 1; raw, same message as q (BRPOP)',
      q: 'q.redis.drain.c1',
      peers: [undefined, undefined, 'raw.redis.drain.brpop.same'],
    },
    {
      label: 'drain, best; raw, same message as q (RPOP 100)',
      q: 'best:redis',
      peers: [undefined, undefined, 'raw.redis.drain.rpop100.same'],
    },
    { label: 'end to end (tasks/s)', q: 'q.redis.e2e', peers: [undefined, undefined, undefined] },
    roundTripRow('round trip p50 (ms)', 'p50'),
    roundTripRow('round trip p99 (ms)', 'p99'),
    roundTripRow('round trip p50, warm worker (ms)', 'warm.p50'),
    roundTripRow('round trip p99, warm worker (ms)', 'warm.p99'),
    {
      label: 'worker start() before consuming (ms)',
      q: 'q.redis.drain.c100.startup',
      peers: [undefined, undefined, undefined],
      lower: true,
    },
    {
      label: 'worker RSS at start (MB)',
      q: 'q.redis.drain.c100.rss.start',
      peers: [
        'bullmq.drain.c50.rss.start',
        'celery.redis.drain.rss.start',
        'raw.redis.drain.rpop100.rss.start',
      ],
      lower: true,
    },
    {
      label: 'worker RSS after the drain (MB)',
      q: 'q.redis.drain.c100.rss.end',
      peers: ['bullmq.drain.c50.rss.end', 'celery.redis.drain.rss.end', 'raw.redis.drain.rpop100.rss.end'],
      lower: true,
    },
  ]
  const amqpRows: Row[] = [
    {
      label: 'publish, one awaited call (msg/s; raw: amqplib publish never waits)',
      q: 'q.amqp.publish.single',
      peers: [undefined, 'raw.amqp.publish.batched'],
    },
    {
      label: 'publish, batched (msg/s)',
      q: 'q.amqp.publish.batched',
      peers: [undefined, 'raw.amqp.publish.batched'],
    },
    {
      label: 'publish, batched; raw, same message as q',
      q: 'q.amqp.publish.batched',
      peers: [undefined, 'raw.amqp.publish.batched.same'],
    },
    {
      label: 'publish, batched; broker alone (the frames pre-encoded on a bare socket)',
      q: 'q.amqp.publish.batched',
      peers: [undefined, 'wire.amqp.publish'],
    },
    {
      label: 'publish, batched; broker alone, same message as q',
      q: 'q.amqp.publish.batched',
      peers: [undefined, 'wire.amqp.publish.same'],
    },
    {
      label: 'drain, concurrency 1 (tasks/s)',
      q: 'q.amqp.drain.c1',
      peers: ['celery.amqp.drain', 'raw.amqp.drain.ack-each'],
    },
    { label: 'drain, concurrency 10', q: 'q.amqp.drain.c10', peers: [undefined, 'raw.amqp.drain.ack-each'] },
    {
      label: 'drain, concurrency 100',
      q: 'q.amqp.drain.c100',
      peers: [undefined, 'raw.amqp.drain.ack-each'],
    },
    {
      label: 'drain, best vs ack each',
      q: 'best:amqp',
      peers: ['celery.amqp.drain', 'raw.amqp.drain.ack-each'],
    },
    {
      label: 'drain, best vs ack each; raw, same message as q',
      q: 'best:amqp',
      peers: [undefined, 'raw.amqp.drain.ack-each.same'],
    },
    {
      label: 'drain, best vs multiple acks',
      q: 'best:amqp',
      peers: [undefined, 'raw.amqp.drain.ack-multiple'],
    },
    { label: 'end to end (tasks/s)', q: 'q.amqp.e2e', peers: [undefined, undefined] },
    {
      label: 'worker start() before consuming (ms)',
      q: 'q.amqp.drain.c100.startup',
      peers: [undefined, undefined],
      lower: true,
    },
    {
      label: 'worker RSS at start (MB)',
      q: 'q.amqp.drain.c100.rss.start',
      peers: ['celery.amqp.drain.rss.start', 'raw.amqp.drain.ack-each.rss.start'],
      lower: true,
    },
    {
      label: 'worker RSS after the drain (MB)',
      q: 'q.amqp.drain.c100.rss.end',
      peers: ['celery.amqp.drain.rss.end', 'raw.amqp.drain.ack-each.rss.end'],
      lower: true,
    },
  ]
  const memRows: Row[] = [
    {
      label: 'publish, one awaited call (msg/s)',
      q: 'q.memory.publish.single',
      peers: ['kombu.memory.publish'],
    },
    { label: 'publish, batched (msg/s)', q: 'q.memory.publish.batched', peers: [undefined] },
    { label: 'drain, concurrency 1 (tasks/s)', q: 'q.memory.drain.c1', peers: [undefined] },
    { label: 'drain, concurrency 10', q: 'q.memory.drain.c10', peers: [undefined] },
    { label: 'drain, concurrency 100', q: 'q.memory.drain.c100', peers: ['kombu.memory.drain'] },
    { label: 'end to end (tasks/s)', q: 'q.memory.e2e', peers: ['kombu.memory.e2e'] },
  ]
  const has = (rows: Row[]) => rows.some((row) => Number.isFinite(value(r, row.q)))
  const keep = (rows: Row[]) =>
    rows.filter((row) => [row.q, ...row.peers].some((k) => Number.isFinite(value(r, k))))
  const out: string[] = [
    `# q bench: ${info.date}${info.quick ? ' (--quick smoke)' : ''}`,
    '',
    `N = ${info.n.toLocaleString('en-US')} no-op tasks of ~300 bytes per measurement, ${info.reps} repetition(s), each figure the median;`,
    `round trips: ${info.roundTrips.toLocaleString('en-US')} sequential calls per repetition. Whole run: ${Math.round(info.durationSec)} s.${info.code ? ` Code: ${info.code}.` : ''}`,
    `Machine: ${info.machine}. The machine is shared and noisy: ratios taken within this run are what count.`,
    '',
    `Versions: ${Object.entries(info.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    '',
    '## The bar (issue 8)',
    '',
    checkTable(checks),
  ]
  if (has(redisRows))
    out.push(
      '',
      '## Redis',
      '',
      'Ratios are q divided by the column (for latency and memory, lower is better).',
      SAME_MESSAGE,
      '',
      table(r, ['', 'q', 'BullMQ', 'Celery (Python)', 'raw ioredis'], keep(redisRows)),
      ...hostFloor(r),
    )
  if (has(amqpRows))
    out.push(
      '',
      '## RabbitMQ',
      '',
      SAME_MESSAGE,
      '',
      table(r, ['', 'q', 'Celery (Python)', 'raw amqplib'], keep(amqpRows)),
    )
  if (has(memRows))
    out.push(
      '',
      '## Memory transport (one process)',
      '',
      table(r, ['', 'q (@q/celery)', '@q/kombu alone'], keep(memRows)),
    )
  const soak = r.series['q.soak']
  const settledAt = new Map((r.series['q.soak.settled'] ?? []).map((s) => [s.count, s]))
  const leanAt = new Map((r.series['q.soak.lean'] ?? []).map((s) => [s.count, s]))
  if (soak?.length) {
    out.push(
      '',
      '## Worker memory over a long run (q on Redis)',
      '',
      `${r.measurements['q.soak.rss.end']?.note ?? ''}: ${num(r.get('q.soak.rate'))} tasks/s${Number.isFinite(r.get('q.soak.cpu')) ? `, ${r.get('q.soak.cpu').toFixed(1)} µs of the worker's CPU per task` : ''}. The trend comes from a second run in which the worker (\`--expose-gc\`) runs a full garbage collection every 1% of the tasks and is sampled right after it: after warm-up (the first quarter), RSS slope ${r.get('q.soak.rss.slope').toFixed(2)} MB and heap slope ${r.get('q.soak.heap.slope').toFixed(2)} MB per 100k tasks. As they come, RSS and heap swing with the collection cycle by more than the trend to measure; the frequent collections keep that run's RSS lower, so its level is not the one reported. A third run gives the worker the heap settings \`q worker\` offers to keep less room (\`--max-semi-space-size=4\`, \`--heap-growing-percent=30\`)${Number.isFinite(r.get('q.soak.lean.cpu')) ? `: ${r.get('q.soak.lean.cpu').toFixed(1)} µs of its CPU per task` : ''}.`,
      '',
      '| tasks run | RSS (MB) | heap used (MB) | settled run: RSS after a full GC (MB) | heap after a full GC (MB) | lean heap run: RSS (MB) |',
      '| --- | --- | --- | --- | --- | --- |',
      ...soak.map((s) => {
        const after = s.count > 0 ? settledAt.get(s.count) : undefined
        return `| ${s.count.toLocaleString('en-US')} | ${num(s.rssMb, 'MB')} | ${num(s.heapMb, 'MB')} | ${num(after?.rssMb ?? Number.NaN, 'MB')} | ${num(after?.heapMb ?? Number.NaN, 'MB')} | ${num(leanAt.get(s.count)?.rssMb ?? Number.NaN, 'MB')} |`
      }),
    )
  }
  out.push('', '## How each was measured', '', ...info.configurations.map((c) => `- ${c}`))
  const skipped = Object.entries(r.skipped)
  const errors = Object.entries(r.errors)
  if (skipped.length) out.push('', '## Skipped', '', ...skipped.map(([g, why]) => `- ${g}: ${why}`))
  if (errors.length)
    out.push('', '## Errors', '', ...errors.map(([g, e]) => `- ${g}: \`${e.split('\n')[0]}\``))
  return `${out.join('\n')}\n`
}
