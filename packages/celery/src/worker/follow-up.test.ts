/**
 * What a worker sends after a task, as Celery 5.2 does: the retry message (same id, retries + 1,
 * eta, parent = itself, the rest carried over), link callbacks with the result prepended, the
 * next chain step with the rest of the chain, and errbacks with the failed task's id.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createMemoryTransport, Exchange, Queue } from '@q/kombu'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Celery, type CeleryOptions } from '../app.js'
import type { TaskMeta } from '../backends/types.js'
import { TaskError } from '../errors.js'
import { parseIso } from '../protocol/time.js'
import type { SignalMap } from '../signals.js'
import { signature } from '../task.js'
import type { TaskContext, TaskRequest } from '../task-types.js'
import { signatureOptions } from './follow-up.js'
import type { Worker, WorkerOptions } from './worker.js'

const GOLDEN = join(fileURLToPath(new URL('.', import.meta.url)), '../../test/golden')
const goldenResults = JSON.parse(
  readFileSync(join(GOLDEN, 'results_redis_backend.redisbroker.json'), 'utf8'),
) as {
  results: Record<string, { decoded: TaskMeta }>
  retry_messages: Array<{ envelope: { headers: Record<string, unknown> } }>
}

let seq = 0
const cleanups: Array<() => Promise<void>> = []
beforeEach(() => {
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
})
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
  vi.restoreAllMocks()
})

type Published = SignalMap['beforeTaskPublish']

async function setup(options: CeleryOptions = {}) {
  const name = `follow-${++seq}`
  const app = new Celery('f', {
    broker: `memory://${name}`,
    backend: `memory://${name}`,
    connection: { transport: createMemoryTransport() },
    env: {},
    ...options,
  })
  cleanups.push(() => app.close())
  const published: Published[] = []
  app.signals.on('beforeTaskPublish', (p) => published.push(p))
  const ran: TaskRequest[] = []
  app.signals.on('taskPrerun', (p) => ran.push(p.request))
  app.task('proj.add', (x: number, y: number) => x + y)
  app.task('proj.mul', (x: number, y: number) => x * y)
  app.task('proj.echo', (...args: unknown[]) => args)
  app.task('proj.fail', () => {
    throw new TypeError('failed on purpose')
  })
  const start = async (o: WorkerOptions = {}): Promise<Worker> => {
    const w = await (await app.worker({ logLevel: 'error', ...o })).start()
    cleanups.push(() => w.stop())
    return w
  }
  return { app, start, published, ran }
}

async function until(cond: () => boolean | Promise<boolean>, timeout = 2000): Promise<void> {
  const end = Date.now() + timeout
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeout} ms`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('retry', () => {
  it('sends a new message: same id, retries + 1, eta, parent = itself, root kept, the rest carried over', async () => {
    const { app, start, published, ran } = await setup()
    app.task(
      't.retry',
      (c: TaskContext, x: number) => {
        if (c.request.retries === 0)
          c.retry({ countdown: 0.02, exc: Object.assign(new Error('try again'), { name: 'KeyError' }) })
        return x
      },
      { bind: true },
    )
    await start()
    const link = signature('proj.echo', ['linked'])
    const linkError = signature('proj.echo', ['errback'])
    const before = Date.now()
    const updates: TaskMeta[] = []
    const r = await app.sendTask(
      't.retry',
      [7],
      {},
      {
        rootId: 'root-1',
        parentId: 'parent-0',
        headers: { 'x-custom': 'hello' },
        timeLimit: 30,
        softTimeLimit: 20,
        shadow: 'retry-shadow',
        expires: 60,
        link,
        linkError,
      },
    )
    expect(await r.get({ timeout: 2000, onUpdate: (m) => updates.push(m) })).toBe(7)
    const [first, retry] = published.filter((p) => p.name === 't.retry')
    expect(retry).toBeDefined()
    const h = retry!.headers
    expect(Object.keys(h)).toEqual([
      ...Object.keys(goldenResults.retry_messages[0]!.envelope.headers),
      'x-custom',
    ])
    expect(h).toMatchObject({
      id: r.id,
      retries: 1,
      parent_id: r.id,
      root_id: 'root-1',
      expires: first!.headers.expires,
      timelimit: [30, 20],
      shadow: 'retry-shadow',
      argsrepr: '(7,)',
      'x-custom': 'hello',
    })
    const eta = parseIso(h.eta)!.getTime()
    expect(eta).toBeGreaterThanOrEqual(before + 20)
    expect(retry!.body).toEqual([
      [7],
      {},
      { callbacks: [link], errbacks: [linkError], chain: null, chord: null },
    ])
    expect(retry).toMatchObject({ exchange: '', routingKey: 'celery' })
    // The second run: same id, retries 1, replies still go to the caller.
    expect(ran.map((q) => [q.id, q.retries])).toEqual([
      [r.id, 0],
      [r.id, 1],
    ])
    expect(ran[1]?.replyTo).toBe(app.oid)
    // RETRY was stored in between, as Celery stores it.
    const stored = updates.find((m) => m.status === 'RETRY')
    expect(stored?.result).toEqual({
      exc_type: 'KeyError',
      exc_message: ['try again'],
      exc_module: 'builtins',
    })
    expect(stored?.traceback).toContain('try again')
    // Celery's RETRY meta (retry_state sample), plus parent_id since this call had a parent.
    const pyKeys = Object.keys(goldenResults.results.retry_state!.decoded)
    expect(Object.keys(stored!)).toEqual([...pyKeys.slice(0, -1), 'parent_id', 'task_id'])
    expect(stored?.date_done).toBeNull()
    expect(stored?.children).toEqual([[[r.id, null], null]])
  })

  it('goes back to the routing key it came with', async () => {
    const { app, start, published } = await setup()
    app.task(
      't.retryWork',
      (c: TaskContext) => {
        if (c.request.retries === 0) c.retry({ countdown: 0 })
        return c.request.deliveryInfo?.routingKey
      },
      { bind: true },
    )
    await start({ queues: ['work'] })
    const r = await app.sendTask('t.retryWork', [], {}, { queue: 'work' })
    expect(await r.get({ timeout: 2000 })).toBe('work')
    const retry = published.filter((p) => p.name === 't.retryWork')[1]
    expect(retry).toMatchObject({ exchange: '', routingKey: 'work' })
  })

  it('goes back through the exchange it came from when that is not the default one (topic)', async () => {
    const { app, start, published } = await setup()
    const topic = new Queue('golden.topicq', {
      exchange: new Exchange('golden.topic', { type: 'topic' }),
      routingKey: 'golden.#',
    })
    app.task(
      't.retryTopic',
      (c: TaskContext) => {
        if (c.request.retries === 0) c.retry({ countdown: 0 })
        return c.request.retries
      },
      { bind: true },
    )
    await start({ queues: [topic] })
    const r = await app.sendTask(
      't.retryTopic',
      [],
      {},
      { queue: topic, exchange: 'golden.topic', routingKey: 'golden.x.y' },
    )
    expect(await r.get({ timeout: 2000 })).toBe(1)
    expect(published.filter((p) => p.name === 't.retryTopic')[1]).toMatchObject({
      exchange: 'golden.topic',
      routingKey: 'golden.x.y',
    })
  })

  it('keeps the original priority on the retry message', async () => {
    const { app, start } = await setup({ taskQueueMaxPriority: 10 })
    const priorities: unknown[] = []
    let w: Worker | undefined
    app.task(
      't.prio',
      (c: TaskContext) => {
        priorities.push(w?.requests.get(c.request.id)?.message.properties.priority)
        if (c.request.retries === 0) c.retry({ countdown: 0 })
      },
      { bind: true },
    )
    w = await start()
    await (await app.sendTask('t.prio', [], {}, { priority: 6 })).get({ timeout: 2000 })
    expect(priorities).toEqual([6, 6])
  })

  it('goes to another queue, with new args, when retry() says so', async () => {
    const { app, start, published } = await setup()
    app.task(
      't.move',
      (c: TaskContext, n: number) => {
        if (c.request.retries === 0) c.retry({ countdown: 0, queue: 'slow', args: [n + 1] })
        return n
      },
      { bind: true },
    )
    await start({ queues: ['celery', 'slow'] })
    const r = await app.sendTask('t.move', [1])
    expect(await r.get({ timeout: 2000 })).toBe(2)
    expect(published.filter((p) => p.name === 't.move')[1]).toMatchObject({ routingKey: 'slow' })
  })

  it('fails with the original error once maxRetries is reached', async () => {
    const { app, start, ran } = await setup()
    app.task(
      't.always',
      (c: TaskContext) => {
        c.retry({ countdown: 0, exc: new RangeError('still wrong') })
      },
      { bind: true, maxRetries: 2 },
    )
    await start()
    const r = await app.sendTask('t.always')
    const err = await r.get({ timeout: 2000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TaskError)
    expect(err).toMatchObject({ name: 'RangeError', excArgs: ['still wrong'] })
    expect(ran.map((q) => q.retries)).toEqual([0, 1, 2])
  })

  it('autoretries with the backoff countdown', async () => {
    const { app, start, published } = await setup()
    class Flaky extends Error {}
    let runs = 0
    app.task(
      't.auto',
      () => {
        if (runs++ < 2) throw new Flaky('flaky')
        return runs
      },
      { autoretryFor: [Flaky], retryBackoff: 0.02, retryJitter: false },
    )
    await start()
    const r = await app.sendTask('t.auto')
    expect(await r.get({ timeout: 2000 })).toBe(3)
    const retries = published.filter((p) => p.name === 't.auto').slice(1)
    expect(retries.map((p) => p.headers.retries)).toEqual([1, 2])
  })
})

describe('callbacks', () => {
  it('sends link callbacks with the result prepended, parent = the task, root kept', async () => {
    const { app, start, ran } = await setup()
    await start()
    const r = await app.sendTask(
      'proj.add',
      [2, 3],
      {},
      { link: signature('proj.mul', [10]), rootId: 'root-x' },
    )
    await r.get({ timeout: 2000 })
    await until(() => ran.some((q) => q.task === 'proj.mul'))
    const mul = ran.find((q) => q.task === 'proj.mul')!
    expect(mul).toMatchObject({ args: [5, 10], parentId: r.id, rootId: 'root-x' })
    expect(await app.asyncResult(mul.id).get({ timeout: 2000 })).toBe(50)
    expect((await app.asyncResult(mul.id).meta()).parent_id).toBe(r.id)
  })

  it('does not prepend to immutable signatures, and runs every member of a group callback', async () => {
    const { app, start, ran } = await setup()
    await start()
    const group = {
      ...signature('celery.group', [], { tasks: [signature('proj.mul', [2]), signature('proj.mul', [3])] }),
      subtask_type: 'group' as const,
    }
    const r = await app.sendTask(
      'proj.add',
      [2, 3],
      {},
      { link: [group, { ...signature('proj.add', [7, 7]), immutable: true }] },
    )
    await r.get({ timeout: 2000 })
    await until(() => ran.length === 4)
    expect(
      ran
        .slice(1)
        .map((q) => [q.task, q.args])
        .sort(),
    ).toEqual([
      ['proj.add', [7, 7]],
      ['proj.mul', [5, 2]],
      ['proj.mul', [5, 3]],
    ])
  })

  it('runs a chain: the next step (last of the embed) with the result and the rest of the chain', async () => {
    const { app, start, ran } = await setup()
    await start()
    const step2 = { ...signature('proj.mul', [10]), options: { task_id: 'step-2' } }
    const step3 = { ...signature('proj.add', [1]), options: { task_id: 'step-3' } }
    const r = await app.sendTask('proj.add', [2, 3], {}, { chain: [step3, step2] })
    expect(await app.asyncResult('step-3').get({ timeout: 2000 })).toBe(51)
    expect(ran.map((q) => [q.task, q.id, q.args, q.parentId, q.rootId])).toEqual([
      ['proj.add', r.id, [2, 3], null, r.id],
      ['proj.mul', 'step-2', [5, 10], r.id, r.id],
      ['proj.add', 'step-3', [50, 1], 'step-2', r.id],
    ])
    expect(ran[1]?.chain).toEqual([step3])
    expect(ran[2]?.chain).toBeNull()
  })

  it('sends errbacks with the failed task’s id, and no callbacks, on failure', async () => {
    const { app, start, ran } = await setup()
    await start()
    const r = await app.sendTask(
      'proj.fail',
      [],
      {},
      {
        link: signature('proj.echo', ['never']),
        linkError: signature('proj.echo', ['extra']),
      },
    )
    await expect(r.get({ timeout: 2000 })).rejects.toThrow()
    await until(() => ran.length === 2)
    expect(ran[1]).toMatchObject({ task: 'proj.echo', args: [r.id, 'extra'], parentId: r.id, rootId: r.id })
    expect(await app.asyncResult(ran[1]!.id).get({ timeout: 2000 })).toEqual([r.id, 'extra'])
  })

  it('calls an immutable errback with its own args only, as Celery’s group of old-style errbacks', async () => {
    const { app, start, ran } = await setup()
    await start()
    const r = await app.sendTask(
      'proj.fail',
      [],
      {},
      { linkError: { ...signature('proj.echo', ['own']), immutable: true } },
    )
    await expect(r.get({ timeout: 2000 })).rejects.toThrow()
    await until(() => ran.length === 2)
    expect(ran[1]).toMatchObject({ task: 'proj.echo', args: ['own'], parentId: r.id })
  })

  it('sends no errbacks on success', async () => {
    const { app, start, ran } = await setup()
    await start()
    const r = await app.sendTask('proj.add', [1, 1], {}, { linkError: signature('proj.echo') })
    await r.get({ timeout: 2000 })
    await new Promise((res) => setTimeout(res, 20))
    expect(ran.map((q) => q.task)).toEqual(['proj.add'])
  })

  it('reads call options from a signature’s snake_case options', () => {
    expect(
      signatureOptions({
        task_id: 'i',
        queue: 'q',
        routing_key: 'rk',
        priority: 3,
        countdown: 2,
        reply_to: 'r',
        group_id: 'g',
        group_index: 1,
        link_error: [],
      }),
    ).toEqual({
      taskId: 'i',
      queue: 'q',
      routingKey: 'rk',
      priority: 3,
      countdown: 2,
      replyTo: 'r',
      groupId: 'g',
      groupIndex: 1,
      linkError: [],
    })
  })
})
