/**
 * The bar issue 8 holds q to, as checks on one run's figures. Ratios are taken within the run
 * (peers and limits measured minutes apart on the same machine), never against old numbers.
 */
import type { Results } from '../results.js'

/** One goal and how this run did. */
export interface Check {
  goal: string
  /** What was compared, in words (`q 41,000 / BullMQ 13,700`). */
  measured: string
  /** The ratio or the figure held against the target. */
  value: number
  target: string
  /** undefined: not measured in this run. */
  pass: boolean | undefined
  /**
   * What the broker and machine allow, beside the check; `pass` stays the definition. For
   * the checks against a raw loop: q against the same loop sending the very message q sends
   * (Celery's headers, Kombu's envelope) instead of the bare 300 bytes. For the round
   * trip: the raw loop over the same path.
   */
  diagnostic?: { measured: string; value: number }
  /**
   * For the publish checks: the broker alone, fed q's message pre-encoded on a bare socket (no
   * client work per message), divided by the raw loop's bare rate the check is held against: the
   * highest ratio any client sending that message could score in this run. Below the target, no
   * client can meet it.
   */
  ceiling?: { measured: string; value: number }
}

const n = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : 'n/a')
const x = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}x` : 'n/a')

/** The best drain of q on `broker` over the concurrencies measured. */
export function qBestDrain(r: Results, broker: 'redis' | 'amqp' | 'memory') {
  return r.best(
    Object.keys(r.measurements).filter((k) => new RegExp(`^q\\.${broker}\\.drain\\.c\\d+$`).test(k)),
  )
}

/** BullMQ's best drain over the concurrencies measured. */
export function bullBestDrain(r: Results) {
  return r.best(Object.keys(r.measurements).filter((k) => /^bullmq\.drain\.c\d+$/.test(k)))
}

function ratio(
  goal: string,
  target: number,
  a: { label: string; value: number },
  b: { label: string; value: number },
): Check {
  const value = a.value / b.value
  return {
    goal,
    measured: `${a.label} ${n(a.value)} / ${b.label} ${n(b.value)} = ${x(value)}`,
    value,
    target: `>= ${target}x`,
    pass: Number.isFinite(value) ? value >= target : undefined,
  }
}

/**
 * The raw round trip's figure, as the diagnostic of a latency check: what this machine allows a
 * delay+get that takes the same path with nothing else to do (LPUSH, BRPOP in a fresh worker
 * process, the result stored and PUBLISHed in one EVAL, a subscriber).
 */
function rawRoundTrip(r: Results, p: 'p50' | 'p99'): Pick<Check, 'diagnostic'> {
  const raw = r.get(`raw.redis.roundtrip.${p}`)
  if (!Number.isFinite(raw)) return {}
  const warm = r.get(`raw.redis.roundtrip.warm.${p}`)
  const after = Number.isFinite(warm) ? ` (warm: ${warm.toFixed(3)} ms)` : ''
  // The host's one-hop floor of the run (a round trip makes at least two such hops).
  const ping = r.get(`host.redis.ping.${p}`)
  const floor = Number.isFinite(ping) ? `; one bare PING on this host: ${ping.toFixed(3)} ms` : ''
  return {
    diagnostic: { measured: `raw ioredis loop, same path: ${raw.toFixed(3)} ms${after}${floor}`, value: raw },
  }
}

/** q's warm figure, said after the (a fresh worker's first calls). */
function warmRoundTrip(r: Results, p: 'p50' | 'p99'): string {
  const warm = r.get(`q.redis.roundtrip.warm.${p}`)
  return Number.isFinite(warm) ? `; once the worker is warm: ${warm.toFixed(3)} ms` : ''
}

/** `check` with q's ratio to the raw loop sending q's own message (`key`) added. */
function withSameMessage(check: Check, q: number, client: string, r: Results, key: string): Check {
  const raw = r.get(key)
  const value = q / raw
  if (!Number.isFinite(value)) return check
  return { ...check, diagnostic: { measured: `q ${n(q)} / ${client} ${n(raw)} = ${x(value)}`, value } }
}

/**
 * `check` with the broker's own limit for q's message (`wireKey`, pre-encoded on a bare socket) over
 * the raw client's bare rate, and q's share of that limit.
 */
function withCeiling(
  check: Check,
  q: number,
  broker: string,
  r: Results,
  wireKey: string,
  rawKey: string,
): Check {
  const wire = r.get(wireKey)
  const value = wire / r.get(rawKey)
  if (!Number.isFinite(value)) return check
  return {
    ...check,
    ceiling: {
      measured: `${broker} alone, fed q's message pre-encoded: ${n(wire)} = ${x(value)} of the bare loop, the most any client sending it could score; q is ${x(q / wire)} of it`,
      value,
    },
  }
}

/**
 * A publish check (q's batched publish against the client loop's bare one, 0.7x), with q against
 * the same loop sending q's message, and the broker's own limit for that message.
 */
function publishCheck(
  r: Results,
  broker: string,
  key: 'redis' | 'amqp',
  loop: string,
  client: string,
): Check {
  const q = r.get(`q.${key}.publish.batched`)
  const raw = `raw.${key}.publish.batched`
  const check = ratio(
    `${broker} publish (batched) vs ${loop}`,
    0.7,
    { label: 'q', value: q },
    { label: client, value: r.get(raw) },
  )
  return withCeiling(
    withSameMessage(check, q, client, r, `${raw}.same`),
    q,
    broker,
    r,
    `wire.${key}.publish.same`,
    raw,
  )
}

/** The soak's run with `q worker`'s lean heap settings, as the diagnostic of the RSS check. */
function leanSoak(r: Results): Pick<Check, 'diagnostic'> {
  const max = r.get('q.soak.lean.rss.max')
  if (!Number.isFinite(max)) return {}
  const cpu = (k: string) => (Number.isFinite(r.get(k)) ? `${r.get(k).toFixed(1)} µs` : 'n/a')
  return {
    diagnostic: {
      measured: `with \`q worker --max-semi-space-size 4 --heap-growing-percent 30\`: ${r.get('q.soak.lean.rss.end')} MB at the end, ${max} MB max; the worker's CPU per task ${cpu('q.soak.lean.cpu')} against ${cpu('q.soak.cpu')} at Node's defaults`,
      value: max,
    },
  }
}

/**
 * @q/kombu's own producer/consumer loop on memory:// in the same run, as the diagnostic of the
 * memory check: a fixed target in tasks/s moves with the host's speed, and this loop (no Celery
 * at all) says how fast the host was.
 */
function kombuAlone(r: Results, q: number): Pick<Check, 'diagnostic'> {
  const kombu = r.get('kombu.memory.e2e')
  if (!Number.isFinite(kombu)) return {}
  return {
    diagnostic: {
      measured: `@q/kombu's own loop, no Celery, same run: ${n(kombu)} messages/s (q ${x(q / kombu)} of it)`,
      value: kombu,
    },
  }
}

/** Every check of the bar, in the order. */
export function checks(r: Results): Check[] {
  const qRedis = qBestDrain(r, 'redis')
  const qAmqp = qBestDrain(r, 'amqp')
  const bull = bullBestDrain(r)
  const label = (k: string | undefined, what: string) => (k ? `${what} (${k.split('.').pop()})` : what)
  const out: Check[] = [
    ratio(
      'Redis drain vs BullMQ',
      1.5,
      { label: label(qRedis.key, 'q'), value: qRedis.value },
      { label: label(bull.key, 'BullMQ'), value: bull.value },
    ),
    ratio(
      'Redis drain vs Python Celery',
      10,
      { label: label(qRedis.key, 'q'), value: qRedis.value },
      { label: 'Celery', value: r.get('celery.redis.drain') },
    ),
    withSameMessage(
      ratio(
        'RabbitMQ drain vs raw amqplib (ack each)',
        0.9,
        { label: label(qAmqp.key, 'q'), value: qAmqp.value },
        { label: 'amqplib', value: r.get('raw.amqp.drain.ack-each') },
      ),
      qAmqp.value,
      'amqplib',
      r,
      'raw.amqp.drain.ack-each.same',
    ),
    publishCheck(r, 'Redis', 'redis', 'raw LPUSH pipelined', 'ioredis'),
    publishCheck(r, 'RabbitMQ', 'amqp', 'raw amqplib', 'amqplib'),
  ]
  const mem = r.get('q.memory.e2e')
  out.push({
    goal: 'Memory transport end to end, one process',
    measured: `${n(mem)} tasks/s`,
    value: mem,
    target: '>= 200,000 tasks/s',
    pass: Number.isFinite(mem) ? mem >= 200_000 : undefined,
    ...kombuAlone(r, mem),
  })
  const p50 = r.get('q.redis.roundtrip.p50')
  const p99 = r.get('q.redis.roundtrip.p99')
  out.push({
    goal: 'Round trip on Redis, p50',
    measured: `${Number.isFinite(p50) ? p50.toFixed(3) : 'n/a'} ms (a fresh worker's first calls)${warmRoundTrip(r, 'p50')}`,
    value: p50,
    target: '< 0.5 ms',
    pass: Number.isFinite(p50) ? p50 < 0.5 : undefined,
    ...rawRoundTrip(r, 'p50'),
  })
  out.push({
    goal: 'Round trip on Redis, p99',
    measured: `${Number.isFinite(p99) ? p99.toFixed(3) : 'n/a'} ms (a fresh worker's first calls)${warmRoundTrip(r, 'p99')}`,
    value: p99,
    target: '< 3 ms',
    pass: Number.isFinite(p99) ? p99 < 3 : undefined,
    ...rawRoundTrip(r, 'p99'),
  })
  const end = r.get('q.soak.rss.end')
  const max = r.get('q.soak.rss.max')
  const slope = r.get('q.soak.rss.slope')
  const tasks = r.measurements['q.soak.rss.end']?.note?.split(' ')[0] ?? '?'
  out.push({
    goal: 'Worker RSS after the soak',
    measured: `${Number.isFinite(end) ? end : 'n/a'} MB at the end, ${Number.isFinite(max) ? max : 'n/a'} MB max, after ${tasks} tasks (Node's default heap)`,
    value: max,
    target: '< 80 MB',
    pass: Number.isFinite(max) ? max < 80 : undefined,
    ...leanSoak(r),
  })
  out.push({
    goal: 'Worker RSS trend over the soak',
    measured: `${Number.isFinite(slope) ? slope.toFixed(2) : 'n/a'} MB per 100k tasks after warm-up (settled run: RSS after a full GC)`,
    value: slope,
    target: '< 0.5 MB/100k (flat)',
    pass: Number.isFinite(slope) ? slope < 0.5 : undefined,
  })
  return out
}
