/**
 * One connection to Redis: a command client shared by its channels (publishing, fetch scripts,
 * acks), plus, opened on demand, one blocking client per consuming channel and one subscriber
 * for fanout. When Redis goes away the connection reports it through `closed()`, so the
 * Connection reconnects with backoff, emits its state events and lets consumers resume; the
 * messages it held are given back once Redis answers again.
 */
import { type Channel, ConnectionError, Exchange, type Logger, type TransportCapabilities } from '@q/kombu'
import { exchangeRouters, type TransportConnection, VirtualChannel, WriteCoalescer } from '@q/kombu/internal'
import { Redis, type RedisOptions } from 'ioredis'
import { type FanoutBinding, RedisBindingTable } from './bindings.js'
import { DelayTimer } from './delayed.js'
import { FanoutHub } from './fanout.js'
import { Keys } from './keys.js'
import { FETCH, RESTORE } from './lua.js'
import type { ResolvedOptions } from './options.js'
import { RedisPrimitives } from './primitives.js'
import { Qos } from './qos.js'
import type { Orphan, Shared } from './shared.js'

/** How often consumers look for delayed messages published by other processes. */
const DELAY_POLL_MS = 1000

/** What opening a connection needs. */
export interface ConnectionSetup {
  readonly clientOptions: RedisOptions
  readonly options: ResolvedOptions
  readonly capabilities: TransportCapabilities
  readonly logger: Logger
  /** Messages held by lost connections to the same database, to give back now. */
  readonly orphans: Orphan[]
}

/** A TransportConnection to one Redis database. */
export class RedisConnection implements TransportConnection, Shared {
  readonly keys: Keys
  readonly exchanges = new Map<string, Exchange>()
  readonly fanoutQueues = new Map<string, FanoutBinding>()
  readonly bindings: RedisBindingTable
  readonly qos: Qos
  readonly hub: FanoutHub
  readonly delays: DelayTimer
  readonly options: ResolvedOptions
  readonly logger: Logger
  fractionalTimeouts = true
  canUnblock = true
  private readonly channels = new Set<VirtualChannel>()
  private readonly extra = new Set<Redis>()
  private readonly command: Redis
  private readonly writes = new WriteCoalescer()
  private closing: Promise<void> | undefined
  private isLost = false
  private lastError: Error | undefined
  private resolveClosed!: (err: Error | undefined) => void
  private readonly closedPromise = new Promise<Error | undefined>((r) => {
    this.resolveClosed = r
  })

  private constructor(private readonly setup: ConnectionSetup) {
    this.options = setup.options
    this.logger = setup.logger
    this.keys = new Keys(setup.options, setup.clientOptions.db ?? 0)
    for (const name of setup.options.fanoutExchanges) {
      this.exchanges.set(name, new Exchange(name, { type: 'fanout', durable: false }))
    }
    this.command = this.watch(new Redis(setup.clientOptions))
    this.hub = new FanoutHub(
      () => this.duplicate(),
      (err) => this.lose(err),
      setup.options.fanoutBufferLimit,
      setup.logger,
    )
    this.bindings = new RedisBindingTable(
      () => this.command,
      this.keys,
      this.exchanges,
      this.fanoutQueues,
      this.hub,
    )
    this.qos = new Qos(this)
    this.delays = new DelayTimer((queues) => this.promote(queues), DELAY_POLL_MS, setup.logger)
  }

  /** Connects, checks the server, and gives back what lost connections held. */
  static async open(setup: ConnectionSetup): Promise<RedisConnection> {
    const conn = new RedisConnection(setup)
    try {
      await conn.command.connect()
      const info = await conn.command.info('server')
      const major = Number(/redis_version:(\d+)/.exec(info)?.[1] ?? 7)
      conn.fractionalTimeouts = major >= 6
      conn.canUnblock = major >= 5
    } catch (err) {
      conn.command.disconnect()
      // ioredis reports a refused AUTH as a closed connection; the reply says why.
      throw conn.lastError ?? err
    }
    conn.command.on('end', () => conn.lose(conn.lastError ?? new Error('the Redis connection was closed')))
    await conn.giveBack(setup.orphans)
    return conn
  }

  get lost(): boolean {
    return this.isLost || this.closing !== undefined
  }

  client(): Redis {
    // Every command of this tick leaves in one write (see WriteCoalescer).
    this.writes.hold(this.command.stream)
    return this.command
  }

  flush(): void {
    this.writes.flush()
  }

  async duplicate(): Promise<Redis> {
    const client = this.watch(this.command.duplicate())
    this.extra.add(client)
    try {
      await client.connect()
    } catch (err) {
      client.disconnect()
      this.extra.delete(client)
      throw err
    }
    client.on('end', () => this.extra.delete(client))
    return client
  }

  orphan(orphan: Orphan): void {
    this.setup.orphans.push(orphan)
  }

  /** The queues a restored message goes to (Kombu's `_lookup`; fanout messages go nowhere). */
  async route(exchange: string, routingKey: string): Promise<readonly string[]> {
    if (!exchange) return [routingKey]
    const rows = await this.bindings.rows(exchange)
    // An exchange declared elsewhere: topic rows carry a pattern, direct ones do not.
    const type = this.exchanges.get(exchange)?.type ?? (rows.some((r) => r.pattern) ? 'topic' : 'direct')
    if (type === 'fanout' || type === 'headers') return []
    return exchangeRouters[type].lookup(rows, routingKey, {})
  }

  async createChannel(): Promise<Channel> {
    if (this.lost) throw new ConnectionError('the Redis connection is closed')
    const channel: VirtualChannel = new VirtualChannel({
      primitives: new RedisPrimitives(this),
      capabilities: this.setup.capabilities,
      exchanges: this.exchanges,
      bindings: this.bindings,
      pollInterval: 1000,
      onClose: () => this.channels.delete(channel),
    })
    this.channels.add(channel)
    return channel
  }

  /** Closes the channels (their unacked messages go back), then the clients. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown().finally(() => this.resolveClosed(undefined))
    return this.closing
  }

  closed(): Promise<Error | undefined> {
    return this.closedPromise
  }

  private async shutdown(): Promise<void> {
    await runAll([
      ...[...this.channels].map((c) => () => c.close()),
      () => this.qos.flush(),
      () => this.stopTimers(),
      () => this.command.quit().catch(() => this.command.disconnect()),
      ...[...this.extra].map((c) => () => c.disconnect()),
    ])
  }

  /** Redis went away: close everything locally and report it; the Connection reconnects. */
  private lose(err: Error): void {
    if (this.isLost || this.closing) return
    this.isLost = true
    this.logger.warn(`lost the Redis connection: ${err.message}`)
    // Closing the channels now turns their held messages into orphans (given back on reconnect).
    void runAll([...this.channels].map((c) => () => c.close()))
      .catch(() => {})
      .finally(() => {
        void this.stopTimers()
        for (const c of this.extra) c.disconnect()
        this.command.disconnect()
        this.resolveClosed(new ConnectionError(`Redis connection lost: ${err.message}`, { cause: err }))
      })
  }

  private async stopTimers(): Promise<void> {
    this.delays.close()
    this.hub.close()
    await this.qos.close()
  }

  private watch(client: Redis): Redis {
    // Errors surface through the commands that fail and the 'end' event; keep the last for the report.
    client.on('error', (err: Error) => {
      this.lastError = err
    })
    return client
  }

  private async promote(queues: readonly string[]): Promise<number | undefined> {
    const { keys } = this
    const steps = keys.steps
    const now = Date.now()
    const result = (await FETCH.run(
      this.command,
      [
        keys.unacked,
        keys.unackedIndex,
        ...queues.map((q) => keys.delayed(q)),
        ...steps.flatMap((s) => queues.map((q) => keys.bucket(q, s))),
      ],
      [0, queues.length, now, now / 1000, '', ...steps],
    )) as unknown[]
    return result[0] === '' ? undefined : Number(result[0])
  }

  private async giveBack(orphans: Orphan[]): Promise<void> {
    const { keys } = this
    while (orphans.length) {
      const o = orphans[0]!
      if (o.tag) {
        const base = [keys.unacked, keys.unackedIndex, o.list]
        await RESTORE.run(this.command, base, [o.tag, 'RPUSH', o.payload, '', '', '1'])
      } else await this.command.rpush(o.list, o.payload)
      orphans.shift()
    }
  }
}

/** Runs every step, in order, even when some fail; throws the first error at the end. */
async function runAll(steps: Array<() => unknown>): Promise<void> {
  let first: unknown
  for (const step of steps) {
    try {
      await step()
    } catch (err) {
      first ??= err
    }
  }
  if (first !== undefined) throw first
}
