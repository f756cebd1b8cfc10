/**
 * Describing a worker's state in the shapes Python Celery workers reply with: requests as
 * `Request.info()`, queues as Kombu's `Queue.as_dict()`, and the `stats` record. Python tools
 * (Flower, `celery inspect`) read these as they read a Python worker's.
 */
import { resourceUsage } from 'node:process'
import { type Connection, type Exchange, maskUrl, type Queue } from '@q/kombu'
import { isoformatUtc } from '../protocol/time.js'
import type { Request } from '../worker/request.js'
import type {
  ControlledWorker,
  ExchangeDict,
  QueueDict,
  ScheduledInfo,
  TaskInfo,
  WorkerStats,
} from './types.js'

/** The timer priority Celery gives ETA tasks (`scheduled` shows it). */
const ETA_PRIORITY = 6

/** Where a request is: running, waiting for a slot, or held until its ETA. */
export function requestState(request: Request, now = Date.now()): 'active' | 'reserved' | 'scheduled' {
  if (request.timeStart !== undefined) return 'active'
  const eta = request.received.eta
  return eta && eta.getTime() > now ? 'scheduled' : 'reserved'
}

/** A request as Celery's `Request.info(safe)`. */
export function taskInfo(request: Request, hostname: string, safe = false): TaskInfo {
  const r = request.received
  const m = request.message
  const started = request.timeStart !== undefined
  return {
    id: r.id,
    name: r.shadow ?? r.task,
    args: safe ? r.argsrepr : r.args,
    kwargs: safe ? r.kwargsrepr : r.kwargs,
    type: r.task,
    hostname,
    time_start: started ? request.timeStart! / 1000 : null,
    acknowledged: m.acknowledged,
    delivery_info: {
      exchange: m.deliveryInfo.exchange,
      routing_key: m.deliveryInfo.routingKey,
      priority: typeof m.properties.priority === 'number' ? m.properties.priority : 0,
      redelivered: m.deliveryInfo.redelivered,
    },
    worker_pid: started ? process.pid : null,
  }
}

/** A held ETA request as `scheduled` lists it. */
export function scheduledInfo(request: Request, hostname: string): ScheduledInfo {
  const eta = request.received.eta
  return { eta: eta ? isoformatUtc(eta) : null, priority: ETA_PRIORITY, request: taskInfo(request, hostname) }
}

function exchangeDict(e: Exchange): ExchangeDict {
  return {
    name: e.name,
    type: e.type,
    arguments: Object.keys(e.arguments).length ? { ...e.arguments } : null,
    durable: e.durable,
    passive: false,
    auto_delete: e.autoDelete,
    delivery_mode: e.deliveryMode ?? null,
    no_declare: false,
  }
}

/** The `x-*` arguments Kombu keeps as Queue attributes, in seconds where they are durations. */
const ATTRIBUTES = {
  'x-expires': 'expires',
  'x-message-ttl': 'message_ttl',
  'x-max-length': 'max_length',
  'x-max-length-bytes': 'max_length_bytes',
  'x-max-priority': 'max_priority',
} as const

/** A queue as Kombu's `Queue.as_dict(recurse=True)`. */
export function queueDict(q: Queue): QueueDict {
  const attrs: Record<(typeof ATTRIBUTES)[keyof typeof ATTRIBUTES], number | null> = {
    expires: null,
    message_ttl: null,
    max_length: null,
    max_length_bytes: null,
    max_priority: null,
  }
  const rest: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(q.arguments)) {
    const attr = ATTRIBUTES[k as keyof typeof ATTRIBUTES]
    if (attr && typeof v === 'number')
      attrs[attr] = attr === 'expires' || attr === 'message_ttl' ? v / 1000 : v
    else rest[k] = v
  }
  // The primary binding is the queue's own exchange and key; Kombu lists only the extra ones.
  const primary = q.exchange.name ? 1 : 0
  return {
    name: q.name,
    exchange: exchangeDict(q.exchange),
    routing_key: q.routingKey,
    queue_arguments: Object.keys(rest).length ? rest : null,
    binding_arguments: null,
    consumer_arguments: null,
    durable: q.durable,
    exclusive: q.exclusive,
    auto_delete: q.autoDelete,
    no_ack: q.noAck,
    alias: null,
    bindings: q.bindings.slice(primary).map((b) => ({
      exchange: b.exchange.name,
      routing_key: b.routingKey,
      arguments: Object.keys(b.arguments).length ? { ...b.arguments } : null,
    })),
    no_declare: null,
    ...attrs,
  }
}

/** The `broker` section of `stats`: the connection as Kombu's `Connection.info()`. */
export function brokerInfo(worker: ControlledWorker, connection: Connection): Record<string, unknown> {
  const conf = worker.app.conf
  const [url, ...alternates] = connection.urls
  const transport = connection.transportName
  return {
    hostname: url?.hostname ?? null,
    userid: url?.userid ?? null,
    virtual_host: url?.virtualHost ?? null,
    port: url?.port ?? null,
    insist: false,
    ssl: url ? url.scheme === 'amqps' || url.scheme === 'rediss' : false,
    transport,
    connect_timeout: conf.brokerConnectionTimeout,
    transport_options: conf.brokerTransportOptions ?? {},
    login_method: transport === 'amqp' ? 'PLAIN' : null,
    uri_prefix: null,
    heartbeat: conf.brokerHeartbeat,
    failover_strategy: conf.brokerFailoverStrategy,
    alternates: alternates.map((u) => maskUrl(u.href)),
  }
}

/** `resource.getrusage()` as Celery reports it (times in seconds, maxrss in KiB). */
function rusage(): Record<string, number> {
  const u = resourceUsage()
  return {
    utime: u.userCPUTime / 1e6,
    stime: u.systemCPUTime / 1e6,
    maxrss: u.maxRSS,
    ixrss: u.sharedMemorySize,
    idrss: u.unsharedDataSize,
    isrss: u.unsharedStackSize,
    minflt: u.minorPageFault,
    majflt: u.majorPageFault,
    nswap: u.swappedOut,
    inblock: u.fsRead,
    oublock: u.fsWrite,
    msgsnd: u.ipcSent,
    msgrcv: u.ipcReceived,
    nsignals: u.signalsCount,
    nvcsw: u.voluntaryContextSwitches,
    nivcsw: u.involuntaryContextSwitches,
  }
}

/** The `stats` reply. */
export function workerStats(
  worker: ControlledWorker,
  connection: Connection,
  clock: number,
  startedAt: number,
): WorkerStats {
  const conf = worker.app.conf
  return {
    total: Object.fromEntries(worker.totals),
    pid: process.pid,
    clock: String(clock),
    uptime: Math.floor((Date.now() - startedAt) / 1000),
    pool: {
      'max-concurrency': worker.pool.concurrency,
      processes: [process.pid],
      'max-tasks-per-child': 'N/A',
      'put-guarded-by-semaphore': false,
      timeouts: [conf.taskSoftTimeLimit ?? 0, conf.taskTimeLimit ?? 0],
    },
    broker: brokerInfo(worker, connection),
    prefetch_count: worker.prefetchCount,
    rusage: rusage(),
  }
}
