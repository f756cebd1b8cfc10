/**
 * Issue 7's acceptance test: q and a live Python Celery 5.2 on the same broker and Redis result
 * backend, over RabbitMQ and over Redis. (1) Python sends to a q worker; (2) q sends to a Python
 * worker, a Python exception included; (3) a retry begun on one side finishes on the other;
 * (4) a revoke sent from either side is honoured.
 */
import { randomUUID } from 'node:crypto'
import { Celery, TaskError } from '@q/celery'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requirePeer } from './peers.js'
import {
  deleteInteropQueues,
  type InteropEnv,
  type PythonWorker,
  pythonClient,
  startPythonWorker,
} from './python-worker.js'

const peer = requirePeer('celery')
const REDIS_DB = 13
const BACKEND = `redis://127.0.0.1:6379/${REDIS_DB}`
const brokers: Array<[string, string]> = [
  ['RabbitMQ', 'amqp://guest:guest@127.0.0.1:5672//'],
  ['Redis', `redis://127.0.0.1:6379/${REDIS_DB - 1}`],
]

describe.skipIf(peer.skip).each(brokers)(
  `Celery interop with Python over %s${peer.skip ? ` [skipped: ${peer.reason}]` : ''}`,
  (_name, broker) => {
    const run = randomUUID().slice(0, 8)
    const env: InteropEnv = {
      Q_BROKER: broker,
      Q_BACKEND: BACKEND,
      Q_PY_QUEUE: `interop-py-${run}`,
      Q_Q_QUEUE: `interop-q-${run}`,
    }
    let app: Celery
    let worker: Awaited<ReturnType<Celery['worker']>>
    let py: PythonWorker
    const seen: string[] = []

    beforeAll(async () => {
      app = new Celery('interop', { broker, backend: BACKEND, taskDefaultQueue: env.Q_Q_QUEUE, env: {} })
      app.task('interop.add', (x: number, y: number, z: number = 0) => x + y + z, { params: ['x', 'y', 'z'] })
      app.task('interop.retry_to_q', (ctx, x: number) => ({ side: 'q', x, retries: ctx.request.retries }), {
        bind: true,
      })
      app.task(
        'interop.retry_to_py',
        (ctx, _x: number) => ctx.retry({ countdown: 0.5, queue: env.Q_PY_QUEUE }),
        { bind: true, maxRetries: 3 },
      )
      app.task('interop.slow', async (s: number) => {
        await new Promise((r) => setTimeout(r, s * 1000))
        return s
      })
      app.signals.on('taskPrerun', ({ request }) => seen.push(request.id))
      worker = await (
        await app.worker({
          queues: [env.Q_Q_QUEUE],
          concurrency: 4,
          hostname: `q-${run}@%h`,
          logLevel: 'warn',
        })
      ).start()
      py = await startPythonWorker(env, `py-${run}@%h`)
    }, 60_000)

    afterAll(async () => {
      await py?.stop()
      await worker?.stop()
      if (app) await deleteInteropQueues(app, env)
      await app?.close()
    })

    it('(1) a Python client sends args, kwargs, countdown, expires and priority to a q worker', async () => {
      const out = (await pythonClient(
        env,
        `r = app.send_task('interop.add', args=(2, 3), kwargs={'z': 4}, countdown=1, expires=60, priority=5, queue='${env.Q_Q_QUEUE}')
print(json.dumps({'id': r.id, 'value': r.get(timeout=30), 'state': r.state}))`,
      )) as { id: string; value: number; state: string }
      expect(out).toMatchObject({ value: 9, state: 'SUCCESS' })
      expect(seen).toContain(out.id)
    })

    it('(2) a q client sends tasks to a Python worker, a Python exception included', async () => {
      const r = await app.sendTask<number>('interop.mul', [6, 7], {}, { queue: env.Q_PY_QUEUE })
      expect(await r.get({ timeout: 30_000 })).toBe(42)
      const f = await app.sendTask('interop.fail', ['boom'], {}, { queue: env.Q_PY_QUEUE })
      const err = (await f.get({ timeout: 30_000 }).catch((e: unknown) => e)) as TaskError
      expect(err).toBeInstanceOf(TaskError)
      expect(err.name).toBe('ValueError')
      expect(err.excModule).toBe('builtins')
      expect(err.excArgs).toEqual(['boom', 42])
      expect(err.traceback).toMatch(/ValueError/)
    })

    it('(3a) a retry begun in Python finishes on the q worker', async () => {
      const r = await app.sendTask('interop.retry_to_q', [7], {}, { queue: env.Q_PY_QUEUE })
      expect(await r.get({ timeout: 30_000 })).toEqual({ side: 'q', x: 7, retries: 1 })
    })

    it('(3b) a retry begun on the q worker finishes in Python', async () => {
      const r = await app.sendTask('interop.retry_to_py', [8], {}, { queue: env.Q_Q_QUEUE })
      expect(await r.get({ timeout: 30_000 })).toEqual({ side: 'python', x: 8, retries: 1 })
    })

    it('(4a) a revoke sent from q is honoured by the Python worker', async () => {
      const id = randomUUID()
      await app.revoke(id)
      // Give the broadcast a moment to reach the worker's mailbox before the task does.
      await new Promise((r) => setTimeout(r, 500))
      const r = await app.sendTask('interop.mul', [1, 2], {}, { queue: env.Q_PY_QUEUE, taskId: id })
      const err = (await r.get({ timeout: 30_000 }).catch((e: unknown) => e)) as TaskError
      expect(err.name).toBe('TaskRevokedError')
      expect(await r.state()).toBe('REVOKED')
    })

    it('(4b) a revoke sent from Python is honoured by the q worker', async () => {
      const id = randomUUID()
      const out = (await pythonClient(
        env,
        `import time
app.control.revoke('${id}')
time.sleep(0.5)
r = app.send_task('interop.slow', args=(0,), queue='${env.Q_Q_QUEUE}', task_id='${id}')
try:
    r.get(timeout=30)
except Exception as e:
    print(json.dumps({'state': r.state, 'error': type(e).__name__}))
else:
    print(json.dumps({'state': r.state, 'error': None}))`,
      )) as { state: string; error: string | null }
      expect(out).toEqual({ state: 'REVOKED', error: 'TaskRevokedError' })
      expect(seen).not.toContain(id)
    })
  },
)
