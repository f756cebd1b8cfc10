/**
 * The key-value result backend over the memory store: metas as Celery 5.2 stores them (key
 * order, extended fields, naive date_done), SUCCESS kept, expiry, revocations, and waiting that
 * is pushed by the store rather than polled.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SerializerRegistry } from '@q/kombu'
import { describe, expect, it, vi } from 'vitest'
import { TimeoutError } from '../errors.js'
import { KeyValueBackend, type KeyValueStore, pending } from './key-value.js'
import { MemoryStore } from './memory.js'
import type { StoreRequest } from './types.js'

const GOLDEN = join(fileURLToPath(new URL('.', import.meta.url)), '../../test/golden')
const load = (f: string) =>
  JSON.parse(readFileSync(join(GOLDEN, f), 'utf8')) as {
    results: Record<string, { decoded: Record<string, unknown> }>
  }
const results = load('results_redis_backend.redisbroker.json').results
const extended = load('results_redis_backend_extended.json').results

function backend(options: { extended?: boolean; expires?: number | null; store?: KeyValueStore } = {}) {
  const store = options.store ?? new MemoryStore()
  const b = new KeyValueBackend({
    url: 'memory://kv',
    store,
    serializers: new SerializerRegistry(),
    extended: options.extended,
    expires: options.expires,
  })
  return { b, store }
}

const request: StoreRequest = {
  id: 'id-1',
  task: 'proj.add',
  args: [2, 3],
  kwargs: { z: 4 },
  hostname: 'celery@host',
  retries: 0,
  group: null,
  parentId: null,
  routingKey: 'celery',
}

const NAIVE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$/

describe('stored metas', () => {
  it('writes SUCCESS with Celery’s keys, in Celery’s order, under celery-task-meta-<id>', async () => {
    const { b, store } = backend()
    await b.storeResult('id-1', 9, 'SUCCESS', { request })
    const raw = await store.get('celery-task-meta-id-1')
    const meta = JSON.parse(raw!.toString()) as Record<string, unknown>
    expect(Object.keys(meta)).toEqual(Object.keys(results.success_add!.decoded))
    expect(meta).toMatchObject({
      status: 'SUCCESS',
      result: 9,
      traceback: null,
      children: [],
      task_id: 'id-1',
    })
    expect(meta.date_done).toMatch(NAIVE)
    expect(Math.abs(Date.parse(`${meta.date_done}Z`) - Date.now())).toBeLessThan(2000)
  })

  it('adds group_id and parent_id when the request has them, before task_id', async () => {
    const { b } = backend()
    await b.storeResult('id-1', 50, 'SUCCESS', { request: { ...request, parentId: 'p-1' } })
    expect(Object.keys(await b.getTaskMeta('id-1'))).toEqual(Object.keys(results.chain_last!.decoded))
    await b.storeResult('id-2', 1, 'SUCCESS', {
      request: { ...request, id: 'id-2', group: 'g', parentId: 'p' },
    })
    expect(Object.keys(await b.getTaskMeta('id-2'))).toEqual([
      'status',
      'result',
      'traceback',
      'children',
      'date_done',
      'group_id',
      'parent_id',
      'task_id',
    ])
  })

  it('adds the extended fields as Celery with resultExtended (name, args, kwargs, worker, retries, queue)', async () => {
    const { b } = backend({ extended: true })
    await b.storeResult('id-1', 9, 'SUCCESS', { request })
    const meta = await b.getTaskMeta('id-1')
    const py = extended.success!.decoded
    expect(Object.keys(meta)).toEqual(Object.keys(py))
    expect(meta).toMatchObject({
      name: 'proj.add',
      args: [2, 3],
      kwargs: { z: 4 },
      worker: 'celery@host',
      retries: 0,
      queue: 'celery',
    })
  })

  it('stores STARTED with a null date_done, and FAILURE as an exception dict with its traceback', async () => {
    const { b } = backend()
    await b.storeResult('id-1', { pid: 1, hostname: 'h' }, 'STARTED', { request })
    expect(await b.getTaskMeta('id-1')).toMatchObject({
      status: 'STARTED',
      date_done: null,
      result: { pid: 1, hostname: 'h' },
    })
    const exc = { exc_type: 'ValueError', exc_message: ['boom', 42], exc_module: 'builtins' }
    await b.storeResult('id-1', exc, 'FAILURE', { request, traceback: 'Traceback...' })
    const meta = await b.getTaskMeta('id-1')
    expect(meta).toMatchObject({ status: 'FAILURE', result: exc, traceback: 'Traceback...' })
    expect(Object.keys(meta)).toEqual(Object.keys(results.failure_valueerror!.decoded))
    expect(meta.date_done).toMatch(NAIVE)
  })

  it('never overwrites a stored SUCCESS with another state', async () => {
    const { b } = backend()
    await b.storeResult('id-1', 9, 'SUCCESS', { request })
    await b.storeResult('id-1', { exc_type: 'X', exc_message: [], exc_module: 'm' }, 'FAILURE', { request })
    await b.storeResult('id-1', {}, 'STARTED', { request })
    await b.storeResult('id-1', {}, 'RETRY', { request })
    await b.storeResult('id-1', 10, 'SUCCESS', { request })
    expect(await b.getTaskMeta('id-1')).toMatchObject({ status: 'SUCCESS', result: 9 })
  })

  it('reads a Python-stored meta as is', async () => {
    const { b, store } = backend()
    const py = results.chain_first!.decoded
    await store.set('celery-task-meta-x', Buffer.from(JSON.stringify(py)), null)
    expect(await b.getTaskMeta('x')).toEqual(py)
  })

  it('reads an unknown id as PENDING', async () => {
    const { b } = backend()
    expect(await b.getTaskMeta('nope')).toEqual(pending('nope'))
    expect(pending('nope')).toEqual({
      status: 'PENDING',
      result: null,
      traceback: null,
      children: [],
      date_done: null,
      task_id: 'nope',
    })
  })

  it('expires results after resultExpires seconds, and forgets them on demand', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    try {
      const { b } = backend({ expires: 10 })
      await b.storeResult('id-1', 9, 'SUCCESS', { request })
      await b.storeResult('id-2', 9, 'SUCCESS', { request })
      vi.setSystemTime(Date.now() + 9_000)
      expect((await b.getTaskMeta('id-1')).status).toBe('SUCCESS')
      await b.forget('id-2')
      expect((await b.getTaskMeta('id-2')).status).toBe('PENDING')
      vi.setSystemTime(Date.now() + 2_000)
      expect((await b.getTaskMeta('id-1')).status).toBe('PENDING')
    } finally {
      vi.useRealTimers()
    }
  })

  it('remembers revoked ids until they expire', async () => {
    const { b } = backend()
    await b.saveRevoked(['a', 'b'], 100)
    await b.saveRevoked(['old'], -1)
    expect((await b.loadRevoked()).sort()).toEqual(['a', 'b'])
  })
})

describe('waitForReady', () => {
  it('is woken by the store’s subscription, not by polling', async () => {
    const { b, store } = backend()
    const get = vi.spyOn(store, 'get')
    const updates: string[] = []
    const waiting = b.waitForReady('id-1', { interval: 60_000, onUpdate: (m) => updates.push(m.status) })
    await vi.waitFor(() => expect(get).toHaveBeenCalledTimes(1)) // the one read after subscribing
    await b.storeResult('id-1', {}, 'STARTED', { request })
    await b.storeResult('id-1', 7, 'SUCCESS', { request })
    expect((await waiting).result).toBe(7)
    expect(updates).toEqual(['STARTED'])
    // Each storeResult read the meta once (is it SUCCESS already?); the waiter read it once only.
    expect(get).toHaveBeenCalledTimes(3)
  })

  it('returns at once when the result is already there', async () => {
    const { b } = backend()
    await b.storeResult('id-1', 1, 'SUCCESS', { request })
    expect((await b.waitForReady('id-1')).result).toBe(1)
  })

  it('times out with TimeoutError, and stops on abort', async () => {
    const { b } = backend()
    await expect(b.waitForReady('id-1', { timeout: 20 })).rejects.toBeInstanceOf(TimeoutError)
    const ac = new AbortController()
    const p = b.waitForReady('id-1', { signal: ac.signal })
    ac.abort(new Error('stop'))
    await expect(p).rejects.toThrow('stop')
  })

  it('polls a store that cannot subscribe', async () => {
    const mem = new MemoryStore()
    const store: KeyValueStore = {
      get: (k) => mem.get(k),
      mget: (k) => mem.mget(k),
      set: (k, v, e) => mem.set(k, v, e),
      delete: (k) => mem.delete(k),
      incr: (k) => mem.incr(k),
      expire: (k, s) => mem.expire(k, s),
      close: () => mem.close(),
    }
    const { b } = backend({ store })
    const waiting = b.waitForReady('id-1', { interval: 5, timeout: 2000 })
    setTimeout(() => void b.storeResult('id-1', 3, 'SUCCESS', { request }), 20)
    expect((await waiting).result).toBe(3)
  })
})
