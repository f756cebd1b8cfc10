/**
 * The chart of a run: horizontal bars per panel (q in blue, peers in orange, raw client loops and
 * the brokers alone in grey), drawn as SVG and rendered to PNG with @resvg/resvg-js (a prebuilt
 * binary from the npm registry; text in DejaVu Sans or whatever sans-serif the system has).
 */

import { bullBestDrain } from './report/bar.js'
import type { Results } from './results.js'

type Kind = 'q' | 'peer' | 'limit'
interface Bar {
  label: string
  value: number
  kind: Kind
}
interface Panel {
  title: string
  unit: string
  bars: Bar[]
}

const COLORS: Record<Kind, string> = { q: '#2f6fdf', peer: '#e8843a', limit: '#9a9a9a' }
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

function panels(r: Results): Panel[] {
  const g = (k: string) => r.get(k)
  const bull = bullBestDrain(r)
  const conc = (k: string | undefined) => (k ? ` (${k.split('.').pop()})` : '')
  const list: Panel[] = [
    {
      title: 'Redis: worker drain',
      unit: 'tasks/s',
      bars: [
        { label: 'q, concurrency 1', value: g('q.redis.drain.c1'), kind: 'q' },
        { label: 'q, concurrency 10', value: g('q.redis.drain.c10'), kind: 'q' },
        { label: 'q, concurrency 100', value: g('q.redis.drain.c100'), kind: 'q' },
        { label: `BullMQ, best${conc(bull.key)}`, value: bull.value, kind: 'peer' },
        { label: 'Python Celery (solo)', value: g('celery.redis.drain'), kind: 'peer' },
        { label: 'ioredis BRPOP x1', value: g('raw.redis.drain.brpop'), kind: 'limit' },
        { label: 'ioredis RPOP x100', value: g('raw.redis.drain.rpop100'), kind: 'limit' },
      ],
    },
    {
      title: 'RabbitMQ: worker drain',
      unit: 'tasks/s',
      bars: [
        { label: 'q, concurrency 1', value: g('q.amqp.drain.c1'), kind: 'q' },
        { label: 'q, concurrency 10', value: g('q.amqp.drain.c10'), kind: 'q' },
        { label: 'q, concurrency 100', value: g('q.amqp.drain.c100'), kind: 'q' },
        { label: 'Python Celery (solo)', value: g('celery.amqp.drain'), kind: 'peer' },
        { label: 'amqplib, ack each', value: g('raw.amqp.drain.ack-each'), kind: 'limit' },
        { label: 'amqplib, ack multiple', value: g('raw.amqp.drain.ack-multiple'), kind: 'limit' },
      ],
    },
    {
      title: 'Redis: publish',
      unit: 'msg/s',
      bars: [
        { label: 'q, delay awaited', value: g('q.redis.publish.single'), kind: 'q' },
        { label: 'q, 1,000 in flight', value: g('q.redis.publish.batched'), kind: 'q' },
        { label: 'BullMQ add', value: g('bullmq.publish.single'), kind: 'peer' },
        { label: 'BullMQ addBulk', value: g('bullmq.publish.batched'), kind: 'peer' },
        { label: 'ioredis LPUSH awaited', value: g('raw.redis.publish.single'), kind: 'limit' },
        { label: 'ioredis LPUSH pipelined', value: g('raw.redis.publish.batched'), kind: 'limit' },
        { label: "ioredis pipelined, q's msg", value: g('raw.redis.publish.batched.same'), kind: 'limit' },
        { label: 'Redis alone', value: g('wire.redis.publish'), kind: 'limit' },
        { label: "Redis alone, q's msg", value: g('wire.redis.publish.same'), kind: 'limit' },
      ],
    },
    {
      title: 'RabbitMQ: publish',
      unit: 'msg/s',
      bars: [
        { label: 'q, delay awaited', value: g('q.amqp.publish.single'), kind: 'q' },
        { label: 'q, 1,000 in flight', value: g('q.amqp.publish.batched'), kind: 'q' },
        { label: 'amqplib publish', value: g('raw.amqp.publish.batched'), kind: 'limit' },
        { label: "amqplib publish, q's msg", value: g('raw.amqp.publish.batched.same'), kind: 'limit' },
        { label: 'RabbitMQ alone', value: g('wire.amqp.publish'), kind: 'limit' },
        { label: "RabbitMQ alone, q's msg", value: g('wire.amqp.publish.same'), kind: 'limit' },
      ],
    },
    {
      title: 'Memory transport, one process',
      unit: 'tasks/s',
      bars: [
        { label: 'publish, delay awaited', value: g('q.memory.publish.single'), kind: 'q' },
        { label: 'publish, 1,000 in flight', value: g('q.memory.publish.batched'), kind: 'q' },
        { label: 'drain, concurrency 100', value: g('q.memory.drain.c100'), kind: 'q' },
        { label: 'end to end', value: g('q.memory.e2e'), kind: 'q' },
      ],
    },
    {
      title: 'Round trip delay + get on Redis (lower is better)',
      unit: 'ms',
      bars: [
        { label: 'q p50', value: g('q.redis.roundtrip.p50'), kind: 'q' },
        { label: 'BullMQ p50', value: g('bullmq.roundtrip.p50'), kind: 'peer' },
        { label: 'Celery p50', value: g('celery.roundtrip.p50'), kind: 'peer' },
        { label: 'raw p50', value: g('raw.redis.roundtrip.p50'), kind: 'limit' },
        { label: 'q p99', value: g('q.redis.roundtrip.p99'), kind: 'q' },
        { label: 'BullMQ p99', value: g('bullmq.roundtrip.p99'), kind: 'peer' },
        { label: 'Celery p99', value: g('celery.roundtrip.p99'), kind: 'peer' },
        { label: 'raw p99', value: g('raw.redis.roundtrip.p99'), kind: 'limit' },
        { label: 'q p99, warm', value: g('q.redis.roundtrip.warm.p99'), kind: 'q' },
        { label: 'BullMQ p99, warm', value: g('bullmq.roundtrip.warm.p99'), kind: 'peer' },
        { label: 'Celery p99, warm', value: g('celery.roundtrip.warm.p99'), kind: 'peer' },
        { label: 'raw p99, warm', value: g('raw.redis.roundtrip.warm.p99'), kind: 'limit' },
      ],
    },
  ]
  return list
    .map((p) => ({ ...p, bars: p.bars.filter((b) => Number.isFinite(b.value)) }))
    .filter((p) => p.bars.length > 0)
}

const fmt = (v: number, unit: string) =>
  unit === 'ms' ? `${v.toFixed(2)} ms` : `${Math.round(v).toLocaleString('en-US')}`

/** The chart as SVG. */
export function chartSvg(r: Results, title: string): string {
  const W = 1000
  const LABEL = 230
  const BAR_W = 600
  const ROW = 22
  const parts: string[] = []
  let y = 44
  parts.push(`<text x="20" y="28" font-size="18" font-weight="bold">${esc(title)}</text>`)
  for (const p of panels(r)) {
    y += 18
    parts.push(
      `<text x="20" y="${y}" font-size="14" font-weight="bold">${esc(p.title)} (${esc(p.unit)})</text>`,
    )
    y += 10
    const max = Math.max(...p.bars.map((b) => b.value))
    for (const b of p.bars) {
      const w = Math.max(1, (b.value / max) * BAR_W)
      parts.push(
        `<text x="${LABEL - 8}" y="${y + 15}" font-size="12" text-anchor="end">${esc(b.label)}</text>`,
        `<rect x="${LABEL}" y="${y + 3}" width="${w.toFixed(1)}" height="${ROW - 6}" fill="${COLORS[b.kind]}"/>`,
        `<text x="${(LABEL + w + 6).toFixed(1)}" y="${y + 15}" font-size="12">${esc(fmt(b.value, p.unit))}</text>`,
      )
      y += ROW
    }
    y += 8
  }
  y += 10
  let lx = 20
  for (const [kind, label] of [
    ['q', 'q'],
    ['peer', 'peer (BullMQ, Python Celery)'],
    ['limit', 'raw client loop or broker alone (limit)'],
  ] as const) {
    parts.push(`<rect x="${lx}" y="${y}" width="14" height="14" fill="${COLORS[kind]}"/>`)
    parts.push(`<text x="${lx + 20}" y="${y + 12}" font-size="12">${esc(label)}</text>`)
    lx += 60 + label.length * 7
  }
  y += 30
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y}" viewBox="0 0 ${W} ${y}" font-family="DejaVu Sans, Arial, sans-serif"><rect width="${W}" height="${y}" fill="#ffffff"/>${parts.join('')}</svg>`
}

/** Renders the chart to PNG; undefined (with the reason) when the renderer is not available. */
export async function chartPng(
  r: Results,
  title: string,
): Promise<{ png?: Buffer; svg: string; error?: string }> {
  const svg = chartSvg(r, title)
  try {
    const { Resvg } = await import('@resvg/resvg-js')
    const png = new Resvg(svg, {
      font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
      fitTo: { mode: 'width', value: 1000 },
    })
      .render()
      .asPng()
    return { png, svg }
  } catch (err) {
    return { svg, error: (err as Error).message }
  }
}
