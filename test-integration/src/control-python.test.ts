/**
 * Remote control between q and a live Python Celery 5.2 worker and client, over RabbitMQ and
 * over Redis: (a) Python's `app.control.ping()` and `inspect()` get answers from a q worker;
 * (b) q's `app.control` pings, inspects, revokes and shuts down a Python worker; (c) mingle works
 * both ways (a starting Python worker learns q's revoked ids, a starting q worker learns Python's).
 * Each run uses its own control exchange, queues and node names, so no other worker on the broker
 * answers or is disturbed.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type ByNode, Celery, type QueueDict, type Worker, type WorkerStats } from '@q/celery'
import { type Channel, Connection, type NodeReply } from '@q/kombu'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { PYTHON, requirePeer, runPythonJson } from './peers.js'

const peer = requirePeer('celery')
const brokers: Array<[string, string]> = [
  ['RabbitMQ', `${(process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672').replace(/\/+$/, '')}//`],
  ['Redis', `${(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379').replace(/\/\d*$/, '')}/11`],
]

/** The Python side: a Celery app whose broker, control exchange and queue come from the environment. */
const PY_MODULE = `import os, time
from celery import Celery

app = Celery('qctlpy', broker=os.environ['Q_BROKER'])
app.conf.update(
    control_exchange=os.environ['Q_CONTROL_EXCHANGE'],
    task_default_queue=os.environ['Q_PY_QUEUE'],
    worker_prefetch_multiplier=1,
    broker_heartbeat=0,
)


@app.task(name='py.add')
def add(x, y):
    return x + y


@app.task(name='py.sleep')
def sleep(seconds):
    time.sleep(seconds)
    return seconds
`

/** Runs a Python snippet with `app` (the module above) and `env` in scope; returns its last JSON line. */
function python(dir: string, env: Record<string, string>, body: string): Promise<unknown> {
  return runPythonJson(
    `import json, os, sys\nsys.path.insert(0, ${JSON.stringify(dir)})\nfrom qctlpy import app\n${body}`,
    env,
  )
}

/** A Python worker (`-P solo`), started by the test, with its output kept for assertions. */
async function startPythonWorker(dir: string, env: Record<string, string>, node: string, queue: string) {
  const child: ChildProcess = spawn(
    PYTHON,
    ['-m', 'celery', '-A', 'qctlpy', 'worker', '-P', 'solo', '-l', 'info', '-n', node, '-Q', queue],
    {
      cwd: dir,
      env: { ...process.env, ...env, PYTHONPATH: dir, PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let output = ''
  child.stdout?.on('data', (d) => (output += d))
  child.stderr?.on('data', (d) => (output += d))
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))
  await vi.waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`Python worker exited (${child.exitCode}):\n${output}`)
      if (!/ready\./.test(output)) throw new Error(`Python worker not ready:\n${output}`)
    },
    { timeout: 30_000, interval: 100 },
  )
  return {
    output: () => output,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    },
  }
}

/** What the Python client prints in test (a). */
interface PythonControlOutput {
  ping: NodeReply[]
  ping_all: NodeReply[]
  registered: ByNode<string[]>
  registered_items: ByNode<string[]>
  stats: ByNode<WorkerStats>
  active_queues: ByNode<QueueDict[]>
  clock: ByNode<{ clock: number }>
  revoke: NodeReply[]
  revoked: ByNode<string[]>
  unknown: NodeReply[]
}

/** Deletes what a run declared (queues with their bindings, exchanges), one channel per step. */
async function cleanup(broker: string, queues: string[], exchanges: string[]): Promise<void> {
  const conn = new Connection(broker, { logger: { debug() {}, info() {}, warn() {}, error() {} } })
  const steps: Array<(ch: Channel) => Promise<unknown>> = [
    ...queues.map((q) => (ch: Channel) => ch.deleteQueue(q)),
    ...exchanges.map((e) => (ch: Channel) => ch.deleteExchange(e)),
  ]
  try {
    for (const step of steps) {
      // A refused step (the entity is gone already) closes an AMQP channel: take a new one each time.
      const ch = await conn.channel()
      await step(ch).catch(() => {})
      await ch.close().catch(() => {})
    }
  } finally {
    await conn.close()
  }
}

describe.skipIf(peer.skip).each(brokers)(
  `Remote control with Python Celery over %s${peer.skip ? ` [skipped: ${peer.reason}]` : ''}`,
  (_name, broker) => {
    const run = randomUUID().slice(0, 8)
    const exchange = `qctl-${run}`
    const qQueue = `qctl-q-${run}`
    const pyQueue = `qctl-py-${run}`
    const qNode = `q-${run}@test`
    const pyNode = `py-${run}@test`
    const env = { Q_BROKER: broker, Q_CONTROL_EXCHANGE: exchange, Q_PY_QUEUE: pyQueue }
    const revokedByQ = `revoked-by-q-${run}`
    let dir: string
    let app: Celery
    let worker: Worker
    let py: Awaited<ReturnType<typeof startPythonWorker>>
    const stops: Array<() => Promise<void>> = []

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'qctl-'))
      writeFileSync(join(dir, 'qctlpy.py'), PY_MODULE)
      app = new Celery('qctl', { broker, controlExchange: exchange, taskDefaultQueue: qQueue, env: {} })
      app.task('qctl.add', (x: number, y: number) => x + y)
      app.task('qctl.slow', async (s: number) => {
        await new Promise((r) => setTimeout(r, s * 1000))
        return s
      })
      worker = await (await app.worker({ hostname: qNode, queues: [qQueue], logLevel: 'warn' })).start()
      // Known to q only: the Python worker must learn it from q's answer to its mingle hello.
      worker.revoke([revokedByQ])
      py = await startPythonWorker(dir, env, pyNode, pyQueue)
    }, 60_000)

    afterAll(async () => {
      for (const stop of stops.reverse()) await stop().catch(() => {})
      await py?.stop()
      await worker?.stop()
      await app?.close()
      if (dir) rmSync(dir, { recursive: true, force: true })
      const nodes = [qNode, pyNode, `q2-${run}@test`].map((n) => `${n}.${exchange}.pidbox`)
      await cleanup(
        broker,
        [qQueue, pyQueue, ...nodes],
        [qQueue, pyQueue, `${exchange}.pidbox`, `reply.${exchange}.pidbox`],
      )
    })

    it("(a) Python's app.control.ping() and inspect() get answers from the q worker", async () => {
      const out = (await python(
        dir,
        { ...env, Q_NODE: qNode },
        `q = os.environ['Q_NODE']
i = app.control.inspect(destination=[q], timeout=5)
print(json.dumps({
    'ping': app.control.ping(destination=[q], timeout=5),
    'ping_all': app.control.ping(timeout=2),
    'registered': i.registered(),
    'registered_items': i.registered('rate_limit', 'max_retries'),
    'stats': i.stats(),
    'active_queues': i.active_queues(),
    'clock': i.clock(),
    'revoke': app.control.revoke('py-revoked-${run}', destination=[q], reply=True, timeout=5),
    'revoked': i.revoked(),
    'unknown': app.control.broadcast('no_such_command', destination=[q], reply=True, timeout=5),
}))`,
      )) as PythonControlOutput
      expect(out.ping).toEqual([{ [qNode]: { ok: 'pong' } }])
      expect(Object.assign({}, ...out.ping_all)).toEqual({
        [qNode]: { ok: 'pong' },
        [pyNode]: { ok: 'pong' },
      })
      expect(out.registered).toEqual({ [qNode]: ['qctl.add', 'qctl.slow'] })
      expect(out.registered_items).toEqual({
        [qNode]: ['qctl.add [max_retries=3]', 'qctl.slow [max_retries=3]'],
      })
      const stats = out.stats[qNode]!
      expect(stats).toMatchObject({ pid: process.pid, pool: { 'max-concurrency': worker.concurrency } })
      expect(stats.broker.transport).toBe(broker.startsWith('amqp') ? 'amqp' : 'redis')
      expect(out.active_queues[qNode]?.map((q) => q.name)).toEqual([qQueue])
      expect(out.clock[qNode]?.clock).toBeGreaterThan(0)
      expect(out.revoke).toEqual([{ [qNode]: { ok: `tasks py-revoked-${run} flagged as revoked` } }])
      expect(out.revoked[qNode]).toContain(`py-revoked-${run}`)
      expect(out.unknown).toEqual([{ [qNode]: { error: "KeyError('no_such_command')" } }])
      expect(worker.revoked.has(`py-revoked-${run}`)).toBe(true)
    })

    it("(b) q's app.control pings and inspects the Python worker", async () => {
      const replies = await app.control.ping({ timeout: 1000 })
      expect(Object.assign({}, ...replies)).toEqual({ [qNode]: { ok: 'pong' }, [pyNode]: { ok: 'pong' } })
      const inspect = app.control.inspect({ destination: [pyNode], timeout: 5000 })
      expect(await inspect.registered()).toEqual({ [pyNode]: ['py.add', 'py.sleep'] })
      const stats = (await inspect.stats())[pyNode]!
      expect(stats.pool['max-concurrency']).toBe(1)
      expect(typeof stats.clock).toBe('string')
      const [queue] = (await inspect.activeQueues())[pyNode]!
      expect(queue).toMatchObject({ name: pyQueue, exchange: { name: pyQueue, type: 'direct' } })
    })

    it('(c1) a starting Python worker learned what the q worker had revoked (mingle)', async () => {
      const revoked = await app.control.inspect({ destination: [pyNode], timeout: 5000 }).revoked()
      expect(revoked[pyNode]).toContain(revokedByQ)
    })

    it("(b) q's revoke reaches the Python worker, which discards the task", async () => {
      const id = `revoked-for-py-${run}`
      expect(await app.control.revoke(id, { destination: [pyNode], reply: true, timeout: 5000 })).toEqual([
        { [pyNode]: { ok: `tasks ${id} flagged as revoked` } },
      ])
      await app.sendTask('py.add', [1, 2], {}, { queue: pyQueue, taskId: id })
      await vi.waitFor(
        () => expect(py.output()).toMatch(new RegExp(`Discarding revoked task: py.add\\[${id}\\]`)),
        {
          timeout: 15_000,
          interval: 100,
        },
      )
      // app.revoke() broadcasts too (no destination: every worker).
      const other = `app-revoke-${run}`
      await app.revoke(other)
      await vi.waitFor(async () => {
        const revoked = await app.control.inspect({ destination: [pyNode, qNode], timeout: 5000 }).revoked()
        expect(revoked[pyNode]).toContain(other)
        expect(revoked[qNode]).toContain(other)
      })
      // terminate of a task the Python worker does not run.
      expect(await app.control.terminate('nothing-here', { destination: [pyNode], reply: true })).toEqual([
        { [pyNode]: { ok: 'terminate: tasks unknown' } },
      ])
    })

    it('(c2) a starting q worker learns what the Python worker had revoked (mingle)', async () => {
      const onlyPy = `revoked-on-py-${run}`
      await app.control.revoke(onlyPy, { destination: [pyNode], reply: true, timeout: 5000 })
      expect(worker.revoked.has(onlyPy)).toBe(false)
      const second = await (
        await app.worker({ hostname: `q2-${run}@test`, queues: [qQueue], logLevel: 'warn' })
      ).start()
      stops.push(() => second.stop())
      expect(second.revoked.has(onlyPy)).toBe(true)
    })

    it("(b) q's shutdown stops the Python worker", async () => {
      expect(await app.control.shutdown({ destination: [pyNode] })).toEqual([])
      const code = await Promise.race([py.exited, new Promise((r) => setTimeout(() => r('timeout'), 20_000))])
      expect(code).toBe(0)
      expect(py.output()).toMatch(/Got shutdown from remote/)
      expect(await app.control.ping({ destination: [pyNode], timeout: 300 })).toEqual([])
    })
  },
)
