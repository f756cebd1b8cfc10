/**
 * The per-test fixture of the contract suite. A Kit opens connections, names queues and
 * exchanges uniquely, and on disposal closes every connection it opened and deletes every
 * queue and exchange it named, so the suite can run against a shared broker.
 */
import {
  type Channel,
  type Connection,
  Consumer,
  type ConsumerOptions,
  Exchange,
  type ExchangeOptions,
  Producer,
  type PublishOptions,
  Queue,
  type QueueOptions,
  type TransportCapabilities,
} from '@q/kombu'
import { Inbox, type InboxOptions } from './inbox.js'
import type { ContractOptions } from './options.js'

/** What one contract test works with; disposed (`await using`) when the test ends. */
export class Kit implements AsyncDisposable {
  private readonly opened: Connection[] = []
  private readonly queues = new Set<string>()
  private readonly exchanges = new Set<string>()
  private readonly sideChannels = new Map<Connection, Promise<Channel>>()
  private readonly inboxes: Inbox<unknown>[] = []

  /**
   * @param prefix unique to this test and this run; every name the kit makes starts with it.
   */
  constructor(
    private readonly options: ContractOptions,
    readonly caps: TransportCapabilities,
    readonly prefix: string,
  ) {}

  /** `ms` scaled by the suite's `timeoutScale`. */
  ms(ms: number): number {
    return Math.round(ms * (this.options.timeoutScale ?? 1))
  }

  /** A new connected Connection (from the suite's `connect`), closed when the test ends. */
  async connect(): Promise<Connection> {
    const conn = await this.options.connect()
    this.opened.push(conn)
    await conn.connect()
    return conn
  }

  /** A name unique to this test: `<prefix>-<label>`. */
  name(label: string): string {
    return `${this.prefix}-${label}`
  }

  /** A queue with a unique name, deleted when the test ends. */
  queue(label: string, options?: QueueOptions): Queue {
    const queue = new Queue(this.name(label), options)
    this.queues.add(queue.name)
    return queue
  }

  /** An exchange with a unique name, deleted when the test ends. */
  exchange(label: string, options?: ExchangeOptions): Exchange {
    const exchange = new Exchange(this.name(label), options)
    this.exchanges.add(exchange.name)
    return exchange
  }

  /** Deletes these at the end of the test too (names made elsewhere: SimpleQueue, server-named queues). */
  track(names: { queue?: string; exchange?: string }): void {
    if (names.queue) this.queues.add(names.queue)
    if (names.exchange) this.exchanges.add(names.exchange)
  }

  /** An Inbox whose waits default to 2 s, scaled. */
  inbox<T = unknown>(options: InboxOptions = {}): Inbox<T> {
    const inbox = new Inbox<T>({ ...options, timeout: this.ms(options.timeout ?? 2000) })
    this.inboxes.push(inbox as Inbox<unknown>)
    return inbox
  }

  /** Starts a Consumer; it closes with its connection. */
  consume<T = unknown>(conn: Connection, options: ConsumerOptions<T>): Promise<Consumer<T>> {
    return new Consumer<T>(conn, options).consume()
  }

  /**
   * Publishes one message; waits for the broker's confirmation where the transport has them,
   * so that a size read next sees the message.
   */
  async publish(conn: Connection, body: unknown, options: PublishOptions = {}): Promise<void> {
    await new Producer(conn, { autoDeclare: false }).publish(body, {
      confirm: this.caps.publisherConfirms,
      ...options,
    })
  }

  /** Publishes straight to a queue through the default exchange (routing key = queue name). */
  async publishTo(
    conn: Connection,
    queue: string,
    body: unknown,
    options: PublishOptions = {},
  ): Promise<void> {
    await this.publish(conn, body, { ...options, exchange: '', routingKey: queue })
  }

  /** Ready messages in `queue`, by a passive declare on a side channel of `conn`. */
  async size(conn: Connection, queue: string): Promise<number> {
    const channel = await this.sideChannel(conn)
    return (await channel.declareQueue(new Queue(queue), { passive: true })).messageCount
  }

  /** A channel of `conn` for size reads, reopened when the broker closed it. */
  async sideChannel(conn: Connection): Promise<Channel> {
    let channel = this.sideChannels.get(conn)
    if (!channel || !(await channel).isOpen) {
      channel = conn.channel()
      this.sideChannels.set(conn, channel)
    }
    return channel
  }

  /**
   * Closes every connection the test opened (newest first; their consumers go with them), then
   * deletes the queues and exchanges it named, on a connection of its own. Cleanup errors are
   * ignored; a failed automatic ack is not: it fails the test.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    for (const conn of this.opened.reverse()) await conn.close().catch(() => {})
    await this.deleteEntities()
    const ackErrors = this.inboxes.flatMap((i) => i.ackErrors)
    if (ackErrors.length) {
      throw new AggregateError(
        ackErrors,
        `${ackErrors.length} automatic ack(s) failed: ${String(ackErrors[0])}`,
      )
    }
  }

  private async deleteEntities(): Promise<void> {
    if (this.queues.size === 0 && this.exchanges.size === 0) return
    const conn = await this.options.connect()
    try {
      let channel = await conn.channel()
      const steps = [
        ...[...this.queues].map((name) => (c: Channel) => c.deleteQueue(name)),
        ...[...this.exchanges].map((name) => (c: Channel) => c.deleteExchange(name)),
      ]
      for (const step of steps) {
        // On AMQP a refused operation closes the channel: go on with a new one.
        await step(channel).catch(async () => {
          if (!channel.isOpen) channel = await conn.channel()
        })
      }
    } catch {
      // The broker went away: nothing left to clean on it.
    } finally {
      await conn.close()
    }
  }
}
