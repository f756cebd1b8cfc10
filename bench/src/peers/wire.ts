/**
 * The brokers alone: a message's bytes encoded once, then written again and again on a bare
 * socket, with no client library work per message. What the broker itself accepts for that
 * message on this machine, and so the most any client (q, amqplib, ioredis) could publish of it.
 *
 * The raw client loops spend CPU per message (amqplib encodes every frame; ioredis measures and
 * copies every argument) on the same two cores as the broker. Written pre-encoded, the whole
 * machine is the broker's: if RabbitMQ, fed Celery's frames this way, accepts fewer than 0.7x of
 * what amqplib publishes of the bare 300 bytes, no client sending Celery's message can reach the
 * issue's publish bar, whatever it does.
 *
 * - RabbitMQ: the exact frames amqplib writes for one `basic.publish` of the message (method,
 *   content header, body), taken from amqplib as it writes them, then written `BLOCK` copies per
 *   socket write on a connection of their own (no heartbeats), honouring the socket's backpressure,
 *   timed until the queue holds them all (as the raw loop).
 * - Redis: one `LPUSH key v1 .. v1000` (as q's batched publish: one variadic LPUSH per batch), its
 *   RESP bytes built once and written for every batch, each awaited before the next (as the
 *   pipelined raw loop: one round trip per 1,000).
 */
import { Socket } from 'node:net'
import type { Channel, ChannelModel } from 'amqplib'
import type { AmqpAdmin } from '../brokers.js'
import type { RawAmqpMessage } from './raw-amqp.js'

/** Frames copied into one socket write. */
const BLOCK = 100

/** The parts of amqplib's connection the capture uses (not its public API; checked at run time). */
interface AmqplibInternals {
  stream: { write(b: Buffer): boolean; once(e: 'drain', f: () => void): unknown }
  channels: Array<{ buffer: { write(b: Buffer): boolean } } | undefined>
}

function internals(conn: ChannelModel, ch: Channel): { inner: AmqplibInternals; number: number } {
  const inner = (conn as unknown as { connection?: AmqplibInternals }).connection
  const number = (ch as unknown as { ch?: number }).ch
  if (
    !inner?.stream ||
    !Array.isArray(inner.channels) ||
    typeof number !== 'number' ||
    !inner.channels[number]
  )
    throw new Error("amqplib's connection internals changed: cannot take a message's frames from it")
  return { inner, number }
}

/**
 * The bytes amqplib writes to publish `message` to `queue` through the default exchange on `ch`:
 * its channel buffer's write is borrowed for the one (synchronous) publish.
 */
function captureFrames(conn: ChannelModel, ch: Channel, queue: string, message: RawAmqpMessage): Buffer {
  const { inner, number } = internals(conn, ch)
  const buffer = inner.channels[number]!.buffer
  const write = buffer.write
  const taken: Buffer[] = []
  buffer.write = (b: Buffer) => {
    taken.push(Buffer.from(b))
    return true
  }
  try {
    ch.publish('', queue, message.body, message.options)
  } finally {
    buffer.write = write
  }
  if (taken.length === 0) throw new Error('amqplib wrote no frames for the publish')
  return Buffer.concat(taken)
}

/**
 * Publishes `n` copies of `message` to `queue` as pre-encoded frames on a connection of its own;
 * resolves with the ms until the broker held them all.
 */
export async function amqpWirePublish(
  url: string,
  admin: AmqpAdmin,
  queue: string,
  n: number,
  message: RawAmqpMessage,
): Promise<number> {
  const { connect } = await import('amqplib')
  const u = new URL(url)
  u.searchParams.set('heartbeat', '0') // nothing but our frames on the socket
  const conn = await connect(u.toString())
  try {
    const ch = await conn.createChannel()
    const one = captureFrames(conn, ch, queue, message)
    const block = Buffer.concat(Array.from({ length: BLOCK }, () => one))
    const { stream } = internals(conn, ch).inner
    const t0 = performance.now()
    for (let sent = 0; sent < n; sent += BLOCK) {
      const chunk = n - sent >= BLOCK ? block : block.subarray(0, one.length * (n - sent))
      if (!stream.write(chunk)) await new Promise<void>((resolve) => stream.once('drain', resolve))
    }
    await admin.waitDepth(queue, n)
    return performance.now() - t0
  } finally {
    await conn.close().catch(() => {})
  }
}

const bulk = (s: string | Buffer) => {
  const b = typeof s === 'string' ? Buffer.from(s) : s
  return Buffer.concat([Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n')])
}

/** The RESP bytes of `args` as one command. */
export function respCommand(args: ReadonlyArray<string | Buffer>): Buffer {
  return Buffer.concat([Buffer.from(`*${args.length}\r\n`), ...args.map(bulk)])
}

/**
 * Counts the replies on a socket that answers only simple ones: `+OK` (AUTH, SELECT) and integers
 * (LPUSH's `:<length>`); an error reply fails whoever waits.
 */
class ReplyCounter {
  private count = 0
  private waiter: { want: number; resolve: () => void; reject: (e: Error) => void } | undefined
  private tail = ''

  constructor(socket: Socket) {
    socket.on('data', (d: Buffer) => {
      const text = this.tail + d.toString('latin1')
      const lines = text.split('\r\n')
      this.tail = lines.pop() ?? ''
      for (const line of lines) {
        if (line.startsWith('-')) return this.fail(new Error(`Redis refused: ${line.slice(1)}`))
        if (line.startsWith(':') || line.startsWith('+')) this.count++
      }
      if (this.waiter && this.count >= this.waiter.want) this.waiter.resolve()
    })
    socket.on('error', (e) => this.fail(e))
    socket.on('close', () => this.fail(new Error('Redis closed the connection')))
  }

  private fail(e: Error) {
    this.waiter?.reject(e)
    this.waiter = undefined
  }

  /** Resolves once `want` replies have come in all. */
  until(want: number): Promise<void> {
    if (this.count >= want) return Promise.resolve()
    return new Promise((resolve, reject) => {
      this.waiter = { want, resolve, reject }
    })
  }
}

/**
 * LPUSHes `n` copies of `payload` to `key` (in the database of `url`), `batch` per variadic LPUSH
 * written pre-encoded on a bare socket, each awaited before the next; resolves with the elapsed ms.
 */
export async function redisWirePublish(
  url: string,
  key: string,
  n: number,
  payload: string,
  batch = 1_000,
): Promise<number> {
  const u = new URL(url)
  const socket = new Socket()
  socket.setNoDelay(true)
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.connect(Number(u.port || 6379), u.hostname || '127.0.0.1', () => {
      socket.off('error', reject)
      resolve()
    })
  })
  const replies = new ReplyCounter(socket)
  try {
    let want = 0
    const send = (cmd: Buffer) => {
      socket.write(cmd)
      want++
    }
    if (u.password) send(respCommand(u.username ? ['AUTH', u.username, u.password] : ['AUTH', u.password]))
    send(respCommand(['SELECT', u.pathname.slice(1) || '0']))
    await replies.until(want)
    const full = respCommand(['LPUSH', key, ...Array.from({ length: batch }, () => payload)])
    const t0 = performance.now()
    for (let sent = 0; sent < n; sent += batch) {
      const count = Math.min(batch, n - sent)
      send(
        count === batch ? full : respCommand(['LPUSH', key, ...Array.from({ length: count }, () => payload)]),
      )
      await replies.until(want)
    }
    return performance.now() - t0
  } finally {
    socket.destroy()
  }
}
