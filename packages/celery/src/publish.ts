/**
 * Sending a task: route it, build the protocol v2 message, and publish it as Python Celery
 * does (declaring the queue, its exchange and binding once per connection). A countdown or eta
 * goes in the `eta` header and the message is published at once, as Celery does: whichever
 * worker takes it, Python or q, knows when to run it. A q worker then parks it in the
 * transport's delayed delivery (see Worker.defer); the sender cannot, because a delayed message
 * only moves to its queue while some q process consumes that queue, and the receiver may be
 * Python.
 */

import type { PublishOptions, Queue, RetryPolicy } from '@q/kombu'
// A flat string (kombu's ids.ts): a randomUUID() rope is flattened by every reader of the id.
import { uuid } from '@q/kombu/internal'
import type { Celery } from './app.js'
import type { ResultBackend } from './backends/types.js'
import { ConfigurationError } from './errors.js'
import { buildTaskMessage, type Signature, type TaskMessage } from './protocol/task-message.js'
import type { Route } from './routing.js'
import type { CallOptions } from './task-types.js'

function toDate(value: number | Date | undefined, now: number, what: string): Date | undefined {
  if (value === undefined || value === null) return undefined
  if (value instanceof Date) return value
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new ConfigurationError(`${what} must be seconds or a Date`)
  return new Date(now + value * 1000)
}

function list(v: Signature | readonly Signature[] | undefined): Signature[] | null {
  if (!v) return null
  return Array.isArray(v) ? [...v] : [v as Signature]
}

const converted = new WeakMap<object, RetryPolicy>()

/** Celery's retry policy (seconds) as @q/kombu's (milliseconds); converted once per policy object. */
function retryPolicy(p: Record<string, number>): RetryPolicy {
  let r = converted.get(p)
  if (!r) {
    r = convertPolicy(p)
    converted.set(p, r)
  }
  return r
}

function convertPolicy(p: Record<string, number>): RetryPolicy {
  const ms = (v: number | undefined) => (v === undefined ? undefined : v * 1000)
  return {
    maxRetries: p.max_retries ?? p.maxRetries,
    intervalStart: ms(p.interval_start ?? p.intervalStart),
    intervalStep: ms(p.interval_step ?? p.intervalStep),
    intervalMax: ms(p.interval_max ?? p.intervalMax),
    factor: 1,
  }
}

/** What publishing needs of a result backend, once loaded: null when there is none. */
const loadedBackends = new WeakMap<Celery, ResultBackend | null>()

/**
 * The app's result backend if it is already loaded (null: the app has none), else undefined.
 * Lets a publish skip awaiting `app.backend()` once it has resolved.
 */
export function loadedBackend(app: Celery): ResultBackend | null | undefined {
  return loadedBackends.get(app)
}

/** Connects and loads the backend (when the call stores a result): the first publish's waits. */
export async function readyToPublish(app: Celery, needsBackend: boolean): Promise<ResultBackend | null> {
  await app.connection().connect()
  if (!needsBackend) return null
  let backend = loadedBackends.get(app)
  if (backend === undefined) {
    backend = (await app.backend()) ?? null
    loadedBackends.set(app, backend)
  }
  return backend
}

/** A call's checked arguments, route and message, ready for the producer. */
export interface PreparedTask {
  readonly id: string
  readonly name: string
  readonly msg: TaskMessage
  readonly route: Route
  readonly ignoreResult: boolean
  /** The message's time to live in ms, when the call expires. */
  readonly expiration: number | undefined
  /** The call options it was prepared with. */
  readonly call: CallOptions
}

/** The `declare` list of a queue, made once: the producer declares it once per connection anyway. */
const declares = new WeakMap<Queue, readonly Queue[]>()
function declareOf(queue: Queue): readonly Queue[] {
  let d = declares.get(queue)
  if (!d) {
    d = Object.freeze([queue])
    declares.set(queue, d)
  }
  return d
}

/** Checks a call and builds its message and publish options; synchronous, throws on bad input. */
export function prepareTask(
  app: Celery,
  name: string,
  args: unknown[],
  kwargs: Record<string, unknown>,
  o: CallOptions,
  route: Route | undefined,
  id: string,
): PreparedTask {
  if (!Array.isArray(args)) throw new ConfigurationError('task args must be an array')
  if (!kwargs || typeof kwargs !== 'object' || Array.isArray(kwargs))
    throw new ConfigurationError('task kwargs must be an object')
  const conf = app.conf
  const now = o.countdown || o.expires !== undefined ? Date.now() : 0
  const eta = o.eta ?? (o.countdown ? new Date(now + o.countdown * 1000) : undefined)
  const expires = toDate(o.expires, now, 'expires')
  const r = route ?? app.router.route(name, args, kwargs, o)
  const ignoreResult = o.ignoreResult ?? conf.taskIgnoreResult
  const replyTo = o.replyTo ?? app.oid
  const msg = buildTaskMessage({
    id,
    task: name,
    args,
    kwargs,
    eta,
    expires,
    retries: o.retries,
    group: o.groupId,
    groupIndex: o.groupIndex,
    timeLimit: o.timeLimit ?? null,
    softTimeLimit: o.softTimeLimit ?? null,
    rootId: o.rootId,
    parentId: o.parentId,
    shadow: o.shadow,
    origin: app.origin,
    ignoreResult,
    replyTo,
    callbacks: list(o.link),
    errbacks: list(o.linkError),
    chain: o.chain ? [...o.chain] : null,
    chord: o.chord ?? null,
    headers: o.headers,
  })
  // As Celery: seconds are the TTL as given (expires=3600 -> '3600000'); a date, the time left.
  const expiration = expires
    ? Math.max(0, typeof o.expires === 'number' ? o.expires * 1000 : expires.getTime() - Date.now())
    : undefined
  return { id, name, msg, route: r, ignoreResult, expiration, call: o }
}

/** The producer options of a prepared call; those of a batch are the first call's, without its id. */
export function publishOptions(app: Celery, task: PreparedTask, single: boolean): PublishOptions {
  const conf = app.conf
  const o = task.call
  const r = task.route
  return {
    exchange: r.exchange,
    routingKey: r.routingKey,
    serializer: o.serializer ?? conf.taskSerializer,
    compression: o.compression ?? conf.taskCompression ?? undefined,
    headers: single ? task.msg.headers : undefined,
    priority: r.priority,
    deliveryMode: conf.taskDefaultDeliveryMode,
    correlationId: single ? task.id : undefined,
    replyTo: task.msg.replyTo,
    expiration: single ? task.expiration : undefined,
    properties: o.properties,
    declare: declareOf(r.queue),
    retry: o.retry ?? conf.taskPublishRetry,
    retryPolicy: o.retryPolicy ?? retryPolicy(conf.taskPublishRetryPolicy),
  }
}

/**
 * Publishes one task message; resolves with the task id. Once connected (and the result
 * backend loaded, when the call stores a result), nothing is awaited before the producer.
 */
export function publishTask(
  app: Celery,
  name: string,
  args: unknown[],
  kwargs: Record<string, unknown>,
  o: CallOptions,
): Promise<string> {
  const task = prepareTask(app, name, args, kwargs, o, undefined, o.taskId ?? uuid())
  const backend = task.ignoreResult ? null : loadedBackends.get(app)
  if (!app.connection().connected || backend === undefined) return publishLater(app, task)
  const called = backend?.onTaskCall?.(task.id)
  return called ? called.then(() => send(app, task)) : send(app, task)
}

async function publishLater(app: Celery, task: PreparedTask): Promise<string> {
  const backend = await readyToPublish(app, !task.ignoreResult)
  await backend?.onTaskCall?.(task.id)
  return send(app, task)
}

function send(app: Celery, task: PreparedTask): Promise<string> {
  beforePublish(app, task)
  return app
    .getProducer()
    .publish(task.msg.body, publishOptions(app, task, true))
    .then(() => {
      afterPublish(app, task)
      return task.id
    })
}

/** beforeTaskPublish, its payload built only when someone listens. */
export function beforePublish(app: Celery, task: PreparedTask): void {
  if (app.signals.listenerCount('beforeTaskPublish') === 0) return
  app.signals.send('beforeTaskPublish', {
    name: task.name,
    id: task.id,
    headers: task.msg.headers,
    body: task.msg.body,
    exchange: task.route.exchange,
    routingKey: task.route.routingKey,
  })
}

/** afterTaskPublish, its payload built only when someone listens. */
export function afterPublish(app: Celery, task: PreparedTask): void {
  if (app.signals.listenerCount('afterTaskPublish') === 0) return
  app.signals.send('afterTaskPublish', {
    name: task.name,
    id: task.id,
    exchange: task.route.exchange,
    routingKey: task.route.routingKey,
  })
}
