/**
 * What the backend writes to a real Redis, command by command, against what Python Celery 5.2
 * wrote in the golden capture (test/golden/results-redis-backend.json).
 */
import { randomUUID } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { TaskMeta } from '@q/celery'
import { beforeAll, describe, expect, it } from 'vitest'
import { flushTestDb, monitored, rawClient, testBackend } from '../test/redis-env.js'

interface GoldenResult {
  redis_key: string
  ttl_seconds?: number
  raw_value: string
  decoded: TaskMeta
  pubsub_messages_raw?: string[]
}
const golden = JSON.parse(
  readFileSync(new URL('../test/golden/results-redis-backend.json', import.meta.url), 'utf8'),
) as { results: Record<string, GoldenResult>; extended: Record<string, GoldenResult> }

const key = (id: string) => `celery-task-meta-${id}`

beforeAll(flushTestDb)

describe('writes', () => {
  it("stores in one round trip: Celery's SUCCESS check, SET with the expiry, PUBLISH on the key name", async () => {
    await using t = testBackend({ expires: 86400 })
    const id = randomUUID()
    await t.store.get('warm-up') // connects, so the capture holds only the store
    const cmds = await monitored(() => t.backend.storeResult(id, 9, 'SUCCESS'))
    // One script from the client (source 'lua' marks what it ran inside Redis): by its SHA, sent
    // in full only when Redis did not know it yet.
    const fromClient = cmds.filter((c) => c.source !== 'lua')
    expect([['evalsha'], ['evalsha', 'eval']]).toContainEqual(fromClient.map((c) => c.name))
    const inside = cmds.filter((c) => c.source === 'lua')
    expect(inside.map((c) => [c.name, ...c.args.slice(0, 1)])).toEqual([
      ['get', key(id)],
      ['set', key(id)],
      ['publish', key(id)],
    ])
    const set = inside.find((c) => c.name === 'set')!
    expect(set.args.slice(2)).toEqual(['PX', '86400000'])
    expect(inside.find((c) => c.name === 'publish')!.args[1]).toBe(set.args[1])
    await using raw = rawClient()
    expect(await raw.ttl(key(id))).toBeGreaterThan(86390)
  })

  it('stores the results of one tick in order, each sent again in full when Redis lost the script', async () => {
    await using t = testBackend({ expires: 60 })
    await using raw = rawClient()
    await t.store.get('warm-up')
    const ids = [randomUUID(), randomUUID(), randomUUID()]
    await raw.script('FLUSH') // as after a Redis restart: every EVALSHA gets NOSCRIPT
    const cmds = await monitored(async () => {
      await Promise.all(ids.map((id, i) => t.backend.storeResult(id, i, 'SUCCESS')))
    })
    const fromClient = cmds.filter((c) => c.source !== 'lua')
    expect(fromClient.map((c) => c.name)).toEqual(['evalsha', 'evalsha', 'evalsha', 'eval', 'eval', 'eval'])
    expect(fromClient.map((c) => c.args[2])).toEqual([...ids, ...ids].map(key))
    for (const [i, id] of ids.entries())
      expect(await t.backend.getTaskMeta(id)).toMatchObject({ status: 'SUCCESS', result: i })
  })

  it("writes a plain set as Celery's transaction: MULTI, SET (EX or PX), PUBLISH, EXEC", async () => {
    await using t = testBackend()
    await using raw = rawClient()
    await t.store.get('warm-up')
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()]
    const cmds = await monitored(async () => {
      await t.store.set(key(a), Buffer.from('va'), 30)
      await t.store.set(key(b), Buffer.from('vb'), 1.5)
      await t.store.set(key(c), Buffer.from('vc'), null)
    })
    expect(cmds.map((m) => [m.name, ...m.args])).toEqual([
      ['multi'],
      ['setex', key(a), '30', 'va'],
      ['publish', key(a), 'va'],
      ['exec'],
      ['multi'],
      ['set', key(b), 'vb', 'PX', '1500'],
      ['publish', key(b), 'vb'],
      ['exec'],
      ['multi'],
      ['set', key(c), 'vc'],
      ['publish', key(c), 'vc'],
      ['exec'],
    ])
    expect(await raw.get(key(a))).toBe('va')
    expect(await raw.ttl(key(a))).toBeGreaterThan(25)
    expect(await raw.pttl(key(b))).toBeLessThanOrEqual(1500)
    expect(await raw.ttl(key(c))).toBe(-1)
  })

  it('uses SET without expiry when results are kept for ever, PX for fractions of seconds', async () => {
    await using raw = rawClient()
    {
      await using t = testBackend({ expires: null })
      const id = randomUUID()
      await t.backend.storeResult(id, 1, 'SUCCESS')
      expect(await raw.ttl(key(id))).toBe(-1)
    }
    {
      await using t = testBackend({ expires: 2.5 })
      const id = randomUUID()
      await t.backend.storeResult(id, 1, 'SUCCESS')
      const pttl = await raw.pttl(key(id))
      expect(pttl).toBeGreaterThan(2000)
      expect(pttl).toBeLessThanOrEqual(2500)
    }
  })

  it('publishes the exact bytes it stores, seen by a plain subscriber', async () => {
    await using t = testBackend()
    await using sub = rawClient()
    const id = randomUUID()
    const messages: Array<[string, Buffer]> = []
    sub.on('messageBuffer', (ch: Buffer, msg: Buffer) => messages.push([ch.toString(), msg]))
    await sub.subscribe(key(id))
    await t.backend.storeResult(id, { pid: 1, hostname: 'w@h' }, 'STARTED')
    await t.backend.storeResult(id, 'done', 'SUCCESS')
    await using raw = rawClient()
    const stored = await raw.getBuffer(key(id))
    for (let i = 0; messages.length < 2 && i < 100; i++) await new Promise((r) => setTimeout(r, 10))
    expect(messages.map(([ch]) => ch)).toEqual([key(id), key(id)])
    expect(JSON.parse(messages[0]![1].toString()).status).toBe('STARTED')
    expect(messages[1]![1].equals(stored!)).toBe(true)
  })
})

describe('the meta, against Python Celery 5.2', () => {
  const cases = Object.entries(golden.results).filter(([, g]) => g.decoded.status)

  it.each(cases)('%s: same keys, same order, same values (date_done aside)', async (_name, g) => {
    await using t = testBackend()
    await using raw = rawClient()
    const m = g.decoded
    const id = randomUUID()
    await t.backend.storeResult(id, m.result, m.status, { traceback: m.traceback, children: m.children })
    const ours = JSON.parse((await raw.get(key(id)))!) as Record<string, unknown>
    expect(Object.keys(ours)).toEqual(Object.keys(m))
    expect({ ...ours, date_done: null }).toEqual({ ...m, task_id: id, date_done: null })
    expect(ours.date_done === null).toBe(m.date_done === null)
    // Python's isoformat leaves the fraction out when it is zero: a time on a whole second (1 in 1,000).
    if (m.date_done) expect(ours.date_done).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$/)
  })

  it('writes the extended fields in Celery order before task_id', async () => {
    await using t = testBackend({ extended: true })
    await using raw = rawClient()
    const g = golden.extended.success!.decoded
    const id = randomUUID()
    await t.backend.storeResult(id, 9, 'SUCCESS', {
      request: {
        id,
        task: 'proj.add',
        args: [2, 3],
        kwargs: { z: 4 },
        hostname: 'capture@golden',
        retries: 0,
        routingKey: 'celery',
      },
    })
    const ours = JSON.parse((await raw.get(key(id)))!) as Record<string, unknown>
    expect(Object.keys(ours)).toEqual(Object.keys(g))
    expect({ ...ours, date_done: null }).toEqual({ ...g, task_id: id, date_done: null })
  })

  it('adds group_id and parent_id when the request has them', async () => {
    await using t = testBackend()
    await using raw = rawClient()
    const id = randomUUID()
    await t.backend.storeResult(id, 1, 'SUCCESS', { request: { id, group: 'g1', parentId: 'p1' } })
    const ours = JSON.parse((await raw.get(key(id)))!) as Record<string, unknown>
    expect(Object.keys(ours)).toEqual([
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

  it('reads what Python wrote, byte for byte as captured', async () => {
    await using t = testBackend()
    await using raw = rawClient()
    for (const g of [...Object.values(golden.results), ...Object.values(golden.extended)]) {
      if (!g.redis_key) continue
      await raw.set(g.redis_key, g.raw_value, 'EX', 60)
      expect(await t.backend.getTaskMeta(g.decoded.task_id)).toEqual(g.decoded)
    }
  })
})

describe('state rules', () => {
  it('never overwrites a stored SUCCESS with a later state', async () => {
    await using t = testBackend()
    const id = randomUUID()
    await t.backend.storeResult(id, 'first', 'SUCCESS')
    await t.backend.storeResult(id, null, 'STARTED')
    await t.backend.storeResult(id, { exc_type: 'X', exc_message: [], exc_module: 'm' }, 'FAILURE')
    expect(await t.backend.getTaskMeta(id)).toMatchObject({ status: 'SUCCESS', result: 'first' })
  })

  it('reads PENDING for an unknown id, and again after forget()', async () => {
    await using t = testBackend()
    const id = randomUUID()
    expect((await t.backend.getTaskMeta(id)).status).toBe('PENDING')
    await t.backend.storeResult(id, 1, 'SUCCESS')
    await t.backend.forget(id)
    expect((await t.backend.getTaskMeta(id)).status).toBe('PENDING')
  })

  it('has the other primitives: mget, incr, expire, delete', async () => {
    await using t = testBackend()
    await using raw = rawClient()
    const k = `q-test-${randomUUID()}`
    expect(await t.store.incr(k)).toBe(1)
    expect(await t.store.incr(k)).toBe(2)
    await t.store.expire(k, 30)
    expect(await raw.ttl(k)).toBeGreaterThan(25)
    await t.store.expire(k, 0.5)
    expect(await raw.pttl(k)).toBeLessThanOrEqual(500)
    expect((await t.store.mget([k, `${k}-none`])).map((b) => b?.toString() ?? null)).toEqual(['2', null])
    expect(await t.store.mget([])).toEqual([])
    await t.store.delete(k)
    expect(await raw.exists(k)).toBe(0)
  })
})

describe('revoked ids', () => {
  it('round trip through a sorted set scored by expiry, and expire', async () => {
    await using t = testBackend({ transportOptions: { revokedKey: `q-revoked-${randomUUID()}` } })
    await using raw = rawClient()
    const setKey = (t.store as unknown as { revokedKey: string }).revokedKey
    await t.backend.saveRevoked(['long-1', 'long-2'], 60)
    await t.backend.saveRevoked(['short'], 0.3)
    expect((await t.backend.loadRevoked()).sort()).toEqual(['long-1', 'long-2', 'short'])
    const score = Number(await raw.zscore(setKey, 'long-1'))
    expect(score).toBeGreaterThan(Date.now() / 1000 + 55)
    // The set lives as long as its last member.
    expect(await raw.ttl(setKey)).toBeGreaterThan(55)
    await new Promise((r) => setTimeout(r, 400))
    expect((await t.backend.loadRevoked()).sort()).toEqual(['long-1', 'long-2'])
    // Expired members are pruned, not only hidden.
    expect(await raw.zcard(setKey)).toBe(2)
  })

  it('default to the q-revoked key', async () => {
    await using t = testBackend()
    await using raw = rawClient()
    const id = randomUUID()
    await t.backend.saveRevoked([id], 60)
    expect(await raw.zscore('q-revoked', id)).not.toBeNull()
  })
})
