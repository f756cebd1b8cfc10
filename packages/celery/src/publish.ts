/**
 * Sending a task: route it, build the protocol v2 message, and publish it as Python Celery
 * does (declaring the queue, its exchange and binding once per connection). A countdown or eta
 * goes in the `eta` header and the message is published at once, as Celery does: whichever
 * worker takes it, Python or q, knows when to run it. A q worker then parks it in the
 * transport's delayed delivery (see Worker.defer); the sender cannot, because a delayed message
 * only moves to its queue while some q process consumes that queue, and the receiver may be
 * Python.
 */

import { randomUUID } from 'node:crypto'
import type { RetryPolicy } from '@q/kombu'
import type { Celery } from './app.js'
import { ConfigurationError } from './errors.js'
import { buildTaskMessage, type Signature } from './protocol/task-message.js'
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

/** Publishes one task message; resolves with the task id. */
export async function publishTask(
  app: Celery,
  name: string,
  args: unknown[],
  kwargs: Record<string, unknown>,
  o: CallOptions,
): Promise<string> {
  if (!Array.isArray(args)) throw new ConfigurationError('task args must be an array')
  if (!kwargs || typeof kwargs !== 'object' || Array.isArray(kwargs))
    throw new ConfigurationError('task kwargs must be an object')
  const conf = app.conf
  const id = o.taskId ?? randomUUID()
  const now = Date.now()
  const eta = o.eta ?? (o.countdown ? new Date(now + o.countdown * 1000) : undefined)
  const expires = toDate(o.expires, now, 'expires')
  const route = app.router.route(name, args, kwargs, o)
  const ignoreResult = o.ignoreResult ?? conf.taskIgnoreResult
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
    replyTo: o.replyTo ?? app.oid,
    callbacks: list(o.link),
    errbacks: list(o.linkError),
    chain: o.chain ? [...o.chain] : null,
    chord: o.chord ?? null,
    headers: o.headers,
  })
  const connection = app.connection()
  await connection.connect()
  const backend = ignoreResult ? undefined : await app.backend()
  await backend?.onTaskCall?.(id)
  app.signals.sendLazy('beforeTaskPublish', () => ({
    name,
    id,
    headers: msg.headers,
    body: msg.body,
    exchange: route.exchange,
    routingKey: route.routingKey,
  }))

  await app.getProducer().publish(msg.body, {
    exchange: route.exchange,
    routingKey: route.routingKey,
    serializer: o.serializer ?? conf.taskSerializer,
    compression: o.compression ?? conf.taskCompression ?? undefined,
    headers: msg.headers,
    priority: route.priority,
    deliveryMode: conf.taskDefaultDeliveryMode,
    correlationId: id,
    replyTo: o.replyTo ?? app.oid,
    // As Celery: seconds are the TTL as given (expires=3600 -> '3600000'); a date, the time left.
    ...(expires
      ? {
          expiration: Math.max(
            0,
            typeof o.expires === 'number' ? o.expires * 1000 : expires.getTime() - Date.now(),
          ),
        }
      : {}),
    ...(o.properties ? { properties: o.properties } : {}),
    declare: [route.queue],
    retry: o.retry ?? conf.taskPublishRetry,
    retryPolicy: o.retryPolicy ?? retryPolicy(conf.taskPublishRetryPolicy),
  })
  app.signals.sendLazy('afterTaskPublish', () => ({
    name,
    id,
    exchange: route.exchange,
    routingKey: route.routingKey,
  }))
  return id
}
