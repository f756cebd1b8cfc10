/**
 * The worker's remote-control commands, named and answering as Celery 5.2's
 * (`celery/worker/control.py`): each takes the request's keyword arguments and the
 * WorkerControl (as the handler state) and returns the reply value.
 */
import { NO_REPLY, type PidboxHandler, type PidboxHandlers } from '@q/kombu'
import { parseRate } from '../worker/rate-limit.js'
import { queueDict, requestState, scheduledInfo, taskInfo, workerStats } from './describe.js'
import type { ControlResult } from './types.js'
import type { WorkerControl } from './worker-control.js'

type Handler = PidboxHandler<WorkerControl>

const ok = (value: string): ControlResult => ({ ok: value })
const nok = (value: string): ControlResult => ({ error: value })

/** An error whose reply reads as the Python exception Celery raises (`ValueError('...')`). */
class PythonError extends Error {
  constructor(name: string, message: string) {
    super(message)
    this.name = name
  }
}

/** A task id or a list of them (Celery's `maybe_list`), without duplicates. */
function ids(value: unknown): string[] {
  const list = Array.isArray(value) ? value : value == null || value === '' ? [] : [value]
  return [...new Set(list.map(String))]
}

/** Task attributes `registered` can show, with Celery's defaults. */
function taskAttribute(wc: WorkerControl, name: string, field: string): unknown {
  const conf = wc.worker.app.conf
  const o = wc.worker.app.tasks.get(name)?.options ?? {}
  switch (field) {
    case 'name':
      return name
    case 'rate_limit':
      return o.rateLimit ?? conf.taskDefaultRateLimit
    case 'max_retries':
      return o.maxRetries === undefined ? 3 : o.maxRetries
    case 'default_retry_delay':
      return o.defaultRetryDelay ?? 180
    case 'time_limit':
      return o.timeLimit ?? conf.taskTimeLimit
    case 'soft_time_limit':
      return o.softTimeLimit ?? conf.taskSoftTimeLimit
    case 'acks_late':
      return o.acksLate ?? conf.taskAcksLate
    case 'ignore_result':
      return o.ignoreResult ?? conf.taskIgnoreResult
    case 'track_started':
      return o.trackStarted ?? conf.taskTrackStarted
    case 'serializer':
      return o.serializer ?? conf.taskSerializer
    default: {
      const camel = field.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())
      return (o as Record<string, unknown>)[camel]
    }
  }
}

/** Python's `str()` of a simple value. */
function pyStr(v: unknown): string {
  if (v === true) return 'True'
  if (v === false) return 'False'
  return typeof v === 'object' ? JSON.stringify(v) : String(v)
}

const revoke: Handler = (args, { state: wc }) => {
  const { worker } = wc
  const taskIds = ids(args.task_id)
  if (args.terminate) {
    const signal = typeof args.signal === 'string' && args.signal ? args.signal : 'SIGTERM'
    const found = taskIds.filter((id) => worker.requests.has(id))
    worker.revoke(taskIds, true)
    for (const id of found) worker.log('info', `Terminating ${id} (${signal})`)
    return ok(found.length ? `terminate: ${found.join(', ')}` : 'terminate: tasks unknown')
  }
  worker.revoke(taskIds, false)
  const idstr = taskIds.join(', ')
  worker.log('info', `Tasks flagged as revoked: ${idstr}`)
  return ok(`tasks ${idstr} flagged as revoked`)
}

const active: Handler = (args, { state: wc }) =>
  [...wc.worker.requests.values()]
    .filter((r) => requestState(r) === 'active')
    .map((r) => taskInfo(r, wc.worker.hostname, Boolean(args.safe)))

const reserved: Handler = (_args, { state: wc }) =>
  [...wc.worker.requests.values()]
    .filter((r) => requestState(r) === 'reserved')
    .map((r) => taskInfo(r, wc.worker.hostname))

const scheduled: Handler = (_args, { state: wc }) =>
  [...wc.worker.requests.values()]
    .filter((r) => requestState(r) === 'scheduled')
    .map((r) => scheduledInfo(r, wc.worker.hostname))

const registered: Handler = (args, { state: wc }) => {
  const given = Array.isArray(args.taskinfoitems) ? args.taskinfoitems.map(String) : []
  const items = given.length ? given : ['exchange', 'routing_key', 'rate_limit']
  const names = [...wc.worker.app.tasks.keys()]
    .filter((n) => args.builtins || !n.startsWith('celery.'))
    .sort()
  return names.map((name) => {
    const fields = items
      .map((f) => [f, taskAttribute(wc, name, f)] as const)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([f, v]) => `${f}=${pyStr(v)}`)
    return fields.length ? `${name} [${fields.join(' ')}]` : name
  })
}

const revoked: Handler = (_args, { state: wc }) => wc.worker.revoked.list()

const queryTask: Handler = (args, { state: wc }) => {
  const out: Record<string, [string, unknown]> = {}
  for (const id of ids(args.ids)) {
    const r = wc.worker.requests.get(id)
    if (!r) continue
    // As in Celery, tasks held for their ETA are not among the worker's requests yet.
    const where = requestState(r)
    if (where !== 'scheduled') out[id] = [where, taskInfo(r, wc.worker.hostname)]
  }
  return out
}

const rateLimit: Handler = (args, { state: wc }) => {
  const name = String(args.task_name)
  const rate = (args.rate_limit ?? null) as string | number | null
  try {
    parseRate(rate)
  } catch (err) {
    return nok(`Invalid rate limit string: ${(err as Error).message}`)
  }
  if (!wc.worker.app.tasks.has(name)) {
    wc.worker.log('error', `Rate limit attempt for unknown task ${name}`)
    return nok('unknown task')
  }
  wc.worker.strategy.setRateLimit(name, rate)
  if (!rate) {
    wc.worker.log('info', `Rate limits disabled for tasks of type ${name}`)
    return ok('rate limit disabled successfully')
  }
  wc.worker.log('info', `New rate limit for tasks of type ${name}: ${rate}.`)
  return ok('new rate limit set successfully')
}

const timeLimit: Handler = (args, { state: wc }) => {
  const name = String(args.task_name)
  const task = wc.worker.app.tasks.get(name)
  if (!task) {
    wc.worker.log('error', `Change time limit attempt for unknown task ${name}`)
    return nok('unknown task')
  }
  const num = (v: unknown) => (v === null || v === undefined || v === '' ? null : Number(v))
  const hard = num(args.hard)
  const soft = num(args.soft)
  // Celery sets the attributes on the registered task: every later run of it, app-wide, sees them
  // (the limits in a message's own headers still win). The options object is frozen: replace it.
  const options = Object.freeze({ ...task.options, timeLimit: hard, softTimeLimit: soft })
  ;(task as { options: typeof options }).options = options
  wc.worker.log('info', `New time limits for tasks of type ${name}: soft=${soft} hard=${hard}`)
  return ok('time limits set successfully')
}

const hello: Handler = (args, { state: wc }) => {
  const from = String(args.from_node ?? '')
  if (from === wc.worker.hostname) return null
  wc.worker.log('info', `sync with ${from}`)
  wc.mergeRevoked(args.revoked)
  return { revoked: wc.revokedData(), clock: wc.clock.forward() }
}

const enableEvents: Handler = (_args, { state: wc }) => {
  if (wc.taskEvents) return ok('task events already enabled')
  wc.taskEvents = true
  wc.worker.log('info', 'Events of group {task} enabled by remote.')
  return ok('task events enabled')
}

const disableEvents: Handler = (_args, { state: wc }) => {
  if (!wc.taskEvents) return ok('task events already disabled')
  wc.taskEvents = false
  wc.worker.log('info', 'Events of group {task} disabled by remote.')
  return ok('task events disabled')
}

const addConsumer: Handler = (args, { state: wc }) => {
  const queue = String(args.queue ?? '')
  if (!queue) return nok('add_consumer needs a queue name')
  const { queue: _q, exchange, exchange_type: type, routing_key: key, ...options } = args
  wc.addConsumer(queue, {
    exchange: typeof exchange === 'string' && exchange ? exchange : queue,
    exchangeType: typeof type === 'string' && type ? type : 'direct',
    routingKey: typeof key === 'string' && key ? key : queue,
    options,
  })
  return ok(`add consumer ${queue}`)
}

const cancelConsumer: Handler = async (args, { state: wc }) => {
  const queue = String(args.queue ?? '')
  return wc.cancelConsumer(queue)
}

const shutdown: Handler = (args, { state: wc }) => {
  wc.worker.log('warn', typeof args.msg === 'string' ? args.msg : 'Got shutdown from remote')
  // Stop after this handler returns: stopping closes the mailbox node that is running it.
  setImmediate(() => void wc.worker.stop().catch(() => {}))
  return NO_REPLY
}

/** Every command a q worker answers, with Celery's aliases. */
export const WORKER_COMMANDS: PidboxHandlers<WorkerControl> = Object.freeze({
  ping: () => ok('pong'),
  revoke,
  terminate: (args, ctx) => revoke({ ...args, terminate: true }, ctx),
  hello,
  clock: (_args, { state: wc }) => ({ clock: wc.clock.value }),
  active,
  dump_active: active,
  reserved,
  dump_reserved: reserved,
  scheduled,
  dump_schedule: scheduled,
  registered,
  dump_tasks: registered,
  stats: (_args, { state: wc }) => workerStats(wc.worker, wc.connection, wc.clock.value, wc.startedAt),
  revoked,
  dump_revoked: revoked,
  active_queues: (_args, { state: wc }) => wc.activeQueues().map(queueDict),
  query_task: queryTask,
  rate_limit: rateLimit,
  time_limit: timeLimit,
  add_consumer: addConsumer,
  cancel_consumer: cancelConsumer,
  enable_events: enableEvents,
  disable_events: disableEvents,
  heartbeat: (_args, { state: wc }) => {
    wc.worker.log('debug', 'Heartbeat requested by remote.')
    return null
  },
  autoscale: () => {
    throw new PythonError('ValueError', 'Autoscale not enabled')
  },
  shutdown,
})
