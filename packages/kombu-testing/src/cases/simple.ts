/** SimpleQueue: put, get, qsize and clear over the transport. */
import { ClosedError, QueueEmptyError, SimpleQueue } from '@q/kombu'
import { expect } from 'vitest'
import { eventually } from '../inbox.js'
import type { Kit } from '../kit.js'
import type { Suite } from '../suite.js'

/** A SimpleQueue on a new connection; its queue and exchange (same name) are deleted with the test. */
async function simpleQueue<T>(kit: Kit, label: string): Promise<SimpleQueue<T>> {
  const conn = await kit.connect()
  const name = kit.name(label)
  kit.track({ queue: name, exchange: name })
  return new SimpleQueue<T>(conn, name)
}

/** Cases of the "SimpleQueue" group. */
export function simpleQueueCases(suite: Suite): void {
  suite.test('SimpleQueue: put, get in order, and qsize', async (kit) => {
    await using sq = await simpleQueue<string>(kit, 'simple')
    for (const body of ['a', 'b', 'c']) await sq.put(body)
    await eventually(() => sq.qsize(), 3, { timeout: kit.ms(2000), what: 'qsize' })
    const got: string[] = []
    for (let i = 0; i < 3; i++) {
      const m = await sq.get({ timeout: kit.ms(2000) })
      got.push(m.body)
      await m.ack()
    }
    expect(got).toEqual(['a', 'b', 'c'])
    expect(await sq.qsize()).toBe(0)
  })

  suite.test('SimpleQueue: clear removes the ready messages and returns how many', async (kit) => {
    await using sq = await simpleQueue<number>(kit, 'simple')
    for (const body of [1, 2, 3]) await sq.put(body)
    await eventually(() => sq.qsize(), 3, { timeout: kit.ms(2000), what: 'qsize' })
    expect(await sq.clear()).toBe(3)
    expect(await sq.qsize()).toBe(0)
    await sq.put(4)
    const m = await sq.get({ timeout: kit.ms(2000) })
    expect(m.body).toBe(4)
    await m.ack()
  })

  suite.test('SimpleQueue: get with a timeout throws QueueEmptyError when nothing comes', async (kit) => {
    await using sq = await simpleQueue<string>(kit, 'simple')
    const started = Date.now()
    await expect(sq.get({ timeout: 100 })).rejects.toBeInstanceOf(QueueEmptyError)
    expect(Date.now() - started).toBeGreaterThanOrEqual(90)
    // The timed-out wait left nothing behind: the next message goes to the next get.
    await sq.put('later')
    const m = await sq.get({ timeout: kit.ms(2000) })
    expect(m.body).toBe('later')
    await m.ack()
  })

  suite.test(
    'SimpleQueue: getNowait throws QueueEmptyError on an empty queue, else returns the next',
    async (kit) => {
      await using sq = await simpleQueue<string>(kit, 'simple')
      await expect(sq.getNowait()).rejects.toBeInstanceOf(QueueEmptyError)
      await sq.put('ready')
      const m = await eventually(async () => (await sq.getNowait().catch(() => undefined))?.body, 'ready', {
        timeout: kit.ms(2000),
        what: 'getNowait body',
      })
      expect(m).toBe('ready')
    },
  )

  suite.test('SimpleQueue: close() rejects a pending get with ClosedError', async (kit) => {
    const sq = await simpleQueue<string>(kit, 'simple')
    // The expectation is attached before closing, so the rejection is never unhandled.
    const pending = expect(sq.get()).rejects.toBeInstanceOf(ClosedError)
    // Let get() start its consumer and wait before closing under it.
    await expect(sq.qsize()).resolves.toBe(0)
    await sq.close()
    await pending
    await expect(sq.get({ timeout: 100 })).rejects.toBeInstanceOf(ClosedError)
  })
}
