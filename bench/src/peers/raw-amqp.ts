/**
 * The raw amqplib loops: the physical limit of the RabbitMQ path on this machine.
 *
 * - publish: `channel.publish` of persistent messages to a durable queue through the default
 *   exchange on a plain (non-confirm) channel, waiting for `drain` when amqplib's buffer is full,
 *   timed until the broker holds them all;
 * - drain: basic.consume with prefetch 1,000 and one basic.ack per message (the limit), or
 *   one `multiple` ack per turn of the event loop. Run in a worker process of its own.
 *
 * Both run with the bare ~300-byte body, and again with the message q publishes for the
 * bench's no-op task (the same body, ~19 Celery headers and the properties), captured once from q
 * (`captureQAmqpMessage`) and sent verbatim: RabbitMQ spends ~3x longer on that message, and the
 * second figure says what the broker allows for it, apart from what q itself costs.
 */
import type { Task } from '@q/celery'
import type { Channel, ConsumeMessage, GetMessage, Options } from 'amqplib'
import type { AmqpAdmin } from '../brokers.js'
import type { Role } from '../child-main.js'
import { PADDING, RAW_PAYLOAD } from '../config.js'

/** One message as the raw loop publishes it. */
export interface RawAmqpMessage {
  body: Buffer
  options: Options.Publish
}

/** The bare message: a ~300-byte JSON body, persistent, no headers. */
export const BARE_MESSAGE: RawAmqpMessage = {
  body: Buffer.from(RAW_PAYLOAD),
  options: { persistent: true, contentType: 'application/json' },
}

/** Declares `queue` as q and Celery do (durable). */
export async function declareRawQueue(ch: Channel, queue: string): Promise<void> {
  await ch.assertQueue(queue, { durable: true })
}

/** Publishes `n` copies of `message` on `ch`, honouring backpressure; resolves when written. */
export async function publishRaw(
  ch: Channel,
  queue: string,
  n: number,
  message: RawAmqpMessage = BARE_MESSAGE,
): Promise<void> {
  const { body, options } = message
  for (let i = 0; i < n; i++) {
    if (!ch.publish('', queue, body, options)) await new Promise<void>((r) => ch.once('drain', () => r()))
  }
}

/**
 * A header value typed as py-amqp (and q's @q/kombu-amqp, headers.ts) writes it: integers `I`
 * (signed 32-bit), other numbers `d`. Left to itself the codec would pick the smallest integer
 * type, a few bytes off what q sends.
 */
function pyTyped(value: unknown): unknown {
  if (typeof value === 'number')
    return Number.isInteger(value) && Math.abs(value) <= 2147483647
      ? { '!': 'int', value }
      : { '!': 'double', value }
  if (Array.isArray(value)) return value.map(pyTyped)
  if (value && typeof value === 'object' && !Buffer.isBuffer(value) && !(value instanceof Date)) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = pyTyped(v)
    return out
  }
  return value
}

/**
 * The message q publishes for one no-op task (`applyAsync` of the padding to `queue`), taken off
 * the queue with basic.get: its body, headers and properties, to be published verbatim (same task
 * id) by the raw loop. Only the route differs: the raw loop keeps the default exchange.
 */
export async function captureQAmqpMessage(
  noop: Task<unknown[], null>,
  ch: Channel,
  admin: AmqpAdmin,
  queue: string,
): Promise<RawAmqpMessage> {
  await noop.applyAsync([PADDING], {}, { queue })
  await admin.waitDepth(queue, 1)
  const m: GetMessage | false = await ch.get(queue, { noAck: true })
  if (!m) throw new Error(`q's message did not reach '${queue}'`)
  const p = m.properties
  const options: Options.Publish = {}
  if (p.headers) options.headers = pyTyped(p.headers) as Record<string, unknown>
  if (p.contentType !== undefined) options.contentType = p.contentType
  if (p.contentEncoding !== undefined) options.contentEncoding = p.contentEncoding
  if (p.deliveryMode !== undefined) options.deliveryMode = p.deliveryMode
  if (p.priority !== undefined) options.priority = p.priority
  if (p.correlationId !== undefined) options.correlationId = p.correlationId
  if (p.replyTo !== undefined) options.replyTo = p.replyTo
  if (p.expiration !== undefined) options.expiration = p.expiration
  if (p.messageId !== undefined) options.messageId = p.messageId
  if (p.timestamp !== undefined) options.timestamp = p.timestamp
  if (p.type !== undefined) options.type = p.type
  if (p.userId !== undefined) options.userId = p.userId
  if (p.appId !== undefined) options.appId = p.appId
  return { body: Buffer.from(m.content), options }
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
