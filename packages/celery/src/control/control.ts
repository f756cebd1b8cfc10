/**
 * Control: Celery's `app.control`, the client side of remote control. Commands go to every
 * worker (Python's too) through the pidbox mailbox: fire-and-forget by default, or with
 * `reply: true` to gather `[{ <node>: <reply> }, ...]` for up to `timeout` ms. `inspect()` asks
 * workers what they are doing. Times are milliseconds here (Celery's are seconds).
 */
import { type Connection, LamportClock, Mailbox, type NodeReply } from '@q/kombu'
import type { Celery } from '../app.js'
import { Inspect, type InspectOptions } from './inspect.js'
import type { ControlBroadcastOptions, ControlCommandOptions, ControlResult, ControlTarget } from './types.js'

/** Celery's default signal for `terminate`. */
const TERM_SIGNAME = 'SIGTERM'

/** Remote control of the workers of one app. */
export class Control {
  /**
   * The logical clock of this process's remote control (Celery's `app.clock`): moved by every
   * request and reply, and by the worker's `hello`, `clock` and `stats` commands.
   */
  readonly clock = new LamportClock()
  private mailboxValue: Mailbox | undefined

  constructor(readonly app: Celery) {}

  /** The mailbox on the app's connection (created on first use). */
  get mailbox(): Mailbox {
    this.mailboxValue ??= this.mailboxFor(this.app.connection())
    return this.mailboxValue
  }

  /** A mailbox with this app's control settings and clock, on another connection (a worker's). */
  mailboxFor(connection: Connection): Mailbox {
    const c = this.app.conf
    const ms = (s: number | null | undefined) => (s == null ? undefined : s * 1000)
    return new Mailbox(connection, {
      namespace: c.controlExchange,
      type: 'fanout',
      accept: c.acceptContent,
      serializer: c.taskSerializer,
      queueTtl: ms(c.controlQueueTtl),
      queueExpires: ms(c.controlQueueExpires),
      replyQueueTtl: ms(c.controlQueueTtl),
      replyQueueExpires: ms(c.controlQueueExpires),
      clock: this.clock,
    })
  }

  /**
   * Sends a command to the workers. With `reply`, resolves with their replies
   * (`[{ 'celery@host': reply }, ...]`) once `limit` replied or `timeout` passed; else with `[]`.
   */
  broadcast<T = unknown>(command: string, options: ControlBroadcastOptions = {}): Promise<NodeReply<T>[]> {
    const { destination, ...rest } = options
    return this.mailbox.broadcast(command, {
      ...rest,
      destination: destination == null ? null : typeof destination === 'string' ? [destination] : destination,
    }) as Promise<NodeReply<T>[]>
  }

  /** Pings the workers; resolves with `[{ <node>: { ok: 'pong' } }, ...]`. */
  ping(options: ControlTarget = {}): Promise<NodeReply<{ ok: string }>[]> {
    return this.broadcast('ping', { ...options, reply: true })
  }

  /**
   * Revokes tasks on the workers: they discard them when they arrive, and with `terminate` abort
   * the ones running (their AbortSignal fires). `signal` is the signal name Python workers use.
   */
  revoke(
    taskId: string | readonly string[],
    options: ControlCommandOptions & { terminate?: boolean; signal?: string } = {},
  ): Promise<NodeReply<ControlResult>[]> {
    const { terminate = false, signal = TERM_SIGNAME, ...target } = options
    return this.broadcast('revoke', {
      ...target,
      arguments: { task_id: Array.isArray(taskId) ? [...taskId] : taskId, terminate, signal },
    })
  }

  /** Revokes and terminates tasks (revoke with `terminate: true`). */
  terminate(
    taskId: string | readonly string[],
    options: ControlCommandOptions & { signal?: string } = {},
  ): Promise<NodeReply<ControlResult>[]> {
    return this.revoke(taskId, { ...options, terminate: true })
  }

  /** Sets a task's rate limit on the workers (`'10/m'`, a number per second, or null to remove it). */
  rateLimit(
    taskName: string,
    rateLimit: string | number | null,
    options: ControlCommandOptions = {},
  ): Promise<NodeReply<ControlResult>[]> {
    return this.broadcast('rate_limit', {
      ...options,
      arguments: { task_name: taskName, rate_limit: rateLimit },
    })
  }

  /** Sets a task's time limits on the workers, in seconds (as Celery). */
  timeLimit(
    taskName: string,
    limits: { soft?: number | null; hard?: number | null },
    options: ControlCommandOptions = {},
  ): Promise<NodeReply<ControlResult>[]> {
    return this.broadcast('time_limit', {
      ...options,
      arguments: { task_name: taskName, hard: limits.hard ?? null, soft: limits.soft ?? null },
    })
  }

  /** Tells the workers to consume from one more queue (exchange and routing key default to its name). */
  addConsumer(
    queue: string,
    options: ControlCommandOptions & {
      exchange?: string | null
      exchangeType?: string
      routingKey?: string | null
      /** More Queue options, passed as is (Kombu's `Queue.from_dict` keys). */
      queueOptions?: Record<string, unknown>
    } = {},
  ): Promise<NodeReply<ControlResult>[]> {
    const { exchange = null, exchangeType = 'direct', routingKey = null, queueOptions, ...target } = options
    return this.broadcast('add_consumer', {
      ...target,
      arguments: {
        queue,
        exchange,
        exchange_type: exchangeType,
        routing_key: routingKey,
        ...queueOptions,
      },
    })
  }

  /** Tells the workers to stop consuming from a queue. */
  cancelConsumer(queue: string, options: ControlCommandOptions = {}): Promise<NodeReply<ControlResult>[]> {
    return this.broadcast('cancel_consumer', { ...options, arguments: { queue } })
  }

  /** Tells the workers to send task events. */
  enableEvents(options: ControlCommandOptions = {}): Promise<NodeReply<ControlResult>[]> {
    return this.broadcast('enable_events', { ...options, arguments: {} })
  }

  /** Tells the workers to stop sending task events. */
  disableEvents(options: ControlCommandOptions = {}): Promise<NodeReply<ControlResult>[]> {
    return this.broadcast('disable_events', { ...options, arguments: {} })
  }

  /** Asks the workers for a heartbeat event now. */
  heartbeat(options: ControlCommandOptions = {}): Promise<NodeReply<null>[]> {
    return this.broadcast('heartbeat', { ...options, arguments: {} })
  }

  /** Shuts the workers down (warm shutdown). Workers do not reply to it. */
  shutdown(options: Omit<ControlCommandOptions, 'reply'> = {}): Promise<NodeReply[]> {
    return this.broadcast('shutdown', { ...options, arguments: {} })
  }

  /** Asks workers what they are doing: `await app.control.inspect().active()`. */
  inspect(options: InspectOptions = {}): Inspect {
    return new Inspect(this, options)
  }
}
