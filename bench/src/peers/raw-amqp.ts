/**
 * The raw amqplib loops: the physical limit of the RabbitMQ path on this machine.
 *
 * - publish: `channel.publish` of persistent messages to a durable queue through the default
 *   exchange on a plain (non-confirm) channel, waiting for `drain` when amqplib's buffer is full,
 *   timed until the broker holds them all;
 * - drain: basic.consume with prefetch 1,000 and one basic.ack per message (the limit), or
 *   one `multiple` ack per turn of the event loop. Run in a worker process of its own.
 */
import type { Channel, ConsumeMessage } from 'amqplib'
import type { Role } from '../child-main.js'
import { RAW_PAYLOAD } from '../config.js'

const BODY = Buffer.from(RAW_PAYLOAD)

/** Declares `queue` as q and Celery do (durable). */
export async function declareRawQueue(ch: Channel, queue: string): Promise<void> {
  await ch.assertQueue(queue, { durable: true })
}

/** Publishes `n` persistent messages on `ch`, honouring backpressure; resolves when written. */
export async function publishRaw(ch: Channel, queue: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    if (!ch.publish('', queue, BODY, { persistent: true, contentType: 'application/json' }))
      await new Promise<void>((r) => ch.once('drain', () => r()))
  }
}

/** Parameters of the raw AMQP consumer process. */
export interface RawAmqpConsumeParams {
  url: string
  queue: string
  n: number
  prefetch: number
  /** `each`: one ack per message; `multiple`: one ack (multiple) per turn of the event loop. */
  ack: 'each' | 'multiple'
}

export const rawAmqpConsumeRole: Role = async (params, control) => {
  const p = params as unknown as RawAmqpConsumeParams
  const { connect } = await import('amqplib')
  const conn = await connect(p.url)
  control.onStop(() => conn.close().catch(() => {}))
  const ch = await conn.createChannel()
  await ch.prefetch(p.prefetch)
  control.ready()
  await control.go()
  const t0 = performance.now()
  let got = 0
  let last: ConsumeMessage | undefined
  let scheduled = false
  const flush = () => {
    scheduled = false
    if (last) ch.ack(last, true)
    last = undefined
  }
  await ch.consume(p.queue, (m) => {
    if (!m) return
    got++
    if (p.ack === 'each') ch.ack(m)
    else {
      last = m
      if (!scheduled) {
        scheduled = true
        setImmediate(flush)
      }
    }
    if (got === p.n) {
      if (p.ack === 'multiple') flush()
      control.done(performance.now() - t0, got)
    }
  })
}
