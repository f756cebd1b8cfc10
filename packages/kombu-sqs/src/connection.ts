/**
 * One `sqs://` connection: its clients, queue directory, batched settlements and leases, and the
 * in-memory exchange and binding tables its channels share (Kombu keeps these per connection
 * too; SQS has no place for them). SQS is plain HTTPS, so there is no socket to lose: the
 * connection ends only when closed.
 */
import type { Channel, Exchange, Logger, TransportCapabilities } from '@q/kombu'
import { InMemoryBindingTable, type TransportConnection } from '@q/kombu/internal'
import { SqsChannel } from './channel.js'
import type { ClientPool } from './clients.js'
import type { ResolvedOptions } from './options.js'
import { Poller } from './poller.js'
import { SqsPrimitives } from './primitives.js'
import type { Publisher } from './publisher.js'
import type { QueueDirectory } from './queues.js'
import type { Leases } from './receipts.js'
import type { Receiver } from './receive.js'
import type { Settler } from './settle.js'

/** Everything a connection is made of. */
export interface SqsConnectionParts {
  readonly options: ResolvedOptions
  readonly capabilities: TransportCapabilities
  readonly clients: ClientPool
  readonly directory: QueueDirectory
  readonly publisher: Publisher
  readonly receiver: Receiver
  readonly settler: Settler
  readonly leases: Leases
  readonly logger: Logger
}

/** A TransportConnection to SQS. */
export class SqsConnection implements TransportConnection {
  private readonly channels = new Set<SqsChannel>()
  private readonly pollers = new Set<Poller>()
  private readonly exchanges = new Map<string, Exchange>()
  private readonly bindings = new InMemoryBindingTable()
  private closing: Promise<void> | undefined
  private resolveClosed!: (err: Error | undefined) => void
  private readonly closedPromise = new Promise<Error | undefined>((r) => {
    this.resolveClosed = r
  })

  constructor(private readonly parts: SqsConnectionParts) {}

  async createChannel(): Promise<Channel> {
    if (this.closing) throw new Error('connection is closed')
    const { options, capabilities, directory, publisher, receiver, settler, leases, logger } = this.parts
    const poller = new Poller(
      { directory, receiver, waitTimeSeconds: options.waitTimeSeconds, logger },
      (queue) => channel.consumes(queue),
    )
    const primitives = new SqsPrimitives(
      { directory, publisher, receiver, settler, leases, base64: options.sqsBase64Encoding, logger },
      poller,
    )
    const channel: SqsChannel = new SqsChannel(
      {
        primitives,
        capabilities,
        exchanges: this.exchanges,
        bindings: this.bindings,
        // Only the fallback of a pump without getMany; ours long-polls for waitTimeSeconds.
        pollInterval: Math.max(1000, options.waitTimeSeconds * 1000),
        onClose: () => {
          this.channels.delete(channel)
          // Its polls in flight end within waitTimeSeconds; the clients must outlive them.
          void poller.idle().then(() => this.pollers.delete(poller))
        },
      },
      { primitives, poller },
    )
    this.channels.add(channel)
    this.pollers.add(poller)
    return channel
  }

  /**
   * Closes every channel (requeueing what they hold), sends the messages in line and the pending
   * acks, and stops the
   * lease renewals. Long polls still in flight are not aborted (SQS would hide what they bring
   * for a visibility timeout): they finish in the background, what they bring is handed back,
   * and the clients are destroyed after them.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const errors: unknown[] = []
      for (const channel of [...this.channels]) await channel.close().catch((e) => errors.push(e))
      const { publisher, settler, receiver, leases, clients, logger } = this.parts
      await Promise.all([publisher.flush(), settler.flush(), receiver.settled()])
      leases.stop()
      const pollers = [...this.pollers]
      void Promise.all(pollers.map((p) => p.idle()))
        .then(() => settler.flush())
        .finally(() => clients.destroy())
      this.resolveClosed(undefined)
      if (errors.length) logger.warn('errors while closing the SQS connection', ...errors)
    })()
    return this.closing
  }

  closed(): Promise<Error | undefined> {
    return this.closedPromise
  }
}
