/**
 * Where a task message goes, as Celery's router decides it: explicit call options first, then
 * `taskRoutes` (glob patterns and router functions, in order), then the default queue. Queues
 * are declared exactly as Python Celery declares them, so both sides agree on RabbitMQ.
 */
import { Exchange, Queue } from '@q/kombu'
import type { CeleryConfig, RouteOptions, RouterFunction, TaskRoutes } from './config/config.js'
import { ConfigurationError } from './errors.js'

/** Where to publish, resolved. */
export interface Route {
  /** The queue to declare before publishing. */
  queue: Queue
  /** Exchange to publish to ('' = the default exchange, routing by queue name). */
  exchange: string
  routingKey: string
  priority: number | undefined
}

/** Routing asked for in a call (`applyAsync` options). */
export interface RouteRequest {
  queue?: string | Queue
  exchange?: string
  routingKey?: string
  priority?: number
}

function globToRegExp(glob: string): RegExp {
  const src = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${src}$`)
}

function mapRouter(map: Record<string, RouteOptions | string>): RouterFunction {
  // Exact names win over patterns, as in Celery's MapRoute.
  const patterns = Object.entries(map).map(([k, v]) => [globToRegExp(k), v] as const)
  return (name) => map[name] ?? patterns.find(([re]) => re.test(name))?.[1]
}

/** Compiles `taskRoutes` into a list of router functions. */
export function compileRoutes(routes: TaskRoutes | null): RouterFunction[] {
  if (!routes) return []
  const list = Array.isArray(routes) ? routes : [routes]
  return list.map((r) =>
    typeof r === 'function' ? r : mapRouter(r as Record<string, RouteOptions | string>),
  )
}

/** The queues an app knows: `taskQueues`, or the default queue. */
export function buildQueues(conf: CeleryConfig): Map<string, Queue> {
  const queues = new Map<string, Queue>()
  for (const q of conf.taskQueues ?? [conf.taskDefaultQueue]) {
    const queue = typeof q === 'string' ? defaultQueue(conf, q) : q
    queues.set(queue.name, withMaxPriority(conf, queue))
  }
  return queues
}

/** A queue as Celery declares one by name: a direct exchange and routing key of that name, durable. */
export function defaultQueue(conf: CeleryConfig, name: string): Queue {
  const isDefault = name === conf.taskDefaultQueue
  const exchangeName = (isDefault && conf.taskDefaultExchange) || name
  const exchange = new Exchange(exchangeName, { type: isDefault ? conf.taskDefaultExchangeType : 'direct' })
  const routingKey = (isDefault && conf.taskDefaultRoutingKey) || name
  return withMaxPriority(conf, new Queue(name, { exchange, routingKey }))
}

function withMaxPriority(conf: CeleryConfig, q: Queue): Queue {
  return conf.taskQueueMaxPriority != null && q.maxPriority === undefined
    ? q.with({ maxPriority: conf.taskQueueMaxPriority })
    : q
}

/** Resolves routes for an app's configuration. */
export class Router {
  private readonly routers: RouterFunction[]

  constructor(
    private readonly conf: CeleryConfig,
    readonly queues: Map<string, Queue>,
  ) {
    this.routers = compileRoutes(conf.taskRoutes)
  }

  /** Where `name` goes, given the call's own routing options. */
  route(name: string, args: unknown[], kwargs: Record<string, unknown>, request: RouteRequest = {}): Route {
    let wanted: RouteRequest = { ...request }
    if (wanted.queue === undefined && wanted.exchange === undefined) {
      for (const router of this.routers) {
        const r = router(name, args, kwargs, { ...request })
        if (r) {
          // Explicit call options win over the route, as Celery's lpmerge.
          wanted = { ...(typeof r === 'string' ? { queue: r } : r), ...stripUndefined(request) }
          break
        }
      }
    }
    const queue = this.queue(wanted.queue ?? this.conf.taskDefaultQueue)
    const explicit = wanted.exchange !== undefined
    // As Celery's send_task_message: unless both an exchange and a routing key are given, a
    // direct queue is published through the default exchange with the queue name as routing
    // key (after declaring exchange, queue and binding).
    const direct =
      !(explicit && wanted.routingKey) && (queue.exchange.type === 'direct' || !queue.exchange.name)
    return {
      queue,
      exchange: direct ? '' : explicit ? wanted.exchange! : queue.exchange.name,
      routingKey: direct ? queue.name : (wanted.routingKey ?? queue.routingKey),
      priority: wanted.priority ?? this.conf.taskDefaultPriority ?? undefined,
    }
  }

  /** A queue by name, created on the fly when `taskCreateMissingQueues` allows it. */
  queue(q: string | Queue): Queue {
    if (typeof q !== 'string') return q
    const known = this.queues.get(q)
    if (known) return known
    if (!this.conf.taskCreateMissingQueues) {
      throw new ConfigurationError(`Queue '${q}' is not in taskQueues and taskCreateMissingQueues is off`)
    }
    const created = defaultQueue(this.conf, q)
    this.queues.set(q, created)
    return created
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}
