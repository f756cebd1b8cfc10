/**
 * Prefetch (basic.qos) of one AmqpChannel. Python Celery asks RabbitMQ for a *global* prefetch
 * (shared by the channel's consumers). Quorum and stream queues refuse that, and not politely:
 * RabbitMQ closes the whole connection (540 NOT_IMPLEMENTED) at the basic.consume. So a global
 * prefetch is sent only at the first consume, once the channel's queues are known, and becomes a
 * per-consumer prefetch of the same count when one of them is a quorum or stream queue (as
 * Celery 5.5's `worker_detect_quorum_queues` does).
 */
import { ChannelError, InvalidOptionError, type Logger } from '@q/kombu'
import type { Link } from './link.js'

/** Queue types that refuse a global prefetch. */
const REFUSE_GLOBAL = new Set(['quorum', 'stream'])

/** The prefetch a channel was asked for, and how it is applied on each of its Links. */
export class QosPolicy {
  private wanted: { count: number; global: boolean } | undefined

  /**
   * @param queueTypes queue name -> `x-queue-type`, for the queues this connection declared or
   * learned about (the connection's record, shared by its channels).
   */
  constructor(
    private readonly queueTypes: ReadonlyMap<string, string>,
    private readonly logger: Logger,
  ) {}

  /** Records what is asked for; throws InvalidOptionError for a count outside 0..65535. */
  set(prefetchCount: number, global: boolean): void {
    if (!Number.isInteger(prefetchCount) || prefetchCount < 0 || prefetchCount > 65535)
      throw new InvalidOptionError(`prefetchCount must be an integer in 0..65535, got ${prefetchCount}`)
    this.wanted = { count: prefetchCount, global }
  }

  /** The first queue among `queues` that refuses a global prefetch. */
  refusing(queues: Iterable<string>): string | undefined {
    for (const q of queues) if (REFUSE_GLOBAL.has(this.queueTypes.get(q) ?? '')) return q
    return undefined
  }

  /**
   * Applies the prefetch on `link`, now or (global, no consumer yet) at the first consume.
   * @param queues the queues the channel consumes or declared.
   */
  async apply(link: Link, queues: Iterable<string>, consuming: boolean): Promise<void> {
    const wanted = this.wanted
    if (!wanted) return
    if (wanted.global && !consuming) {
      link.qosPending = true
      return
    }
    const refused = wanted.global ? this.refusing(queues) : undefined
    const global = wanted.global && !refused
    await link.ch.prefetch(wanted.count, global)
    link.qos = { count: wanted.count, global }
    link.qosPending = false
    if (refused) {
      this.logger.info(
        `queue '${refused}' is a ${this.queueTypes.get(refused)} queue, which refuses a global prefetch: using a per-consumer prefetch of ${wanted.count} instead`,
      )
    }
  }

  /** Before basic.consume of `queue`: sends a pending prefetch, or refuses what RabbitMQ would answer by closing the connection. */
  async beforeConsume(link: Link, queue: string, queues: Iterable<string>): Promise<void> {
    if (link.qosPending) return this.apply(link, [queue, ...queues], true)
    if (link.qos?.global && link.qos.count > 0 && this.refusing([queue])) {
      throw new ChannelError(
        `NOT_IMPLEMENTED - queue '${queue}' is a ${this.queueTypes.get(queue)} queue, which RabbitMQ refuses to consume on a channel with a global prefetch (it would close the connection); consume it on another channel, or declare it on this one before the first consume`,
        { replyCode: 540, replyText: 'NOT_IMPLEMENTED' },
      )
    }
  }
}
