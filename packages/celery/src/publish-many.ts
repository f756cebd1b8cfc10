/**
 * Sending many calls of one task at once (`task.applyMany`, `app.sendTasks`): each call becomes
 * the very message `publishTask` would send (own id, headers in Celery's order), but the calls
 * that go to the same place are routed once and handed to the producer as one batch, which a
 * Redis broker writes with one LPUSH.
 */
import type { MessageOptions } from '@q/kombu'
import { uuid } from '@q/kombu/internal'
import type { Celery } from './app.js'
import type { ResultBackend } from './backends/types.js'
import { ConfigurationError } from './errors.js'
import {
  afterPublish,
  beforePublish,
  loadedBackend,
  type PreparedTask,
  prepareTask,
  publishOptions,
  readyToPublish,
} from './publish.js'
import type { Route } from './routing.js'
import type { CallOptions, TaskCall } from './task-types.js'

const NO_ARGS: unknown[] = []
const NO_KWARGS: Record<string, unknown> = {}

/** A call given as a TaskCall (not a bare args array), checked. */
function taskCall(call: unknown): TaskCall {
  if (!call || typeof call !== 'object')
    throw new ConfigurationError('each call must be an args array or { args, kwargs, options }')
  return call as TaskCall
}

/** Whether routing depends on more than the task name and call options (router functions see args). */
function routesByArgs(app: Celery): boolean {
  const routes = app.conf.taskRoutes
  if (!routes) return false
  return (Array.isArray(routes) ? routes : [routes]).some((r) => typeof r === 'function')
}

/** The identity of a route: calls with equal keys go out in one batch. */
function routeKey(r: Route): string {
  return `${r.queue.name}\0${r.exchange}\0${r.routingKey}\0${r.priority ?? ''}`
}

/**
 * Publishes one message per call, in order; resolves with the task ids, in the order of `calls`.
 * `options` apply to every call, under each call's own. Routing is computed once per distinct
 * options object (per call when `taskRoutes` has router functions, as they may look at the
 * arguments); calls with the same route and options are published as one batch.
 */
export async function publishTasks(
  app: Celery,
  name: string,
  calls: ReadonlyArray<unknown[] | TaskCall>,
  options: CallOptions = {},
): Promise<string[]> {
  if (!Array.isArray(calls)) throw new ConfigurationError('calls must be an array')
  if (options.taskId !== undefined && calls.length > 1)
    throw new ConfigurationError('taskId in the options of a batch would give every task the same id')
  const perCall = routesByArgs(app)
  const routes = new Map<CallOptions, Route>()
  // Calls of the batch's options, by route (one route object per options unless routed per
  // call); a call with options of its own may differ in anything (serializer, retry, eta...)
  // and goes out alone.
  const batches = new Map<Route | string, PreparedTask[]>()
  const tasks: PreparedTask[] = new Array(calls.length)
  let storesResults = false
  for (let i = 0; i < calls.length; i++) {
    const given = calls[i]
    let args: unknown[] = given as unknown[]
    let kwargs = NO_KWARGS
    let o = options
    if (!Array.isArray(given)) {
      const call = taskCall(given)
      args = call.args ?? NO_ARGS
      kwargs = call.kwargs ?? NO_KWARGS
      if (call.options) o = { ...options, ...call.options }
    }
    let route = perCall ? undefined : routes.get(o)
    if (!perCall && !route) {
      route = app.router.route(name, args, kwargs, o)
      routes.set(o, route)
    }
    const task = prepareTask(app, name, args, kwargs, o, route, o.taskId ?? uuid())
    tasks[i] = task
    storesResults ||= !task.ignoreResult
    const key = o !== options ? task.id : perCall ? routeKey(task.route) : task.route
    const batch = batches.get(key)
    if (batch) batch.push(task)
    else batches.set(key, [task])
  }
  if (tasks.length === 0) return []
  let backend: ResultBackend | null | undefined = loadedBackend(app)
  if (!app.connection().connected || (storesResults && backend === undefined))
    backend = await readyToPublish(app, storesResults)
  const notified = notifyBackend(backend, tasks)
  if (notified) await notified
  for (const task of tasks) beforePublish(app, task)
  const producer = app.getProducer()
  const sent: Array<Promise<void>> = []
  for (const batch of batches.values()) {
    const bodies: unknown[] = new Array(batch.length)
    const each: MessageOptions[] = new Array(batch.length)
    for (let i = 0; i < batch.length; i++) {
      const t = batch[i]!
      bodies[i] = t.msg.body
      each[i] = { headers: t.msg.headers, correlationId: t.id, expiration: t.expiration }
    }
    sent.push(producer.publishMany(bodies, { ...publishOptions(app, batch[0]!, false), each }))
  }
  await Promise.all(sent)
  for (const task of tasks) afterPublish(app, task)
  return tasks.map((t) => t.id)
}

/**
 * The backend's onTaskCall for every id that stores a result (Redis: it subscribes); a promise
 * only when some call returned one, so that a batch waits on nothing it need not.
 */
function notifyBackend(
  backend: ResultBackend | null | undefined,
  tasks: readonly PreparedTask[],
): Promise<unknown> | undefined {
  if (!backend?.onTaskCall) return undefined
  const pending: Array<Promise<void>> = []
  for (const t of tasks) {
    if (t.ignoreResult) continue
    const r = backend.onTaskCall(t.id)
    if (r) pending.push(r)
  }
  return pending.length ? Promise.all(pending) : undefined
}
