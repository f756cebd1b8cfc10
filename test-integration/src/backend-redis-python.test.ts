/**
 * @q/backend-redis against a live Python Celery 5.2 (Debian's python3-celery and python3-redis)
 * through the machine's Redis, database 15, both directions: results a q app stores are read by
 * Python's AsyncResult (value, state, info, a JS TypeError raised as Python's TypeError,
 * extended fields), results Python's backend stores are read by a q app (ValueError('boom', 42)
 * as a TaskError), and each side waits, subscribed, while the other stores.
 */
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { createRedisStore } from '@q/backend-redis'
import { Celery, KeyValueBackend, TaskError } from '@q/celery'
import { serializeError } from '@q/celery/internal'
import { afterAll, describe, expect, it } from 'vitest'
import { PYTHON, requirePeer, runPython } from './peers.js'

const DB = 15
const url = `${(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379').replace(/\/\d*$/, '')}/${DB}`
const celery = requirePeer('celery')
const redisPy = requirePeer('redis')
const skip = celery.skip || redisPy.skip

/** Reads results with Python's AsyncResult: `get()` for ready ones, state/info for the others. */
const PY_READ = `
import json, sys
from celery import Celery
req = json.load(sys.stdin)
app = Celery('t', broker='memory://', backend=req['url'])

def plain(v):
    if isinstance(v, BaseException):
        return {'exception': type(v).__name__, 'module': type(v).__module__, 'args': list(v.args)}
    return v

out = {}
for task_id in req['ready'] + req['peek']:
    r = app.AsyncResult(task_id)
    entry = {'state': r.state, 'info': plain(r.info), 'result': plain(r.result),
             'traceback': r.traceback, 'date_done': type(r.date_done).__name__}
    if task_id in req['ready']:
        try:
            entry['get'] = r.get(timeout=10)
        except Exception as e:
            entry['raised'] = plain(e)
    if req.get('extended'):
        entry['extended'] = {k: getattr(r, k) for k in ('name', 'args', 'kwargs', 'worker', 'retries', 'queue')}
    out[task_id] = entry
print(json.dumps(out))
`

/** Stores results with Python's Redis backend. */
const PY_WRITE = `
import json, sys
from celery import Celery
req = json.load(sys.stdin)
app = Celery('t', broker='memory://', backend=req['url'])
ids = req['ids']
app.backend.store_result(ids['success'], {'n': 1, 'text': 'h\\u00e9llo \\u2713', 'list': [1, 2.5, None, True]}, 'SUCCESS')
app.backend.mark_as_failure(ids['failure'], ValueError('boom', 42))
app.backend.store_result(ids['progress'], {'current': 3, 'total': 10}, 'PROGRESS')
print('ok')
`

/** Waits for one result with Python's AsyncResult.get(), subscribed to its channel. */
const PY_WAIT = `
import json, sys
from celery import Celery
req = json.load(sys.stdin)
app = Celery('t', broker='memory://', backend=req['url'])
print(json.dumps(app.AsyncResult(req['id']).get(timeout=20)))
`

/** Runs a Python script without blocking the event loop (the other side must keep going). */
function runPythonAsync(script: string, input: Record<string, unknown>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'], timeout: 30_000 })
    let out = ''
    let err = ''
    child.stdout.on('data', (c: Buffer) => (out += c))
    child.stderr.on('data', (c: Buffer) => (err += c))
    child.once('error', reject)
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`python failed (${code}): ${err}`)),
    )
    child.stdin.end(JSON.stringify(input))
  })
}

const key = (id: string) => `celery-task-meta-${id}`
const used: string[] = []
const newId = () => {
  const id = randomUUID()
  used.push(id)
  return id
}

/** Subscribers Redis counts on a result's channel. */
async function subscribers(id: string): Promise<number> {
  await using store = createRedisStore(url)
  const [, n] = (await store.client.pubsub('NUMSUB', key(id))) as [string, number]
  return n
}

async function until(condition: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

afterAll(async () => {
  await using store = createRedisStore(url)
  for (const id of used) await store.delete(key(id))
})

describe.skipIf(skip)(`Python Celery reads what q stores (${celery.reason})`, () => {
  it('SUCCESS, a JS TypeError as builtins.TypeError, and a custom state', async () => {
    await using app = new Celery('t', { broker: 'memory://backend-redis-py', backend: url })
    const backend = (await app.backend())!
    expect(backend).toBeInstanceOf(KeyValueBackend)
    const [ok, failed, progress] = [newId(), newId(), newId()]
    const value = { n: 1, text: 'h\u00e9llo \u2713', list: [1, 2.5, null, true], nested: { k: 'v' } }
    await backend.storeResult(ok, value, 'SUCCESS')
    const err = new TypeError('bad input')
    await backend.storeResult(failed, serializeError(err), 'FAILURE', { traceback: err.stack ?? null })
    await backend.storeResult(progress, { current: 3, total: 10 }, 'PROGRESS')

    const py = JSON.parse(runPython(PY_READ, JSON.stringify({ url, ready: [ok, failed], peek: [progress] })))
    expect(py[ok]).toMatchObject({
      state: 'SUCCESS',
      get: value,
      info: value,
      result: value,
      date_done: 'datetime',
    })
    const typeError = { exception: 'TypeError', module: 'builtins', args: ['bad input'] }
    expect(py[failed]).toMatchObject({
      state: 'FAILURE',
      raised: typeError,
      info: typeError,
      result: typeError,
    })
    expect(py[failed].traceback).toContain('TypeError: bad input')
    expect(py[progress]).toEqual({
      state: 'PROGRESS',
      info: { current: 3, total: 10 },
      result: { current: 3, total: 10 },
      traceback: null,
      date_done: 'NoneType',
    })
  })

  it('the extended fields (resultExtended)', async () => {
    await using app = new Celery('t', {
      broker: 'memory://backend-redis-py',
      backend: url,
      resultExtended: true,
    })
    const id = newId()
    const request = {
      id,
      task: 'proj.add',
      args: [2, 3],
      kwargs: { z: 4 },
      hostname: 'q@host',
      retries: 1,
      routingKey: 'celery',
    }
    await (await app.backend())!.storeResult(id, 9, 'SUCCESS', { request })
    const py = JSON.parse(runPython(PY_READ, JSON.stringify({ url, ready: [id], peek: [], extended: true })))
    expect(py[id].get).toBe(9)
    expect(py[id].extended).toEqual({
      name: 'proj.add',
      args: [2, 3],
      kwargs: { z: 4 },
      worker: 'q@host',
      retries: 1,
      queue: 'celery',
    })
  })

  it('while Python waits in AsyncResult.get(), subscribed', async () => {
    await using app = new Celery('t', { broker: 'memory://backend-redis-py', backend: url })
    const id = newId()
    const python = runPythonAsync(PY_WAIT, { url, id })
    await until(async () => (await subscribers(id)) === 1, 15_000, 'Python to subscribe')
    await (await app.backend())!.storeResult(id, { from: 'q' }, 'SUCCESS')
    expect(JSON.parse(await python)).toEqual({ from: 'q' })
  })
})

describe.skipIf(skip)(`q reads what Python Celery stores (${celery.reason})`, () => {
  it('SUCCESS, ValueError("boom", 42) as a TaskError, and a custom state', async () => {
    await using app = new Celery('t', { broker: 'memory://backend-redis-py', backend: url })
    const ids = { success: newId(), failure: newId(), progress: newId() }
    expect(runPython(PY_WRITE, JSON.stringify({ url, ids })).trim()).toBe('ok')

    expect(await app.asyncResult(ids.success).get({ timeout: 5000 })).toEqual({
      n: 1,
      text: 'h\u00e9llo \u2713',
      list: [1, 2.5, null, true],
    })
    const err = await app
      .asyncResult(ids.failure)
      .get({ timeout: 5000 })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TaskError)
    expect(err).toMatchObject({ excType: 'ValueError', excModule: 'builtins', excArgs: ['boom', 42] })
    expect(await app.asyncResult(ids.failure).state()).toBe('FAILURE')
    const progress = app.asyncResult(ids.progress)
    expect([await progress.state(), await progress.info()]).toEqual(['PROGRESS', { current: 3, total: 10 }])
  })

  it('while q waits in get(), pushed by the PUBLISH of Python', async () => {
    await using app = new Celery('t', { broker: 'memory://backend-redis-py', backend: url })
    const ids = { success: newId(), failure: newId(), progress: newId() }
    const waiting = app.asyncResult(ids.success).get({ timeout: 20_000 })
    await until(async () => (await subscribers(ids.success)) === 1, 5000, 'q to subscribe')
    await runPythonAsync(PY_WRITE, { url, ids })
    expect(await waiting).toMatchObject({ n: 1 })
  })
})
