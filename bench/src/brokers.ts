/**
 * The brokers as the bench uses them: a RabbitMQ vhost of its own (deleted afterwards), a Redis
 * database of its own (8 unless BENCH_REDIS_DB says otherwise; flushed before and after), queue
 * depths read with the raw clients, and checks that a broker answers at all.
 *
 * amqplib is imported lazily everywhere in the bench: @q/kombu-amqp installs its own header codec
 * into amqplib when it is the first to load it, so the parent process connects q first.
 */
import { execFile } from 'node:child_process'
import { connect as tcpConnect } from 'node:net'
import { promisify } from 'node:util'
import type { Channel, ChannelModel } from 'amqplib'
import { Redis } from 'ioredis'
import { waitUntil } from './stats.js'

const run = promisify(execFile)

/** Whether something listens at the URL's host and port. */
export function reachable(url: string, defaultPort: number, timeoutMs = 2_000): Promise<boolean> {
  const u = new URL(url)
  return new Promise((resolve) => {
    const socket = tcpConnect({ host: u.hostname || '127.0.0.1', port: Number(u.port) || defaultPort })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/**
 * Latencies (ms) of `count` sequential PINGs to Redis on a bare socket (no client library): what
 * one hop to Redis and back costs on this host at the moment, the floor under every round trip
 * measured beside it. On a shared virtual machine it moves from run to run.
 */
export async function pingLatencies(url: string, count: number): Promise<number[]> {
  const u = new URL(url)
  const socket = tcpConnect({ host: u.hostname || '127.0.0.1', port: Number(u.port) || 6379 })
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  socket.setNoDelay(true)
  const reply = '+PONG\r\n'.length
  let got = 0
  let answered: (() => void) | undefined
  let failed: ((err: Error) => void) | undefined
  socket.on('data', (chunk: Buffer) => {
    got += chunk.length
    if (got >= reply) {
      got -= reply
      answered?.()
    }
  })
  // A server that goes away fails the measurement instead of leaving it waiting.
  socket.on('error', (err) => failed?.(err))
  socket.on('close', () => failed?.(new Error(`Redis closed the connection at ${u.host}`)))
  const out: number[] = []
  try {
    for (let i = 0; i < count; i++) {
      const t0 = performance.now()
      await new Promise<void>((resolve, reject) => {
        answered = resolve
        failed = reject
        socket.write('PING\r\n')
      })
      out.push(performance.now() - t0)
    }
  } finally {
    failed = undefined
    socket.destroy()
  }
  return out
}

/** A RabbitMQ vhost made for this run with rabbitmqctl; `/` when rabbitmqctl cannot. */
export class RabbitVhost {
  private constructor(
    readonly name: string,
    readonly url: string,
    private readonly owned: boolean,
  ) {}

  static async create(base: string, name: string): Promise<RabbitVhost> {
    const u = new URL(base)
    const user = decodeURIComponent(u.username || 'guest')
    try {
      await run('rabbitmqctl', ['-q', 'add_vhost', name], { timeout: 30_000 })
      await run('rabbitmqctl', ['-q', 'set_permissions', '-p', name, user, '.*', '.*', '.*'], {
        timeout: 30_000,
      })
      u.pathname = `/${encodeURIComponent(name)}`
      return new RabbitVhost(name, u.href, true)
    } catch (err) {
      console.warn(
        `  (rabbitmqctl could not add a vhost: ${(err as Error).message.split('\n')[0]}; using '/')`,
      )
      u.pathname = '//'
      return new RabbitVhost('/', u.href.replace(/\/+$/, '//'), false)
    }
  }

  async delete(): Promise<void> {
    if (!this.owned) return
    await run('rabbitmqctl', ['-q', 'delete_vhost', this.name], { timeout: 30_000 }).catch((err) =>
      console.warn(`  (could not delete vhost ${this.name}: ${(err as Error).message.split('\n')[0]})`),
    )
  }
}

/** A Redis client on the bench's database, for depths and clean-up. */
export class RedisAdmin {
  readonly client: Redis
  constructor(readonly url: string) {
    this.client = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 })
  }

  /** Empties the bench's database. */
  async flush(): Promise<void> {
    await this.client.flushdb()
  }

  depth(key: string): Promise<number> {
    return this.client.llen(key)
  }

  async waitDepth(key: string, n: number, timeoutMs = 120_000): Promise<void> {
    await waitUntil(`${n} messages in ${key}`, async () => (await this.depth(key)) >= n, timeoutMs)
  }

  async close(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect())
  }
}

/** An amqplib connection for depths and clean-up. */
export class AmqpAdmin {
  private constructor(
    private readonly conn: ChannelModel,
    private channel: Channel,
  ) {}

  static async open(url: string): Promise<AmqpAdmin> {
    const { connect } = await import('amqplib')
    const conn = await connect(url)
    return new AmqpAdmin(conn, await conn.createChannel())
  }

  /** The broker's version, as it announced it. */
  get serverVersion(): string {
    return String(this.conn.connection.serverProperties.version ?? '?')
  }

  private async ch(): Promise<Channel> {
    return this.channel
  }

  /** Messages ready in `queue` (0 when it does not exist). */
  async depth(queue: string): Promise<number> {
    try {
      return (await (await this.ch()).checkQueue(queue)).messageCount
    } catch {
      // A failed check closes the channel: open another.
      this.channel = await this.conn.createChannel()
      return 0
    }
  }

  async waitDepth(queue: string, n: number, timeoutMs = 120_000): Promise<void> {
    await waitUntil(`${n} messages in ${queue}`, async () => (await this.depth(queue)) >= n, timeoutMs, 5)
  }

  async deleteQueue(queue: string): Promise<void> {
    try {
      await (await this.ch()).deleteQueue(queue)
    } catch {
      this.channel = await this.conn.createChannel()
    }
  }

  async deleteExchange(name: string): Promise<void> {
    try {
      await (await this.ch()).deleteExchange(name)
    } catch {
      this.channel = await this.conn.createChannel()
    }
  }

  async close(): Promise<void> {
    await this.conn.close().catch(() => {})
  }
}
