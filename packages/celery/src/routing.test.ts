/**
 * Routing as Celery 5.2's Router and send_task_message: the default queue declared as Celery
 * declares it, direct queues published through the default exchange, taskRoutes (globs, exact
 * names, functions, lists), explicit options first, x-max-priority and missing queues.
 */
import { Connection, createMemoryTransport, Exchange, Queue } from '@q/kombu'
import { afterEach, describe, expect, it } from 'vitest'
import { Celery } from './app.js'
import { resolveConfig } from './config/config.js'
import { ConfigurationError } from './errors.js'
import { buildQueues, compileRoutes, defaultQueue, Router } from './routing.js'

function router(input: Record<string, unknown> = {}): Router {
  const conf = resolveConfig(input, {})
  return new Router(conf, buildQueues(conf))
}

describe('the default queue', () => {
  it('is celery, on a durable direct exchange celery, routing key celery', () => {
    const conf = resolveConfig({}, {})
    const q = defaultQueue(conf, 'celery')
    expect(q).toMatchObject({ name: 'celery', routingKey: 'celery', durable: true, autoDelete: false })
    expect(q.exclusive).toBe(false)
    expect(q.arguments).toEqual({})
    expect(q.exchange).toMatchObject({ name: 'celery', type: 'direct', durable: true, autoDelete: false })
    expect([...buildQueues(conf).keys()]).toEqual(['celery'])
  })

  it('takes taskDefaultExchange, its type and taskDefaultRoutingKey', () => {
    const conf = resolveConfig(
      {
        taskDefaultQueue: 'work',
        taskDefaultExchange: 'jobs',
        taskDefaultExchangeType: 'topic',
        taskDefaultRoutingKey: 'job.#',
      },
      {},
    )
    const q = buildQueues(conf).get('work')!
    expect(q.exchange).toMatchObject({ name: 'jobs', type: 'topic' })
    expect(q.routingKey).toBe('job.#')
    // Other queues made by name keep their own direct exchange.
    expect(defaultQueue(conf, 'other').exchange).toMatchObject({ name: 'other', type: 'direct' })
  })

  it('is published through the default exchange with routing key = queue name', () => {
    const r = router().route('tasks.add', [], {})
    expect(r).toMatchObject({ exchange: '', routingKey: 'celery', priority: undefined })
    expect(r.queue.name).toBe('celery')
  })

  it('goes to its topic exchange with its routing key when the default exchange is not direct', () => {
    const r = router({ taskDefaultExchangeType: 'topic', taskDefaultRoutingKey: 'task.default' }).route(
      't',
      [],
      {},
    )
    expect(r).toMatchObject({ exchange: 'celery', routingKey: 'task.default' })
  })
})

describe('taskRoutes', () => {
  it('routes by glob, exact names before globs', () => {
    const r = router({
      taskRoutes: { 'feed.*': 'feeds', 'feed.special': { queue: 'special' }, 'img.?ize': 'images' },
    })
    expect(r.route('feed.fetch', [], {}).queue.name).toBe('feeds')
    expect(r.route('feed.special', [], {}).queue.name).toBe('special')
    expect(r.route('img.resize', [], {}).queue.name).toBe('celery')
    expect(r.route('img.size', [], {}).queue.name).toBe('images')
    expect(r.route('feedXfetch', [], {}).queue.name).toBe('celery') // '.' is literal
    expect(r.route('other', [], {}).queue.name).toBe('celery')
    expect(r.route('feed.fetch', [], {})).toMatchObject({ exchange: '', routingKey: 'feeds' })
  })

  it('calls router functions with name, args and kwargs; a miss falls through the list', () => {
    const seen: unknown[] = []
    const routes = [
      (name: string, args: unknown[], kwargs: Record<string, unknown>) => {
        seen.push([name, args, kwargs])
        return kwargs.urgent ? { queue: 'urgent', priority: 9 } : undefined
      },
      { 'tasks.*': 'tasks' },
      () => 'fallback',
    ]
    const r = router({ taskRoutes: routes })
    expect(r.route('tasks.a', [1], { urgent: true })).toMatchObject({ priority: 9, routingKey: 'urgent' })
    expect(seen).toEqual([['tasks.a', [1], { urgent: true }]])
    expect(r.route('tasks.a', [], {}).queue.name).toBe('tasks')
    expect(r.route('misc', [], {}).queue.name).toBe('fallback')
    expect(compileRoutes(null)).toEqual([])
    expect(compileRoutes({ a: 'b' })).toHaveLength(1)
  })

  it('lets explicit call options win over the route', () => {
    const r = router({ taskRoutes: { 'tasks.*': { queue: 'tasks', priority: 3 } } })
    expect(r.route('tasks.a', [], {}, { priority: 7 })).toMatchObject({ priority: 7, routingKey: 'tasks' })
    expect(r.route('tasks.a', [], {}, { queue: 'mine' }).queue.name).toBe('mine')
    expect(r.route('tasks.a', [], {}, { exchange: 'ex', routingKey: 'rk' })).toMatchObject({
      exchange: 'ex',
      routingKey: 'rk',
    })
  })

  it('sends a direct queue through the default exchange even when a route names a routing key', () => {
    // Celery: (not exchange or not routing_key) and exchange_type == 'direct' -> ('', queue name).
    const r = router({ taskRoutes: { 'tasks.*': { queue: 'tasks', routingKey: 'something.else' } } })
    expect(r.route('tasks.a', [], {})).toMatchObject({ exchange: '', routingKey: 'tasks' })
    expect(r.route('x', [], {}, { queue: 'q1', routingKey: 'k' })).toMatchObject({
      exchange: '',
      routingKey: 'q1',
    })
  })

  it('publishes to a topic queue’s exchange with the given routing key (publish_k sample)', () => {
    const topic = new Queue('golden.topicq', {
      exchange: new Exchange('golden.topic', { type: 'topic' }),
      routingKey: 'golden.#',
    })
    const r = router().route(
      'proj.add',
      [],
      {},
      { queue: topic, exchange: 'golden.topic', routingKey: 'golden.x.y' },
    )
    expect(r).toMatchObject({ exchange: 'golden.topic', routingKey: 'golden.x.y' })
    expect(r.queue).toBe(topic)
    const byKey = router().route('proj.add', [], {}, { queue: topic, routingKey: 'golden.a' })
    expect(byKey).toMatchObject({ exchange: 'golden.topic', routingKey: 'golden.a' })
    expect(router().route('proj.add', [], {}, { queue: topic })).toMatchObject({
      exchange: 'golden.topic',
      routingKey: 'golden.#',
    })
  })

  it('uses taskDefaultPriority when the call and route set none', () => {
    expect(router({ taskDefaultPriority: 4 }).route('t', [], {}).priority).toBe(4)
    expect(router({ taskDefaultPriority: 4 }).route('t', [], {}, { priority: 0 }).priority).toBe(0)
  })
})

describe('queues', () => {
  it('adds x-max-priority to every queue with taskQueueMaxPriority', () => {
    const r = router({ taskQueueMaxPriority: 10 })
    expect(r.queue('celery').maxPriority).toBe(10)
    expect(r.queue('celery').arguments).toEqual({ 'x-max-priority': 10 })
    expect(r.queue('made.on.the.fly').arguments).toEqual({ 'x-max-priority': 10 })
    const own = new Queue('own', { maxPriority: 3 })
    expect(router({ taskQueueMaxPriority: 10, taskQueues: [own] }).queue('own').maxPriority).toBe(3)
  })

  it('knows taskQueues, given as names or Queue objects', () => {
    const hi = new Queue('hi', { exchange: new Exchange('hi'), routingKey: 'hi' })
    const r = router({ taskQueues: [hi, 'low'] })
    expect([...r.queues.keys()]).toEqual(['hi', 'low'])
    expect(r.queue('low').exchange.name).toBe('low')
    expect(r.queue(hi)).toBe(hi)
  })

  it('creates missing queues, or refuses with taskCreateMissingQueues false', () => {
    expect(router().queue('new').name).toBe('new')
    const strict = router({ taskCreateMissingQueues: false, taskQueues: ['known'] })
    expect(strict.queue('known').name).toBe('known')
    expect(() => strict.queue('unknown')).toThrow(ConfigurationError)
    expect(() => strict.route('t', [], {}, { queue: 'unknown' })).toThrow(/not in taskQueues/)
  })
})

describe('on the memory broker', () => {
  const apps: Celery[] = []
  afterEach(async () => {
    for (const a of apps.splice(0)) await a.close()
  })

  it('declares exchange celery, queue celery and the binding, and publishes via exchange ""', async () => {
    const transport = createMemoryTransport()
    const app = new Celery('r', { broker: 'memory://routing-default', connection: { transport }, env: {} })
    apps.push(app)
    await app.sendTask('tasks.add', [1, 2])
    const broker = transport.broker('routing-default')
    expect(broker.exchanges.get('celery')).toMatchObject({ type: 'direct', durable: true, autoDelete: false })
    expect(broker.bindings.rows('celery')).toMatchObject([
      { queue: 'celery', exchange: 'celery', routingKey: 'celery' },
    ])
    expect(broker.queues.get('celery')?.spec).toMatchObject({
      name: 'celery',
      durable: true,
      autoDelete: false,
      arguments: {},
    })
    const conn = await new Connection('memory://routing-default', { transport }).connect()
    try {
      const d = await (await conn.channel()).get('celery', { noAck: true })
      expect(d?.deliveryInfo).toMatchObject({ exchange: '', routingKey: 'celery' })
    } finally {
      await conn.close()
    }
  })

  it('declares routed queues with x-max-priority, and publishes to them', async () => {
    const transport = createMemoryTransport()
    const app = new Celery('r', {
      broker: 'memory://routing-prio',
      connection: { transport },
      taskRoutes: { 'img.*': 'images' },
      taskQueueMaxPriority: 9,
      env: {},
    })
    apps.push(app)
    await app.sendTask('img.resize', [], {}, { priority: 5 })
    const broker = transport.broker('routing-prio')
    expect(broker.queues.get('images')?.spec?.arguments).toEqual({ 'x-max-priority': 9 })
    expect(broker.queues.get('images')?.size).toBe(1)
    expect(broker.bindings.rows('images')).toMatchObject([{ queue: 'images', routingKey: 'images' }])
  })
})
