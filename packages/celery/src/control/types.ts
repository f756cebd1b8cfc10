/**
 * The shapes of Celery's remote control: what a client sends (targets and options) and what
 * workers answer, as Python Celery 5.2 workers answer (`celery/worker/control.py`), so that
 * replies from Python and TypeScript workers read the same.
 */

import type { Message, NodeReply, PidboxMatcher, Queue } from '@q/kombu'
import type { Celery } from '../app.js'
import type { ActiveRequests } from '../worker/active-requests.js'
import type { AsyncPool } from '../worker/pool.js'
import type { Request } from '../worker/request.js'
import type { RevokedSet } from '../worker/revoked.js'

/** Which workers a command is for, and how long to wait for them. */
export interface ControlTarget {
  /** Node names (`celery@host`); default every worker. */
  destination?: string | readonly string[] | null
  /** Workers whose node name matches (when no destination is given). */
  pattern?: string | null
  /** How `pattern` matches: `glob` (default) or `pcre`. */
  matcher?: PidboxMatcher | null
  /** Milliseconds to wait for replies. Default 1000. */
  timeout?: number
  /** Stop waiting after this many replies (default: the number of destinations). */
  limit?: number
  /** Called with each reply as it comes. */
  callback?: (reply: NodeReply) => void
}

/** Options of {@link Control.broadcast}. */
export interface ControlBroadcastOptions extends ControlTarget {
  /** Keyword arguments of the command. */
  arguments?: Record<string, unknown>
  /** Wait for replies (default false: resolves with `[]` once sent). */
  reply?: boolean
}

/** A control command's options: its target, and whether to wait for the replies. */
export interface ControlCommandOptions extends ControlTarget {
  /** Wait for replies. Default false, as Celery's `app.control` commands. */
  reply?: boolean
}

/** Celery's `{ ok: ... }` / `{ error: ... }` replies. */
export type ControlResult = { ok: string } | { error: string }

/** A task as `active`, `reserved` and `query_task` describe it (Celery's `Request.info()`). */
export interface TaskInfo {
  id: string
  /** The task's name (its shadow name when it has one). */
  name: string
  /** The arguments; with `safe`, the sender's repr string. */
  args: unknown[] | string
  kwargs: Record<string, unknown> | string
  /** The registered task name. */
  type: string
  /** The worker's node name. */
  hostname: string
  /** When it started, seconds since the epoch; null before. */
  time_start: number | null
  acknowledged: boolean
  delivery_info: { exchange: string; routing_key: string; priority: number; redelivered: boolean }
  /** The process running it; null before it starts. */
  worker_pid: number | null
}

/** A task held until its ETA (`scheduled`). */
export interface ScheduledInfo {
  /** ISO-8601 with offset. */
  eta: string | null
  priority: number
  request: TaskInfo
}

/** Kombu's `Exchange.as_dict()`. */
export interface ExchangeDict {
  name: string
  type: string
  arguments: Record<string, unknown> | null
  durable: boolean
  passive: boolean
  auto_delete: boolean
  delivery_mode: number | null
  no_declare: boolean
}

/** Kombu's `Queue.as_dict(recurse=True)`, as `active_queues` replies. Durations in seconds. */
export interface QueueDict {
  name: string
  exchange: ExchangeDict
  routing_key: string
  queue_arguments: Record<string, unknown> | null
  binding_arguments: Record<string, unknown> | null
  consumer_arguments: Record<string, unknown> | null
  durable: boolean
  exclusive: boolean
  auto_delete: boolean
  no_ack: boolean
  alias: string | null
  bindings: Array<{ exchange: string; routing_key: string; arguments: Record<string, unknown> | null }>
  no_declare: boolean | null
  expires: number | null
  message_ttl: number | null
  max_length: number | null
  max_length_bytes: number | null
  max_priority: number | null
}

/** What `stats` replies: a subset of Celery's with the same shape. */
export interface WorkerStats {
  /** Tasks finished, by name. */
  total: Record<string, number>
  pid: number
  /** The logical clock, as a string (as Celery sends it). */
  clock: string
  /** Seconds since the worker started. */
  uptime: number
  pool: {
    'max-concurrency': number
    processes: number[]
    'max-tasks-per-child': string
    'put-guarded-by-semaphore': boolean
    timeouts: [number, number]
  }
  broker: Record<string, unknown>
  prefetch_count: number
  rusage: Record<string, number>
}

/** What `hello` (mingle) exchanges: revoked ids as `{ id: [timestamp, id] }` and the clock. */
export interface HelloReply {
  revoked: Record<string, [number, string]>
  clock: number
}

/** What the remote-control handlers need from a worker (the Worker class has all of it). */
export interface ControlledWorker {
  readonly app: Celery
  readonly hostname: string
  readonly concurrency: number
  readonly prefetchCount: number
  readonly queues: readonly Queue[]
  readonly revoked: RevokedSet
  /** Requests received and not finished. */
  readonly requests: ActiveRequests<Request>
  readonly pool: AsyncPool<Request>
  readonly strategy: {
    setRateLimit(taskName: string, rate: string | number | null): void
    handle(body: unknown, message: Message): void
  }
  readonly totals: ReadonlyMap<string, number>
  revoke(ids: readonly string[], terminate?: boolean): void
  stop(): Promise<void>
  log(level: 'info' | 'warn' | 'error' | 'debug', message: string, fields?: Record<string, unknown>): void
}
