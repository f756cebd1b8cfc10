/**
 * Waiting for results on a real Redis: pushed through pub/sub on one shared subscriber
 * connection (never a GET loop), intermediate states, timeouts, many waiters, and a subscriber
 * connection killed while results are being stored.
 */
import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { type TaskMeta, TimeoutError } from '@q/celery'
import type { Redis } from 'ioredis'
import { beforeAll, describe, expect, it } from 'vitest'
import { flushTestDb, monitored, rawClient, testBackend } from '../test/redis-env.js'
import type { RedisStore } from './store.js'

const key = (id: string) => `celery-task-meta-${id}`

async function until(condition: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** CLIENT LIST entries of the connections named `name` (and `name:sub`). */
async function clients(raw: Redis, name: string): Promise<Array<Record<string, string>>> {
  const list = (await raw.client('LIST')) as string
  return list
    .trim()
    .split('\n')
    .map((line) => Object.fromEntries(line.split(' ').map((kv) => kv.split('=', 2) as [string, string])))
    .filter((c) => c.name === name || c.name === `${name}:sub`)
}

/** Records the keys `store.get` is called with, once each GET has its reply. */
function spyGets(store: RedisStore): string[] {
  const gets: string[] = []
  const get = store.get.bind(store)
  store.get = async (k: string) => {
    const v = await get(k)
    gets.push(k)
    return v
  }
  return gets
}

beforeAll(flushTestDb)

describe('waitForReady', () => {
  it('is pushed: one GET to cover the race, then nothing until the PUBLISH', async () => {
    const name = `q-test-push-${randomUUID().slice(0, 8)}`
    await using waiter = testBackend({ transportOptions: { connectionName: name } })
    await using writer = testBackend()
    await using raw = rawClient()
    await writer.store.get('warm-up')
    const id = randomUUID()
    const gets = spyGets(waiter.store)
    let latency = 0
    let meta: TaskMeta | undefined
    const commands = await monitored(async () => {
      const pending = waiter.backend.waitForReady(id, { timeout: 5000 })
      await until(() => gets.length === 1, 2000, 'the first GET')
      await new Promise((r) => setTimeout(r, 300))
      const t0 = performance.now()
      await writer.backend.storeResult(id, 42, 'SUCCESS')
      meta = await pending
      latency = performance.now() - t0
      await until(async () => (await raw.pubsub('NUMSUB', key(id)))[1] === 0, 1000, 'the UNSUBSCRIBE')
    })
    expect(meta).toMatchObject({ status: 'SUCCESS', result: 42, task_id: id })
    expect(gets).toEqual([key(id)])
    // The waiter's own commands on the key, from both of its connections: no GET loop.
    const mine = new Set((await clients(raw, name)).map((c) => c.addr))
    expect(mine.size).toBe(2)
    const onKey = commands.filter((c) => mine.has(c.source) && c.args[0] === key(id)).map((c) => c.name)
    expect(onKey).toEqual(['subscribe', 'get', 'unsubscribe'])
    expect(latency).toBeLessThan(50)
    expect(waiter.store.subscriptions).toBe(0)
  })

  it('resolves at once, from the GET, when the result is already there', async () => {
    await using t = testBackend()
    const id = randomUUID()
    await t.backend.storeResult(id, 'early', 'SUCCESS')
    expect((await t.backend.waitForReady(id, { timeout: 2000 })).result).toBe('early')
    await until(() => t.store.subscriptions === 0, 1000, 'the unsubscribe')
  })

  it('reports the intermediate states it is pushed', async () => {
    await using waiter = testBackend()
    await using writer = testBackend()
    const id = randomUUID()
    const updates: string[] = []
    const gets = spyGets(waiter.store)
    const pending = waiter.backend.waitForReady(id, {
      timeout: 5000,
      onUpdate: (m) => updates.push(m.status),
    })
    // Past the GET that covers the subscribe race (a state stored before it is seen twice).
    await until(() => gets.length === 1, 2000, 'the GET')
    await writer.backend.storeResult(id, { pid: 1, hostname: 'w@h' }, 'STARTED')
    await writer.backend.storeResult(id, { current: 3, total: 10 }, 'PROGRESS')
    await writer.backend.storeResult(id, 'done', 'SUCCESS')
    expect((await pending).result).toBe('done')
    expect(updates).toEqual(['STARTED', 'PROGRESS'])
  })

  it('times out with TimeoutError, or stops on abort, and unsubscribes', async () => {
    await using t = testBackend()
    await expect(t.backend.waitForReady(randomUUID(), { timeout: 100 })).rejects.toBeInstanceOf(TimeoutError)
    const abort = new AbortController()
    const pending = t.backend.waitForReady(randomUUID(), { signal: abort.signal })
    await until(() => t.store.subscriptions === 1, 2000, 'the subscription')
    abort.abort(new Error('stop'))
    await expect(pending).rejects.toThrow('stop')
    await until(() => t.store.subscriptions === 0, 1000, 'the unsubscribes')
  })

  it('multiplexes many waiters on one subscriber connection', async () => {
    const name = `q-test-many-${randomUUID().slice(0, 8)}`
    await using waiter = testBackend({ transportOptions: { connectionName: name } })
    await using writer = testBackend()
    await using raw = rawClient()
    const ids = Array.from({ length: 300 }, () => randomUUID())
    const shared = randomUUID()
    const pending = [
      ...ids.map((id) => waiter.backend.waitForReady(id, { timeout: 10_000 })),
      ...Array.from({ length: 20 }, () => waiter.backend.waitForReady(shared, { timeout: 10_000 })),
    ]
    await until(() => waiter.store.subscriptions === 301, 5000, '301 subscriptions')
    await until(
      async () => (await clients(raw, name)).find((c) => c.name === `${name}:sub`)?.sub === '301',
      2000,
      'sub=301 on the server',
    )
    // One command connection and one subscriber connection, whatever the number of waiters.
    const names = async () => (await clients(raw, name)).map((c) => c.name).sort()
    await until(async () => (await names()).length === 2, 2000, 'the command connection')
    expect(await names()).toEqual([name, `${name}:sub`])
    await Promise.all([...ids, shared].map((id, i) => writer.backend.storeResult(id, i, 'SUCCESS')))
    const metas = await Promise.all(pending)
    expect(metas.slice(0, 300).map((m) => m.result)).toEqual(ids.map((_, i) => i))
    expect(new Set(metas.slice(300).map((m) => m.result))).toEqual(new Set([300]))
    await until(() => waiter.store.subscriptions === 0, 2000, 'every unsubscribe')
    await until(
      async () => (await clients(raw, name)).find((c) => c.name === `${name}:sub`)?.sub === '0',
      2000,
      'sub=0 on the server',
    )
  })

  it('catches up after the subscriber connection is killed, then is pushed again', async () => {
    const name = `q-test-kill-${randomUUID().slice(0, 8)}`
    // Reconnect 300 ms after a loss, so a result can be stored while nobody listens.
    await using waiter = testBackend({
      transportOptions: { connectionName: name, redisOptions: { retryStrategy: () => 300 } },
    })
    await using writer = testBackend()
    await using raw = rawClient()
    const [during, after] = [randomUUID(), randomUUID()]
    const gets = spyGets(waiter.store)
    const pendingDuring = waiter.backend.waitForReady(during, { timeout: 10_000 })
    const pendingAfter = waiter.backend.waitForReady(after, { timeout: 10_000 })
    // Both subscribed, and past their first GET.
    await until(() => gets.length === 2, 2000, 'the subscriptions')
    const sub = (await clients(raw, name)).find((c) => c.name === `${name}:sub`)!
    await raw.client('KILL', 'ID', sub.id!)
    const t0 = performance.now()
    await writer.backend.storeResult(during, 'stored while down', 'SUCCESS')
    expect(await raw.pubsub('NUMSUB', key(during))).toEqual([key(during), 0])
    expect((await pendingDuring).result).toBe('stored while down')
    // Not before the reconnect: it came from the read that follows the re-subscribe.
    expect(performance.now() - t0).toBeGreaterThan(250)
    await until(async () => (await raw.pubsub('NUMSUB', key(after)))[1] === 1, 2000, 'the re-subscribe')
    await writer.backend.storeResult(after, 'pushed', 'SUCCESS')
    expect((await pendingAfter).result).toBe('pushed')
  })
})
