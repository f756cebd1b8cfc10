/**
 * Subscribing when the task is sent (`onTaskCall`, once the backend has waited for a result), on a
 * real Redis: the SUBSCRIBE leaves at once (before the task would), the result is pushed with no
 * GET, UNSUBSCRIBEs of several results leave together, and a stored SUCCESS written again is
 * published again (for waiters that read nothing).
 */
import { randomUUID } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { flushTestDb, monitored, rawClient, type TestBackend, testBackend } from '../test/redis-env.js'

const key = (id: string) => `celery-task-meta-${id}`

async function until(condition: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** Has `waiter` wait for one result `writer` stores. */
async function waitOnce(waiter: TestBackend, writer: TestBackend): Promise<void> {
  const id = randomUUID()
  await writer.backend.storeResult(id, 0, 'SUCCESS')
  await waiter.backend.waitForReady(id, { timeout: 2000 })
}

beforeAll(flushTestDb)

describe('onTaskCall', () => {
  it('subscribes ahead of the task; the result is pushed without a GET', async () => {
    await using waiter = testBackend()
    await using writer = testBackend()
    await using raw = rawClient()
    // Early subscriptions start once the backend has waited; that also connects the subscriber
    // connection (a SUBSCRIBE is in place at once only on a live one).
    await waitOnce(waiter, writer)
    const ids = [randomUUID(), randomUUID(), randomUUID()]
    const commands = await monitored(async () => {
      for (const id of ids) {
        waiter.backend.onTaskCall(id)
        // The SUBSCRIBE is on the socket now: a result stored right after is not missed.
        await writer.backend.storeResult(id, id.slice(0, 4), 'SUCCESS')
        expect((await waiter.backend.waitForReady(id, { timeout: 2000 })).result).toBe(id.slice(0, 4))
      }
      await until(async () => (await raw.pubsub('NUMSUB', key(ids[2]!)))[1] === 0, 1000, 'the UNSUBSCRIBEs')
    })
    const onKeys = commands.filter((c) => c.source !== 'lua' && ids.some((id) => c.args.includes(key(id))))
    expect(onKeys.filter((c) => c.name === 'get')).toEqual([])
    expect(onKeys.filter((c) => c.name === 'subscribe')).toHaveLength(3)
    // The unsubscribes linger a little and leave together.
    expect(onKeys.filter((c) => c.name === 'unsubscribe').length).toBeLessThan(3)
  })

  it('publishes a stored SUCCESS again when a write is refused', async () => {
    await using waiter = testBackend()
    await using writer = testBackend()
    await waitOnce(waiter, writer)
    const id = randomUUID()
    await writer.backend.storeResult(id, 'first', 'SUCCESS')
    waiter.backend.onTaskCall(id)
    await until(() => waiter.store.subscriptions === 1, 2000, 'the subscription')
    const pending = waiter.backend.waitForReady(id, { timeout: 2000 })
    // A redelivered duplicate runs again: SUCCESS is final, and the waiter learns it at once.
    await writer.backend.storeResult(id, 'second', 'SUCCESS')
    expect((await pending).result).toBe('first')
  })
})
