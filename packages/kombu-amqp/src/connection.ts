/**
 * AmqpConnection: one amqplib connection as @q/kombu's TransportConnection. Its `closed()`
 * resolves with a ConnectionError whenever the connection ends without us closing it (socket
 * lost, heartbeat missed, the broker's connection.close such as 320 CONNECTION_FORCED on
 * `rabbitmqctl stop_app`): @q/kombu's Connection then reconnects, and its Consumers and Producers
 * declare and consume again by themselves.
 */
import { ConnectionError, type Logger, type QError } from '@q/kombu'
import type { TransportConnection } from '@q/kombu/internal'
import type { ChannelModel, ConfirmChannel } from 'amqplib'
import { AmqpChannel } from './channel.js'
import { replyTextOf, toAmqpQError } from './errors.js'

/** What RabbitMQ says when a queue refuses a global prefetch; it names the queue. */
const GLOBAL_QOS_REFUSED = /queue '(.*)' in vhost '.*' does not support global qos/

/** A connection to RabbitMQ. */
export class AmqpConnection implements TransportConnection {
  /**
   * Queue name -> `x-queue-type`, for the queues declared on this connection, plus those the
   * broker taught an earlier connection to the same vhost (shared through the driver).
   */
  readonly queueTypes: Map<string, string>
  private readonly channels = new Set<AmqpChannel>()
  private readonly blockedListeners: Array<(blocked: boolean, reason?: string) => void> = []
  private lastError: Error | undefined
  private lost: ConnectionError | undefined
  private ended = false
  private closing: Promise<void> | undefined
  private resolveClosed!: (err: Error | undefined) => void
  private readonly closedPromise = new Promise<Error | undefined>((r) => {
    this.resolveClosed = r
  })

  constructor(
    private readonly model: ChannelModel,
    queueTypes: Map<string, string>,
    readonly logger: Logger,
  ) {
    this.queueTypes = queueTypes
    // An 'error' listener is required: without one, amqplib's emitter would throw it.
    model.on('error', (err: Error) => {
      this.lastError = err
    })
    model.on('close', (err?: Error) => this.onClose(err))
    model.on('blocked', (reason: string) => {
      for (const l of this.blockedListeners) l(true, reason)
    })
    model.on('unblocked', () => {
      for (const l of this.blockedListeners) l(false)
    })
  }

  /** Why the connection was lost (not set when we closed it). */
  get lostError(): ConnectionError | undefined {
    return this.lost
  }

  async createChannel(): Promise<AmqpChannel> {
    if (this.ended || this.closing) throw this.lost ?? new ConnectionError('the AMQP connection is closed')
    const channel = new AmqpChannel(this)
    this.channels.add(channel)
    try {
      await channel.start()
    } catch (err) {
      this.channels.delete(channel)
      throw err
    }
    return channel
  }

  /** A new amqplib confirm channel (for AmqpChannel). */
  async openConfirmChannel(): Promise<ConfirmChannel> {
    if (this.ended || this.closing) throw this.lost ?? new ConnectionError('the AMQP connection is closed')
    try {
      return await this.model.createConfirmChannel()
    } catch (err) {
      throw this.mapError(err, 'open channel')
    }
  }

  /** An AmqpChannel closed: stop tracking it. */
  forget(channel: AmqpChannel): void {
    this.channels.delete(channel)
  }

  /** Closes every channel (sending their pending acks), then the connection. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      for (const channel of [...this.channels]) await channel.close().catch(() => {})
      if (!this.ended) await this.model.close().catch(() => {})
      this.ended = true
      this.resolveClosed(this.lost)
    })()
    return this.closing
  }

  closed(): Promise<Error | undefined> {
    return this.closedPromise
  }

  onBlocked(listener: (blocked: boolean, reason?: string) => void): void {
    this.blockedListeners.push(listener)
  }

  private mapError(err: unknown, what: string): QError {
    if (this.lost) return new ConnectionError(`${what}: ${this.lost.message}`, { cause: err })
    return toAmqpQError(err, what)
  }

  private onClose(err: Error | undefined): void {
    if (this.ended) return
    this.ended = true
    if (this.closing) return
    const cause = err ?? this.lastError
    const refused = cause && GLOBAL_QOS_REFUSED.exec(replyTextOf(cause.message) ?? cause.message)
    // Next time (after the reconnection), consume that queue with a per-consumer prefetch.
    if (refused) this.queueTypes.set(refused[1]!, 'quorum')
    this.lost = new ConnectionError(
      `AMQP connection lost: ${cause?.message ?? 'closed by the broker'}`,
      cause ? { cause } : undefined,
    )
    for (const channel of this.channels) channel.connectionLost(this.lost)
    this.channels.clear()
    this.resolveClosed(this.lost)
  }
}
