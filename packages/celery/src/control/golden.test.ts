/**
 * Remote control against what Celery 5.2.6 put on the wire (golden/pidbox_control.amqp.json):
 * our client sends the same methods and arguments as Python's `app.control`, and our worker,
 * named `capture@golden` as the captured one, answers with the same values and shapes.
 */
import {
  Connection,
  createMemoryTransport,
  type Delivery,
  Exchange,
  type MemoryTransport,
  Queue,
  type TransportDriver,
} from '@q/kombu'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Celery } from '../app.js'
import type { TaskContext } from '../task-types.js'
import type { Worker } from '../worker/worker.js'
import { CONTROL_GOLDEN as G } from './golden.fixture.js'
import { WorkerControl } from './worker-control.js'

const NODE = 'capture@golden'
let seq = 0
const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

function makeApp(transport: TransportDriver = createMemoryTransport()) {
  const name = `golden-${++seq}`
  const app = new Celery('proj', {
    broker: `memory://${name}`,
    backend: `memory://${name}`,
    connection: { transport },
    env: {},
    logger: { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() },
  })
  cleanups.push(() => app.close())
  app.task('proj.add', (x: number, y: number) => x + y)
  app.task(
    'proj.sleep',
    (ctx: TaskContext, s: number) =>
      new Promise((resolve, reject) => {
        const t = setTimeout(resolve, s * 1000)
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(t)
          reject(ctx.signal.reason)
        })
      }),
    { bind: true },
  )
  return { app, name }
}

async function startWorker(app: Celery): Promise<Worker> {
  const w = await (await app.worker({ hostname: NODE, concurrency: 2, logLevel: 'error' })).start()
  cleanups.push(() => w.stop())
  return w
}

/** Captures the requests crossing `celery.pidbox`, as Python's capture did. */
async function tapRequests(app: Celery, transport: MemoryTransport, name: string) {
  const conn = new Connection(`memory://${name}`, { transport, logger: app.logger })
  cleanups.push(() => conn.close())
  const ch = await conn.channel()
  await ch.declareExchange(new Exchange('celery.pidbox', { type: 'fanout', durable: false }))
  await ch.declareQueue(new Queue('golden.pidbox.tap', { durable: false }))
  await ch.bindQueue('golden.pidbox.tap', 'celery.pidbox', '')
  return async () => {
    const d: Delivery | null = await ch.get('golden.pidbox.tap', { noAck: true })
    if (!d) throw new Error('no request captured')
    const body = JSON.parse(d.body.toString()) as Record<string, unknown>
    return {
      method: body.method,
      arguments: body.arguments,
      destination: body.destination,
      pattern: body.pattern,
      matcher: body.matcher,
    }
  }
}

const request = (g: {
  method: string
  arguments: unknown
  destination: unknown
  pattern: unknown
  matcher: unknown
}) => ({
  method: g.method,
  arguments: g.arguments,
  destination: g.destination,
  pattern: g.pattern,
  matcher: g.matcher,
})

describe('golden: the client sends what Python sends', () => {
  it('for every app.control and inspect() command', async () => {
    const transport = createMemoryTransport()
    const { app, name } = makeApp(transport)
    const next = await tapRequests(app, transport, name)
    const c = app.control
    const to = { destination: [NODE], timeout: 1 }
    const i = c.inspect(to)
    const cases: Array<[keyof typeof G, () => Promise<unknown>]> = [
      ['ping', () => c.ping(to)],
      ['inspectPing', () => i.ping()],
      ['broadcastPingNoDestination', () => c.ping({ timeout: 1 })],
      ['inspectActive', () => i.active()],
      ['inspectActiveSafe', () => i.active({ safe: true })],
      ['inspectReserved', () => i.reserved()],
      ['inspectScheduled', () => i.scheduled()],
      ['inspectRegistered', () => i.registered()],
      ['inspectRegisteredWithItems', () => i.registered('rate_limit', 'max_retries')],
      ['inspectStats', () => i.stats()],
      ['inspectActiveQueues', () => i.activeQueues()],
      ['inspectQueryTask', () => i.queryTask(...G.inspectQueryTask.arguments.ids)],
      ['inspectClock', () => i.clock()],
      ['inspectHello', () => i.hello('other@node')],
      ['revoke', () => c.revoke(G.revoke.arguments.task_id, { ...to, reply: true })],
      [
        'revokeTerminate',
        () =>
          c.revoke(G.revokeTerminate.arguments.task_id, {
            ...to,
            terminate: true,
            signal: 'SIGKILL',
            reply: true,
          }),
      ],
      ['inspectRevoked', () => i.revoked()],
      ['rateLimit', () => c.rateLimit('proj.add', '10/m', { ...to, reply: true })],
      ['timeLimit', () => c.timeLimit('proj.add', { soft: 10, hard: 20 }, { ...to, reply: true })],
      ['addConsumer', () => c.addConsumer('golden.extra', { ...to, reply: true })],
      ['cancelConsumer', () => c.cancelConsumer('golden.extra', { ...to, reply: true })],
      ['disableEvents', () => c.disableEvents({ ...to, reply: true })],
      ['enableEvents', () => c.enableEvents({ ...to, reply: true })],
      ['heartbeat', () => c.heartbeat({ ...to, reply: true })],
      ['unknownCommand', () => c.broadcast('no_such_command', { ...to, reply: true })],
      ['pingPatternMatcher', () => c.ping({ pattern: 'capture@*', matcher: 'glob', timeout: 1 })],
      ['shutdown', () => c.shutdown(to)],
    ]
    for (const [key, call] of cases) {
      await call()
      expect({ key, ...(await next()) }).toEqual({ key, ...request(G[key]) })
    }
  })

  it("for mingle's hello", async () => {
    const transport = createMemoryTransport()
    const { app, name } = makeApp(transport)
    const next = await tapRequests(app, transport, name)
    const conn = app.createConnection()
    cleanups.push(() => conn.close())
    const worker = await app.worker({ hostname: NODE })
    const wc = new WorkerControl(worker, conn, { mingle: true, mingleTimeout: 10 })
    expect(await wc.mingle()).toEqual([])
    expect(await next()).toEqual(request(G.mingleHello))
  })
})

describe('golden: the worker answers what the Python worker answered', () => {
  it('with the same values', async () => {
    const { app } = makeApp()
    await startWorker(app)
    const c = app.control
    const to = { destination: [NODE], reply: true, timeout: 2000 }
    const reply = async (p: Promise<Array<Record<string, unknown>>>) => {
      const r = await p
      expect(r).toHaveLength(1)
      return r[0]![NODE]
    }
    expect(await reply(c.ping(to))).toEqual(G.ping.reply)
    expect(await reply(c.ping({ pattern: 'capture@*', matcher: 'glob', timeout: 200 }))).toEqual(
      G.pingPatternMatcher.reply,
    )
    expect(await reply(c.revoke(G.revoke.arguments.task_id, to))).toEqual(G.revoke.reply)
    // The captured terminate hit a running proj.sleep with that id: run one here too.
    const running = G.revokeTerminate.arguments.task_id
    await app.sendTask('proj.sleep', [8], {}, { taskId: running })
    await vi.waitFor(async () =>
      expect(Object.keys((await c.inspect(to).queryTask(running))[NODE] ?? {})).toEqual([running]),
    )
    expect(await reply(c.terminate(running, { ...to, signal: 'SIGKILL' }))).toEqual(G.revokeTerminate.reply)
    expect(await reply(c.rateLimit('proj.add', '10/m', to))).toEqual(G.rateLimit.reply)
    expect(await reply(c.timeLimit('proj.add', { soft: 10, hard: 20 }, to))).toEqual(G.timeLimit.reply)
    expect(await reply(c.addConsumer('golden.extra', to))).toEqual(G.addConsumer.reply)
    expect(await reply(c.cancelConsumer('golden.extra', to))).toEqual(G.cancelConsumer.reply)
    expect(await reply(c.disableEvents(to))).toEqual(G.disableEvents.reply)
    expect(await reply(c.heartbeat(to))).toEqual(G.heartbeat.reply)
    expect(await reply(c.broadcast('no_such_command', to))).toEqual(G.unknownCommand.reply)
    expect(
      await reply(c.broadcast('autoscale', { ...to, arguments: G.autoscaleNotEnabled.arguments })),
    ).toEqual(G.autoscaleNotEnabled.reply)
    const i = c.inspect({ destination: [NODE] })
    expect((await i.activeQueues())[NODE]).toEqual(G.inspectActiveQueues.reply)
    expect((await i.registered('rate_limit', 'max_retries'))[NODE]).toEqual([
      'proj.add [max_retries=3]',
      'proj.sleep [max_retries=3]',
    ])
    expect(G.inspectRegisteredWithItems.reply[0]).toBe('proj.add [max_retries=3]')
    expect(await c.shutdown({ destination: [NODE] })).toEqual([])
  })

  it('with the same shapes', async () => {
    // Without delayed delivery the worker holds ETA tasks as Celery does, so `scheduled` has one.
    const memory = createMemoryTransport()
    const transport: TransportDriver = {
      ...memory,
      capabilities: { ...memory.capabilities, delayedDelivery: false },
    }
    const { app } = makeApp(transport)
    await startWorker(app)
    const keys = (o: unknown) => Object.keys(o as object).sort()
    const i = app.control.inspect({ destination: [NODE] })
    const active = await app.sendTask('proj.sleep', [8])
    await app.sendTask('proj.add', [1, 2], {}, { countdown: 60 })
    await vi.waitFor(async () => expect((await i.active())[NODE]).toHaveLength(1))
    await vi.waitFor(async () => expect((await i.scheduled())[NODE]).toHaveLength(1))

    const [info] = (await i.active())[NODE]!
    const [golden] = G.inspectActive.reply
    expect(keys(info)).toEqual(keys(golden))
    expect(keys(info!.delivery_info)).toEqual(keys(golden.delivery_info))
    const [safe] = (await i.active({ safe: true }))[NODE]!
    expect(typeof safe!.args).toBe(typeof G.inspectActiveSafe.reply[0].args)

    const [sched] = (await i.scheduled())[NODE]!
    expect(keys(sched)).toEqual(keys(G.inspectScheduled.reply[0]))
    expect(keys(sched!.request)).toEqual(keys(G.inspectScheduled.reply[0].request))
    expect(sched!.priority).toBe(G.inspectScheduled.reply[0].priority)
    expect(sched!.eta).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/)
    expect(sched!.request).toMatchObject({ time_start: null, acknowledged: false, worker_pid: null })

    const q = (await i.queryTask(active.id))[NODE]!
    expect(q[active.id]![0]).toBe('active')
    expect(keys(q[active.id]![1])).toEqual(keys(golden))

    const stats = (await i.stats())[NODE]!
    expect(keys(stats)).toEqual(keys(G.inspectStats.reply))
    expect(typeof stats.clock).toBe('string')
    expect(keys(stats.broker)).toEqual(keys(G.inspectStats.reply.broker))
    expect(keys(stats.rusage)).toEqual(keys(G.inspectStats.reply.rusage))
    for (const k of [
      'max-concurrency',
      'processes',
      'max-tasks-per-child',
      'put-guarded-by-semaphore',
      'timeouts',
    ])
      expect(stats.pool).toHaveProperty(k)

    expect(keys((await i.clock())[NODE])).toEqual(keys(G.inspectClock.reply))
    expect((await i.hello('other@node'))[NODE]).toEqual({ revoked: {}, clock: expect.any(Number) })
    expect(keys(G.inspectHello.reply)).toEqual(['clock', 'revoked'])
    await app.control.revoke(active.id, { terminate: true })
  })
})
