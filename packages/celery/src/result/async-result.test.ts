/**
 * AsyncResult over an app's memory backend: states, values, errors, waiting, children, forget.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { Celery } from '../app.js'
import type { ResultBackend } from '../backends/types.js'
import { CeleryError, TaskError, TaskRevokedError, TimeoutError } from '../errors.js'
import { AsyncResult } from './async-result.js'

const GOLDEN = join(fileURLToPath(new URL('.', import.meta.url)), '../../test/golden')
const results = (
  JSON.parse(readFileSync(join(GOLDEN, 'results_redis_backend.redisbroker.json'), 'utf8')) as {
    results: Record<string, { decoded: Record<string, unknown> }>
  }
).results

let seq = 0
const apps: Celery[] = []
afterEach(async () => {
  for (const a of apps.splice(0)) await a.close()
})

async function setup(): Promise<{ app: Celery; backend: ResultBackend }> {
  const name = `async-result-${++seq}`
  const app = new Celery('r', { broker: `memory://${name}`, backend: `memory://${name}`, env: {} })
  apps.push(app)
  const backend = (await app.backend())!
  return { app, backend }
}

/** Puts a meta a Python worker stored into the backend, under `id`. */
async function storePython(backend: ResultBackend, id: string, meta: Record<string, unknown>) {
  await backend.storeResult(id, meta.result, meta.status as string, {
    traceback: meta.traceback as string | null,
    children: meta.children as unknown[],
  })
}

describe('AsyncResult', () => {
  it('reads a SUCCESS: get, state, ready, successful, failed, info, dateDone', async () => {
    const { app, backend } = await setup()
    await backend.storeResult('s', 9, 'SUCCESS')
    const r = app.asyncResult<number>('s')
    expect(await r.get()).toBe(9)
    expect(await r.state()).toBe('SUCCESS')
    expect(await r.ready()).toBe(true)
    expect(await r.successful()).toBe(true)
    expect(await r.failed()).toBe(false)
    expect(await r.info()).toBe(9)
    expect(await r.result()).toBe(9)
    expect(await r.traceback()).toBeNull()
    const done = await r.dateDone()
    expect(done).toBeInstanceOf(Date)
    expect(Math.abs(done!.getTime() - Date.now())).toBeLessThan(2000)
    expect(String(r)).toBe('s')
  })

  it('reads a naive date_done as UTC', async () => {
    const { app, backend } = await setup()
    await storePython(backend, 'p', results.success_add!.decoded)
    // Stored now, so compare the parsed value with what the backend wrote, read as UTC.
    const meta = await app.asyncResult('p').meta()
    expect((await app.asyncResult('p').dateDone())?.getTime()).toBe(Date.parse(`${meta.date_done}Z`))
  })

  it('throws the task’s error from get(), or returns it with propagate: false', async () => {
    const { app, backend } = await setup()
    const f = results.failure_valueerror!.decoded
    await storePython(backend, 'f', f)
    const r = app.asyncResult('f')
    const err = await r.get().catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TaskError)
    expect(err).toMatchObject({ name: 'ValueError', excArgs: ['boom', 42] })
    const quiet = await r.get({ propagate: false })
    expect(quiet).toBeInstanceOf(TaskError)
    expect(await r.failed()).toBe(true)
    expect(await r.ready()).toBe(true)
    expect(await r.info()).toBeInstanceOf(TaskError)
    expect(await r.traceback()).toBe(f.traceback)
  })

  it('throws TaskRevokedError for a REVOKED task', async () => {
    const { app, backend } = await setup()
    await storePython(backend, 'rv', results.revoked!.decoded)
    await expect(app.asyncResult('rv').get()).rejects.toBeInstanceOf(TaskRevokedError)
    expect(await app.asyncResult('rv').ready()).toBe(true)
  })

  it('is PENDING and not ready for an unknown id; get() times out with TimeoutError', async () => {
    const { app } = await setup()
    const r = app.asyncResult('unknown')
    expect(await r.state()).toBe('PENDING')
    expect(await r.ready()).toBe(false)
    expect(await r.dateDone()).toBeUndefined()
    expect(await r.info()).toBeNull()
    await expect(r.get({ timeout: 20 })).rejects.toBeInstanceOf(TimeoutError)
  })

  it('waits through intermediate states (RETRY is not ready) and reports them', async () => {
    const { app, backend } = await setup()
    const seen: string[] = []
    const waiting = app.asyncResult('w').get({ timeout: 2000, onUpdate: (m) => seen.push(m.status) })
    await backend.storeResult('w', { pid: 1, hostname: 'h' }, 'STARTED')
    await backend.storeResult(
      'w',
      { exc_type: 'KeyError', exc_message: ['again'], exc_module: 'builtins' },
      'RETRY',
    )
    await backend.storeResult('w', { done: 3 }, 'PROGRESS')
    await backend.storeResult('w', 'ok', 'SUCCESS')
    expect(await waiting).toBe('ok')
    expect(seen).toEqual(['STARTED', 'RETRY', 'PROGRESS'])
  })

  it('gives the retry reason as info() while RETRY, and custom meta for custom states', async () => {
    const { app, backend } = await setup()
    await storePython(backend, 'rt', results.retry_state!.decoded)
    expect(await app.asyncResult('rt').info()).toMatchObject({ name: 'KeyError' })
    await backend.storeResult('pg', { done: 3, total: 10 }, 'PROGRESS')
    expect(await app.asyncResult('pg').info()).toEqual({ done: 3, total: 10 })
  })

  it('lists children from Celery’s result tuples', async () => {
    const { app, backend } = await setup()
    await storePython(backend, 'c', results.chain_first!.decoded)
    expect((await app.asyncResult('c').children()).map(String)).toEqual([
      'c568a8fd-a9c4-462c-9528-6f0cbab2cdb3',
    ])
    await backend.storeResult('g', 1, 'SUCCESS', {
      children: [
        [
          ['gid', null],
          [
            [['m1', null], null],
            [['m2', null], null],
          ],
        ],
        [['t3', null], null],
      ],
    })
    expect((await app.asyncResult('g').children()).map((r) => r.id)).toEqual(['m1', 'm2', 't3'])
  })

  it('forgets a result', async () => {
    const { app, backend } = await setup()
    await backend.storeResult('x', 1, 'SUCCESS')
    await app.asyncResult('x').forget()
    expect(await app.asyncResult('x').state()).toBe('PENDING')
  })

  it('revokes through the app: remembered in the backend', async () => {
    const { app, backend } = await setup()
    await app.asyncResult('to-revoke').revoke()
    expect(await backend.loadRevoked?.()).toContain('to-revoke')
  })

  it('says what to configure when the app has no result backend', async () => {
    const app = new Celery('nb', { broker: 'memory://async-result-none', env: {} })
    apps.push(app)
    await expect(app.asyncResult('x').get()).rejects.toThrow(CeleryError)
    await expect(app.asyncResult('x').state()).rejects.toThrow(/resultBackend/)
  })

  it('keeps the parent it came after', () => {
    const host = { backend: async () => undefined, revoke: async () => {} }
    const parent = new AsyncResult('p', host)
    expect(new AsyncResult('c', host, parent).parent).toBe(parent)
  })
})
