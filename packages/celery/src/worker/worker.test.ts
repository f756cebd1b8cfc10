/**
 * The worker on the memory broker: slots and prefetch, when messages are acked, what is stored,
 * what happens to messages it cannot run, warm shutdown, and its signals.
 */
import { Connection, createMemoryTransport, Message, Producer, Queue, type TransportDriver } from '@q/kombu'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Celery, type CeleryOptions } from '../app.js'
import { ConfigurationError, Ignore, Reject, TaskError } from '../errors.js'
import { buildTaskMessage } from '../protocol/task-message.js'
import type { SignalMap } from '../signals.js'
import type { TaskContext } from '../task-types.js'
import { expandNodeName, type Worker, type WorkerOptions } from './worker.js'

let seq = 0
const cleanups: Array<() => Promise<void>> = []
let logs: string[] = []
beforeEach(() => {
  logs = []
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    logs.push(String(chunk))
    return true
  })
})
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
  vi.restoreAllMocks()
})

async function setup(options: CeleryOptions = {}, transport?: TransportDriver) {
  const name = `worker-${++seq}`
  const memory = createMemoryTransport()
  const app = new Celery('w', {
    broker: `memory://${name}`,
    backend: `memory://${name}`,
    connection: { transport: transport ?? memory },
    env: {},
    ...options,
  })
  cleanups.push(() => app.close())
  const start = async (o: WorkerOptions = {}): Promise<Worker> => {
    const w = await (await app.worker({ logLevel: 'info', ...o })).start()
    cleanups.push(() => w.stop())
    return w
  }
  /** Publishes a raw message to the celery queue, as any client could. */
  const raw = async (body: unknown, o: { headers?: Record<string, unknown>; contentType?: string } = {}) => {
    const conn = app.connection()
    await conn.connect()
    await new Producer(conn).publish(body, {
      exchange: '',
      routingKey: 'celery',
      headers: o.headers,
      ...(o.contentType ? { contentType: o.contentType } : {}),
      declare: [new Queue('celery', { exchange: 'celery', routingKey: 'celery' })],
    })
  }
  return { app, start, raw, broker: memory.broker(name), name, memory }
}

/** A promise and its resolver, to hold tasks until a test lets them go. */
function gate<T = void>() {
  let open!: (v: T) => void
  const promise = new Promise<T>((r) => {
    open = r
  })
  return { promise, open }
}

/** The next payload of `signal` that matches. */
function next<K extends keyof SignalMap>(
  app: Celery,
  signal: K,
  match: (p: SignalMap[K]) => boolean = () => true,
) {
  return new Promise<SignalMap[K]>((resolve) => {
    const off = app.signals.on(signal, (p) => {
      if (match(p)) {
        off()
        resolve(p)
      }
    })
  })
}

async function until(cond: () => boolean | Promise<boolean>, timeout = 2000): Promise<void> {
  const end = Date.now() + timeout
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeout} ms`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('options', () => {
  it('takes concurrency and prefetch from the app, or its own options', async () => {
    const { app } = await setup({ workerConcurrency: 3, workerPrefetchMultiplier: 2 })
    const w = await app.worker()
    expect(w.concurrency).toBe(3)
    expect(w.prefetchCount).toBe(6)
    const o = await app.worker({ concurrency: 5, prefetchMultiplier: 1, hostname: 'me@box' })
    expect(o.prefetchCount).toBe(5)
    expect(o.hostname).toBe('me@box')
    expect(w.queues.map((q) => q.name)).toEqual(['celery'])
    await expect(app.worker({ concurrency: 0 })).rejects.toThrow(ConfigurationError)
  })

  it('expands %h, %n and %d in node names as celery -n', () => {
    expect(expandNodeName('celery@%h', 'web1.example.com')).toBe('celery@web1.example.com')
    expect(expandNodeName('w1@%n', 'web1.example.com')).toBe('w1@web1')
    expect(expandNodeName('w-%d', 'web1.example.com')).toBe('w-example.com@web1.example.com')
  })
})

describe('running tasks', () => {
  it('runs at most `concurrency` tasks at once; the rest wait in the pool', async () => {
    const { app, start } = await setup()
    const g = gate()
    let running = 0
    let peak = 0
    app.task('t.block', async () => {
      running++
      peak = Math.max(peak, running)
      await g.promise
      running--
    })
    const w = await start({ concurrency: 2 })
    const results = await Promise.all(Array.from({ length: 5 }, () => app.sendTask('t.block')))
    await until(() => w.pool.running === 2 && w.pool.queued === 3)
    expect(running).toBe(2)
    g.open()
    await Promise.all(results.map((r) => r.get({ timeout: 2000 })))
    expect(peak).toBe(2)
    await until(() => w.totals.get('t.block') === 5)
  })

  it.each([
    // Early acks free the window as tasks start: Celery holds prefetch + running messages.
    ['early acks', false, 6],
    ['acksLate', true, 4],
  ])(
    'takes concurrency x multiplier unacked messages from the broker (%s)',
    async (_what, taskAcksLate, held) => {
      const { app, start, broker } = await setup({ taskAcksLate })
      const g = gate()
      app.task('t.block', () => g.promise)
      for (let i = 0; i < 10; i++) await app.sendTask('t.block')
      const w = await start({ concurrency: 2, prefetchMultiplier: 2 })
      expect(w.prefetchCount).toBe(4)
      await until(() => w.requests.size === held && w.pool.running === 2)
      await new Promise((r) => setTimeout(r, 20))
      expect(w.requests.size).toBe(held)
      expect(broker.size('celery')).toBe(10 - held)
      g.open()
      await until(() => broker.size('celery') === 0 && w.requests.size === 0)
    },
  )

  it('acks early by default: before the task runs', async () => {
    const { app, start } = await setup()
    let state: string | undefined
    let message: Message | undefined
    let w: Worker | undefined
    app.task(
      't.ack',
      (c: TaskContext) => {
        message = w?.requests.get(c.request.id)?.message
        state = message?.state
      },
      { bind: true },
    )
    w = await start()
    await (await app.sendTask('t.ack')).get({ timeout: 2000 })
    expect(state).toBe('ACK')
  })

  it('acks late with acksLate: after the task returned, and after a failure', async () => {
    const { app, start } = await setup({ taskAcksLate: true })
    const seen: Array<[string, Message | undefined]> = []
    let w: Worker | undefined
    const look = (c: TaskContext) => {
      const m = w?.requests.get(c.request.id)?.message
      seen.push([m?.state ?? 'none', m])
    }
    app.task('t.late', (c: TaskContext) => look(c), { bind: true })
    app.task(
      't.lateFail',
      (c: TaskContext) => {
        look(c)
        throw new Error('x')
      },
      { bind: true },
    )
    w = await start()
    await (await app.sendTask('t.late')).get({ timeout: 2000 })
    await (await app.sendTask('t.lateFail')).get({ timeout: 2000, propagate: false })
    await until(() => seen.every(([, m]) => m?.acknowledged))
    expect(seen.map(([s]) => s)).toEqual(['RECEIVED', 'RECEIVED'])
    expect(seen.map(([, m]) => m?.state)).toEqual(['ACK', 'ACK'])
  })

  it('rejects failed tasks with acksLate and acksOnFailureOrTimeout false', async () => {
    const { app, start, broker } = await setup({ taskAcksLate: true, taskAcksOnFailureOrTimeout: false })
    let message: Message | undefined
    let w: Worker | undefined
    app.task(
      't.fail',
      (c: TaskContext) => {
        message = w?.requests.get(c.request.id)?.message
        throw new Error('x')
      },
      { bind: true },
    )
    w = await start()
    await (await app.sendTask('t.fail')).get({ timeout: 2000, propagate: false })
    await until(() => message?.acknowledged === true)
    expect(message?.state).toBe('REJECTED')
    expect(broker.size('celery')).toBe(0) // not requeued
  })

  it('stores STARTED with trackStarted, as Celery: {pid, hostname}', async () => {
    const { app, start } = await setup({ taskTrackStarted: true })
    const g = gate()
    app.task('t.tracked', () => g.promise)
    const w = await start({ hostname: 'node1@test' })
    const r = await app.sendTask('t.tracked')
    await until(async () => (await r.state()) === 'STARTED')
    expect((await r.meta()).result).toEqual({ pid: process.pid, hostname: 'node1@test' })
    expect((await r.meta()).date_done).toBeNull()
    g.open()
    await r.get({ timeout: 2000 })
    expect(w.hostname).toBe('node1@test')
  })

  it('stores nothing for a task with ignoreResult (task option or call option)', async () => {
    const { app, start } = await setup()
    app.task('t.quiet', () => 1, { ignoreResult: true })
    app.task('t.loud', () => 2)
    await start()
    const done = next(app, 'taskPostrun', (p) => p.request.task === 't.quiet')
    const r = await app.sendTask('t.quiet')
    await done
    expect(await r.state()).toBe('PENDING')
    const done2 = next(app, 'taskPostrun')
    const r2 = await app.sendTask('t.loud', [], {}, { ignoreResult: true })
    await done2
    expect(await r2.state()).toBe('PENDING')
  })

  it('stores failures of ignored tasks with storeErrorsEvenIfIgnored', async () => {
    const { app, start } = await setup()
    app.task(
      't.quietFail',
      () => {
        throw new TypeError('x')
      },
      { ignoreResult: true, storeErrorsEvenIfIgnored: true },
    )
    await start()
    const r = await app.sendTask('t.quietFail')
    await expect(r.get({ timeout: 2000 })).rejects.toMatchObject({ name: 'TypeError' })
  })

  it('stores SUCCESS with extended fields when resultExtended is on', async () => {
    const { app, start } = await setup({ resultExtended: true })
    app.task('t.ext', (x: number) => x)
    const w = await start()
    const r = await app.sendTask('t.ext', [4], {})
    await r.get({ timeout: 2000 })
    expect(await r.meta()).toMatchObject({
      name: 't.ext',
      args: [4],
      kwargs: {},
      worker: w.hostname,
      retries: 0,
      queue: 'celery',
    })
  })

  it('stores FAILURE as Celery’s exception dict, builtins for TypeError', async () => {
    const { app, start } = await setup()
    app.task('t.type', () => {
      throw new TypeError('wrong type')
    })
    await start()
    const r = await app.sendTask('t.type')
    const err = await r.get({ timeout: 2000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TaskError)
    const meta = await r.meta()
    expect(meta.result).toEqual({
      exc_type: 'TypeError',
      exc_message: ['wrong type'],
      exc_module: 'builtins',
    })
    expect(meta.traceback).toContain('TypeError: wrong type')
  })

  it('acks a Reject()ed task early, and requeues it with acksLate and requeue', async () => {
    const { app, start } = await setup({ taskAcksLate: true })
    let runs = 0
    app.task('t.reject', () => {
      runs++
      if (runs === 1) throw new Reject('not now', { requeue: true })
      return runs
    })
    await start()
    const rejected = next(app, 'taskRejected')
    const r = await app.sendTask('t.reject')
    expect((await rejected).id).toBe(r.id)
    expect(await r.get({ timeout: 2000 })).toBe(2)
  })

  it('drops a Reject()ed task without requeue, and stores nothing for Ignore', async () => {
    const { app, start, broker } = await setup({ taskAcksLate: true })
    app.task('t.drop', () => {
      throw new Reject('bad')
    })
    app.task('t.ignore', () => {
      throw new Ignore('skip')
    })
    await start()
    const post = next(app, 'taskPostrun', (p) => p.request.task === 't.ignore')
    const drop = await app.sendTask('t.drop')
    const ign = await app.sendTask('t.ignore')
    await post
    await until(() => broker.size('celery') === 0)
    expect(await drop.state()).toBe('PENDING')
    expect(await ign.state()).toBe('PENDING')
  })
})

describe('messages the worker cannot run', () => {
  it('rejects an unknown task without requeue, logs it, and goes on', async () => {
    const { app, start, broker } = await setup()
    app.task('t.known', () => 'ok')
    const reject = vi.spyOn(Message.prototype, 'reject')
    await start()
    const unknown = next(app, 'taskUnknown')
    const u = await app.sendTask('t.nobody')
    expect(await unknown).toEqual({ name: 't.nobody', id: u.id })
    expect(await (await app.sendTask('t.known')).get({ timeout: 2000 })).toBe('ok')
    expect(reject).toHaveBeenCalledTimes(1)
    expect(broker.size('celery')).toBe(0)
    expect(logs.join('')).toContain(`Received unregistered task of type 't.nobody'`)
    // As Celery 5.2: the caller gets FAILURE NotRegistered instead of waiting for ever.
    const err = await u.get({ timeout: 2000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TaskError)
    expect(err).toMatchObject({
      name: 'NotRegistered',
      excModule: 'celery.exceptions',
      excArgs: ['t.nobody'],
    })
  })

  it.each([
    ['a malformed body', { headers: { task: 't.known', id: 'bad-1' } }, { not: 'a task body' }],
    ['a message that is no task at all', { headers: {} }, [1, 2, 3]],
    [
      'an undecodable body',
      { headers: { task: 't.known', id: 'bad-2' }, contentType: 'application/json' },
      'not json {',
    ],
    [
      'a content type not in acceptContent',
      { headers: { task: 't.known', id: 'bad-3' }, contentType: 'application/x-yaml' },
      'a: 1',
    ],
  ])('rejects %s and goes on', async (_what, o, body) => {
    const { app, start, raw, broker } = await setup()
    app.task('t.known', () => 'ok')
    const reject = vi.spyOn(Message.prototype, 'reject')
    await start()
    const rejected = next(app, 'taskRejected')
    await raw(body, o)
    expect((await rejected).reason).toBeInstanceOf(Error)
    expect(await (await app.sendTask('t.known')).get({ timeout: 2000 })).toBe('ok')
    expect(reject).toHaveBeenCalledTimes(1)
    expect(broker.size('celery')).toBe(0)
  })

  it('rejects msgpack when only json is accepted, and runs it when accepted', async () => {
    const { app, start } = await setup()
    app.task('t.mp', (x: number) => x + 1)
    await start()
    const rejected = next(app, 'taskRejected')
    await app.sendTask('t.mp', [1], {}, { serializer: 'msgpack' })
    await rejected
    const ok = await setup({ acceptContent: ['json', 'msgpack'] })
    ok.app.task('t.mp', (x: number) => x + 1)
    await ok.start()
    expect(
      await (await ok.app.sendTask('t.mp', [1], {}, { serializer: 'msgpack' })).get({ timeout: 2000 }),
    ).toBe(2)
  })
})

describe('shutdown', () => {
  it('waits for running tasks, then gives prefetched ones back for another worker', async () => {
    const { app, start, broker } = await setup()
    const g = gate()
    const ran: string[] = []
    app.task(
      't.slow',
      async (c: TaskContext) => {
        ran.push(c.request.hostname)
        await g.promise
        return c.request.hostname
      },
      { bind: true },
    )
    const first = await start({ concurrency: 1, hostname: 'one@test' })
    const ids = await Promise.all([1, 2, 3].map(() => app.sendTask('t.slow')))
    await until(() => first.requests.size === 3 && ran.length === 1)
    let stopped = false
    const stopping = first.stop().then(() => {
      stopped = true
    })
    await new Promise((r) => setTimeout(r, 20))
    expect(stopped).toBe(false) // still running its task
    g.open()
    await stopping
    expect(await ids[0]!.get({ timeout: 2000 })).toBe('one@test')
    expect(broker.size('celery')).toBe(2)
    await start({ concurrency: 2, hostname: 'two@test' })
    expect(await ids[1]!.get({ timeout: 2000 })).toBe('two@test')
    expect(await ids[2]!.get({ timeout: 2000 })).toBe('two@test')
  })

  it('gives up waiting after shutdownTimeout', async () => {
    const { app, start } = await setup()
    app.task('t.forever', () => new Promise(() => {}))
    const w = await start({ shutdownTimeout: 0.05 })
    await app.sendTask('t.forever')
    await until(() => w.pool.running === 1)
    const t0 = Date.now()
    await w.stop()
    expect(Date.now() - t0).toBeLessThan(1000)
  })

  it('is idempotent and sends workerReady then workerShutdown', async () => {
    const { app, start } = await setup()
    const seen: string[] = []
    app.signals.on('workerReady', (p) => seen.push(`ready:${p.hostname}`))
    app.signals.on('workerShutdown', (p) => seen.push(`shutdown:${p.hostname}`))
    const w = await start({ hostname: 'sig@test' })
    const a = w.stop()
    expect(w.stop()).toBe(a)
    await a
    expect(seen).toEqual(['ready:sig@test', 'shutdown:sig@test'])
    expect(logs.join('')).toContain('sig@test ready.')
  })

  it('requeues everything unacked on a cold shutdown', async () => {
    const { app, start, broker } = await setup({ taskAcksLate: true })
    app.task('t.never', () => new Promise(() => {}))
    const w = await start({ concurrency: 1, shutdownTimeout: 0.01 })
    await app.sendTask('t.never')
    await app.sendTask('t.never')
    await until(() => w.requests.size === 2)
    await w.terminate()
    expect(broker.size('celery')).toBe(2)
  })
})

describe('signals', () => {
  function record(app: Celery) {
    const seen: string[] = []
    const names = [
      'taskPrerun',
      'taskSuccess',
      'taskFailure',
      'taskRetry',
      'taskPostrun',
      'taskRevoked',
      'taskUnknown',
      'taskRejected',
      'beforeTaskPublish',
      'afterTaskPublish',
    ] as const
    for (const n of names) app.signals.on(n, () => seen.push(n))
    return seen
  }

  it('fires prerun, success, postrun for a success, with the request, result and runtime', async () => {
    const { app, start } = await setup()
    app.task('t.ok', (x: number) => x * 2)
    await start()
    const success = next(app, 'taskSuccess')
    const postrun = next(app, 'taskPostrun')
    // Recording starts before the send: the worker may run the task before sendTask resolves.
    const seen = record(app)
    const r = await app.sendTask('t.ok', [21])
    const s = await success
    expect(s.result).toBe(42)
    expect(s.request).toMatchObject({ id: r.id, task: 't.ok', args: [21] })
    expect(s.runtime).toBeGreaterThanOrEqual(0)
    expect(await postrun).toMatchObject({ state: 'SUCCESS', result: 42 })
    expect(seen.filter((n) => n.startsWith('task'))).toEqual(['taskPrerun', 'taskSuccess', 'taskPostrun'])
  })

  it('fires prerun, failure, postrun for a failure; prerun, retry, publish, postrun for a retry', async () => {
    const { app, start } = await setup()
    app.task('t.bad', () => {
      throw new Error('bad')
    })
    let n = 0
    app.task(
      't.again',
      (c: TaskContext) => {
        if (n++ === 0) c.retry({ countdown: 0 })
        return 'done'
      },
      { bind: true },
    )
    await start({ concurrency: 1 }) // the retry runs after the first run is over
    const seen = record(app)
    await (await app.sendTask('t.bad')).get({ timeout: 2000, propagate: false })
    await until(() => seen.includes('taskPostrun'))
    // On memory the worker may start the task before the publisher's own await returns.
    expect(seen.filter((s) => s.startsWith('task'))).toEqual(['taskPrerun', 'taskFailure', 'taskPostrun'])
    expect(seen.indexOf('beforeTaskPublish')).toBe(0)
    expect(seen).toContain('afterTaskPublish')
    seen.length = 0
    await (await app.sendTask('t.again')).get({ timeout: 2000 })
    await until(() => seen.filter((s) => s === 'taskPostrun').length === 2)
    // The retried run may overtake the first one's bookkeeping: check counts and causal order.
    const count = (n: string) => seen.filter((s) => s === n).length
    expect([
      count('beforeTaskPublish'),
      count('taskPrerun'),
      count('taskRetry'),
      count('taskSuccess'),
    ]).toEqual([2, 2, 1, 1])
    // The retry is published by the first run, before that run reports taskRetry.
    const secondPublish = seen.indexOf('beforeTaskPublish', 1)
    expect(secondPublish).toBeGreaterThan(seen.indexOf('taskPrerun'))
    expect(seen.indexOf('taskRetry')).toBeGreaterThan(secondPublish)
    expect(seen.lastIndexOf('taskPrerun')).toBeGreaterThan(secondPublish)
  })
})

describe('a raw task message from any client', () => {
  it('is run when built by buildTaskMessage and published with a Producer', async () => {
    const { app, start, name, memory } = await setup()
    app.task('t.raw', (a: string, b: string) => a + b)
    await start()
    const msg = buildTaskMessage({
      id: 'raw-1',
      task: 't.raw',
      args: ['a', 'b'],
      kwargs: {},
      origin: 'x',
      replyTo: 'r',
    })
    const conn = await new Connection(`memory://${name}`, { transport: memory }).connect()
    cleanups.push(() => conn.close())
    await new Producer(conn).publish(msg.body, {
      routingKey: 'celery',
      headers: msg.headers,
      correlationId: 'raw-1',
    })
    expect(await app.asyncResult('raw-1').get({ timeout: 2000 })).toBe('ab')
  })
})
