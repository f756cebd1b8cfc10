/**
 * Time on the worker: ETAs (re-published with a delay where the transport can, held unacked
 * where it cannot), expiry, revocation and termination, and time limits.
 */
import {
  createMemoryTransport,
  type MemoryTransport,
  Message,
  Producer,
  Queue,
  type TransportDriver,
} from '@q/kombu'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Celery, type CeleryOptions } from '../app.js'
import { SoftTimeLimitExceeded, TaskRevokedError, TimeLimitExceeded } from '../errors.js'
import { buildTaskMessage } from '../protocol/task-message.js'
import type { SignalMap } from '../signals.js'
import type { TaskContext } from '../task-types.js'
import type { Worker, WorkerOptions } from './worker.js'

let seq = 0
const cleanups: Array<() => Promise<void>> = []
beforeEach(() => {
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
})
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
  vi.restoreAllMocks()
})

/** The memory transport without delayed delivery, over the same brokers. */
function withoutDelay(t: MemoryTransport): TransportDriver {
  return { ...t, capabilities: { ...t.capabilities, delayedDelivery: false } }
}

async function setup(options: CeleryOptions = {}, transport?: (m: MemoryTransport) => TransportDriver) {
  const name = `eta-${++seq}`
  const memory = createMemoryTransport()
  const make = (t: TransportDriver) => {
    const app = new Celery('e', {
      broker: `memory://${name}`,
      backend: `memory://${name}`,
      connection: { transport: t },
      env: {},
      ...options,
    })
    cleanups.push(() => app.close())
    return app
  }
  const app = make(transport ? transport(memory) : memory)
  const start = async (o: WorkerOptions = {}, on: Celery = app): Promise<Worker> => {
    const w = await (await on.worker({ logLevel: 'error', ...o })).start()
    cleanups.push(() => w.stop())
    return w
  }
  return { app, make, start, memory, broker: memory.broker(name) }
}

function gate() {
  let open!: () => void
  const promise = new Promise<void>((r) => {
    open = r
  })
  return { promise, open }
}

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

describe('ETA', () => {
  it('with delayed delivery: re-published with a delay and acked, not held; runs at its ETA', async () => {
    const { app, make, memory, start, broker } = await setup()
    // The client's transport cannot delay, so the message reaches the worker early.
    const client = make(withoutDelay(memory))
    let ranAt = 0
    app.task('t.later', () => {
      ranAt = Date.now()
      return 'on time'
    })
    const ack = vi.spyOn(Message.prototype, 'ack')
    const w = await start()
    const eta = new Date(Date.now() + 300)
    const r = await client.sendTask('t.later', [], {}, { eta })
    await until(() => ack.mock.calls.length === 1)
    expect(w.requests.has(r.id)).toBe(false)
    expect(broker.size('celery')).toBe(0) // waiting in the broker's delay, not in the worker
    expect(await r.get({ timeout: 2000 })).toBe('on time')
    expect(ranAt).toBeGreaterThanOrEqual(eta.getTime() - 5)
  })

  it('without delayed delivery: held unacked with the prefetch raised, run at its ETA', async () => {
    const { app, start } = await setup({}, withoutDelay)
    const order: string[] = []
    app.task('t.at', (what: string) => {
      order.push(what)
      return Date.now()
    })
    const w = await start({ concurrency: 1, prefetchMultiplier: 1 })
    const eta = new Date(Date.now() + 300)
    const later = await app.sendTask('t.at', ['eta'], {}, { eta })
    await until(() => w.requests.has(later.id))
    const etaMessage = w.requests.get(later.id)?.message
    expect(etaMessage?.state).toBe('RECEIVED')
    // With a window of 1 and one message held, only a raised prefetch lets this one through.
    const now = await app.sendTask('t.at', ['now'])
    expect(await now.get({ timeout: 2000 })).toBeLessThan(eta.getTime())
    expect(etaMessage?.state).toBe('RECEIVED')
    expect(await later.get({ timeout: 2000 })).toBeGreaterThanOrEqual(eta.getTime() - 5)
    expect(order).toEqual(['now', 'eta'])
    await until(() => etaMessage?.state === 'ACK')
  })

  it('without delayed delivery: gives held messages back on shutdown', async () => {
    const { app, start, broker } = await setup({}, withoutDelay)
    app.task('t.at', () => 1)
    const w = await start()
    const r = await app.sendTask('t.at', [], {}, { countdown: 60 })
    await until(() => w.requests.has(r.id))
    await w.stop()
    expect(broker.size('celery')).toBe(1)
  })
})

describe('expiry', () => {
  it('revokes a task that expired before it was received: REVOKED expired', async () => {
    const { app, start } = await setup()
    app.task('t.x', () => 'ran')
    await start()
    const revoked = next(app, 'taskRevoked')
    const msg = buildTaskMessage({
      id: 'exp-1',
      task: 't.x',
      args: [],
      kwargs: {},
      origin: 'o',
      replyTo: 'r',
      expires: new Date(Date.now() - 1000),
    })
    const conn = app.connection()
    await conn.connect()
    await new Producer(conn).publish(msg.body, {
      routingKey: 'celery',
      headers: msg.headers,
      declare: [new Queue('celery', { exchange: 'celery', routingKey: 'celery' })],
    })
    expect(await revoked).toEqual({ id: 'exp-1', name: 't.x', terminated: false, expired: true })
    const err = await app
      .asyncResult('exp-1')
      .get({ timeout: 2000 })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TaskRevokedError)
    expect((await app.asyncResult('exp-1').meta()).result).toEqual({
      exc_type: 'TaskRevokedError',
      exc_message: ['expired'],
      exc_module: 'celery.exceptions',
    })
  })

  it('revokes a task that expired while waiting for a slot', async () => {
    const { app, start } = await setup()
    const g = gate()
    app.task('t.block', () => g.promise)
    app.task('t.x', () => 'ran')
    const w = await start({ concurrency: 1 })
    await app.sendTask('t.block')
    // Long enough to be received before it expires, even on a loaded machine: the case is a
    // task that expires while it waits for a slot, not on receipt.
    const expiring = await app.sendTask('t.x', [], {}, { expires: 1 })
    await until(() => w.requests.has(expiring.id))
    await until(
      () => Date.now() > Date.parse(String(w.requests.get(expiring.id)?.received.expires?.toISOString())),
    )
    g.open()
    await expect(expiring.get({ timeout: 2000 })).rejects.toThrow('expired')
  })
})

describe('revoke', () => {
  it('discards a revoked id on receipt: REVOKED revoked, message acked', async () => {
    const { app, start, broker } = await setup()
    let ran = false
    app.task('t.x', () => {
      ran = true
    })
    const w = await start()
    w.revoke(['rev-1'])
    const revoked = next(app, 'taskRevoked')
    const r = await app.sendTask('t.x', [], {}, { taskId: 'rev-1' })
    expect(await revoked).toMatchObject({ id: 'rev-1', terminated: false, expired: false })
    await expect(r.get({ timeout: 2000 })).rejects.toThrow('revoked')
    expect(ran).toBe(false)
    expect(broker.size('celery')).toBe(0)
  })

  it('honours revocations remembered in the backend when it starts', async () => {
    const { app, start } = await setup()
    app.task('t.x', () => 'ran')
    await app.revoke('rev-2')
    const w = await start()
    expect(w.revoked.has('rev-2')).toBe(true)
    await expect(
      (await app.sendTask('t.x', [], {}, { taskId: 'rev-2' })).get({ timeout: 2000 }),
    ).rejects.toBeInstanceOf(TaskRevokedError)
  })

  it('discards a task revoked while it waits for a slot', async () => {
    const { app, start } = await setup()
    const g = gate()
    app.task('t.block', () => g.promise)
    app.task('t.x', () => 'ran')
    const w = await start({ concurrency: 1 })
    await app.sendTask('t.block')
    const r = await app.sendTask('t.x')
    await until(() => w.requests.has(r.id))
    w.revoke([r.id])
    g.open()
    await expect(r.get({ timeout: 2000 })).rejects.toThrow('revoked')
  })

  it('terminates a running task: REVOKED terminated, its signal aborted, its slot freed', async () => {
    const { app, start } = await setup()
    let signal: AbortSignal | undefined
    app.task(
      't.long',
      (c: TaskContext) => {
        signal = c.signal
        return new Promise(() => {})
      },
      { bind: true },
    )
    app.task('t.x', () => 'next')
    const w = await start({ concurrency: 1 })
    const long = await app.sendTask('t.long')
    await until(() => w.pool.running === 1 && signal !== undefined)
    const revoked = next(app, 'taskRevoked')
    w.revoke([long.id], true)
    expect(await revoked).toMatchObject({ id: long.id, terminated: true })
    expect(signal?.aborted).toBe(true)
    await expect(long.get({ timeout: 2000 })).rejects.toThrow('terminated')
    expect(await (await app.sendTask('t.x')).get({ timeout: 2000 })).toBe('next')
  })
})

describe('time limits on the worker', () => {
  it('fails a task at its hard limit with TimeLimitExceeded and frees its slot', async () => {
    const { app, start } = await setup()
    app.task('t.stuck', () => new Promise(() => {}))
    app.task('t.x', () => 'next')
    await start({ concurrency: 1 })
    const stuck = await app.sendTask('t.stuck', [], {}, { timeLimit: 0.05 })
    const err = await stuck.get({ timeout: 2000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TimeLimitExceeded)
    expect((await stuck.meta()).result).toEqual({
      exc_type: 'TimeLimitExceeded',
      exc_message: [0.05],
      exc_module: 'billiard.exceptions',
    })
    expect(await (await app.sendTask('t.x')).get({ timeout: 2000 })).toBe('next')
  })

  it('takes the limits from the task, the message header, then the app', async () => {
    const { app, start } = await setup({ taskSoftTimeLimit: 0.03 })
    app.task(
      't.soft',
      (c: TaskContext) =>
        new Promise((_, reject) => c.signal.addEventListener('abort', () => reject(c.signal.reason))),
      { bind: true },
    )
    await start()
    const err = await (await app.sendTask('t.soft')).get({ timeout: 2000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SoftTimeLimitExceeded)
    const { app: a2, start: s2 } = await setup()
    a2.task('t.hard', () => new Promise(() => {}), { timeLimit: 0.03 })
    await s2()
    await expect((await a2.sendTask('t.hard')).get({ timeout: 2000 })).rejects.toBeInstanceOf(
      TimeLimitExceeded,
    )
  })

  it('acks a timed-out task with acksLate (acksOnFailureOrTimeout), or rejects it when off', async () => {
    for (const [acksOnFailureOrTimeout, expected] of [
      [true, 'ACK'],
      [false, 'REJECTED'],
    ] as const) {
      const { app, start } = await setup({
        taskAcksLate: true,
        taskAcksOnFailureOrTimeout: acksOnFailureOrTimeout,
      })
      let message: Message | undefined
      let w: Worker | undefined
      app.task(
        't.stuck',
        (c: TaskContext) => {
          message = w?.requests.get(c.request.id)?.message
          return new Promise(() => {})
        },
        { bind: true, timeLimit: 0.03 },
      )
      w = await start()
      await (await app.sendTask('t.stuck')).get({ timeout: 2000, propagate: false })
      await until(() => message?.acknowledged === true)
      expect(message?.state).toBe(expected)
    }
  })
})
