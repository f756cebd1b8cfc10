/**
 * A batch sent by `applyMany` over Redis (one LPUSH per priority bucket) is run by a real Python
 * Celery 5 worker, every task with its own id and result: the envelopes are Kombu's, byte for byte.
 */
import { randomUUID } from 'node:crypto'
import { Celery, type TaskCall } from '@q/celery'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requirePeer } from './peers.js'
import {
  deleteInteropQueues,
  type InteropEnv,
  type PythonWorker,
  startPythonWorker,
} from './python-worker.js'

const peer = requirePeer('celery')
const BROKER = 'redis://127.0.0.1:6379/12'
const BACKEND = 'redis://127.0.0.1:6379/13'

describe.skipIf(peer.skip)(
  `applyMany to a Python worker over Redis${peer.skip ? ` [skipped: ${peer.reason}]` : ''}`,
  () => {
    const run = randomUUID().slice(0, 8)
    const env: InteropEnv = {
      Q_BROKER: BROKER,
      Q_BACKEND: BACKEND,
      Q_PY_QUEUE: `many-py-${run}`,
      Q_Q_QUEUE: `many-q-${run}`,
    }
    let app: Celery
    let py: PythonWorker

    beforeAll(async () => {
      app = new Celery('many', { broker: BROKER, backend: BACKEND, env: {} })
      py = await startPythonWorker(env, `many-${run}@%h`)
    }, 60_000)

    afterAll(async () => {
      await py?.stop()
      if (app) await deleteInteropQueues(app, env)
      await app?.close()
    })

    it('runs every task of the batch, priorities and kwargs included', async () => {
      const mul = app.task('interop.mul', (x: number, y?: number) => x * (y ?? 1))
      const calls = Array.from({ length: 50 }, (_, i): [number, number?] | TaskCall<[number, number?]> =>
        i % 5 === 0 ? { args: [i], kwargs: { y: 3 }, options: { priority: 9 } } : [i, 2],
      )
      const results = await mul.applyMany(calls, { queue: env.Q_PY_QUEUE, expires: 120 })
      expect(new Set(results.map((r) => r.id)).size).toBe(50)
      const values = await Promise.all(results.map((r) => r.get({ timeout: 60_000 })))
      expect(values).toEqual(Array.from({ length: 50 }, (_, i) => (i % 5 === 0 ? i * 3 : i * 2)))
      expect(py.output()).not.toMatch(/Traceback|ERROR/)
    }, 90_000)

    it('sends by name with app.sendTasks', async () => {
      const results = await app.sendTasks<number>(
        'interop.mul',
        [
          [2, 3],
          [4, 5],
        ],
        { queue: env.Q_PY_QUEUE },
      )
      expect(await Promise.all(results.map((r) => r.get({ timeout: 30_000 })))).toEqual([6, 20])
    }, 60_000)
  },
)
