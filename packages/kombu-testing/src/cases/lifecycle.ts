/** Closing: idempotent close, and `await using` disposal of connections and consumers. */
import { ClosedError, type Connection, Consumer } from '@q/kombu'
import { expect } from 'vitest'
import type { Suite } from '../suite.js'

/** Cases of the "lifecycle" group. */
export function lifecycleCases(suite: Suite): void {
  suite.test('Connection.close() is idempotent', async (kit) => {
    const conn = await kit.connect()
    const queue = kit.queue('q')
    const inbox = kit.inbox({ ack: true })
    await kit.consume(conn, { queues: queue, onMessage: inbox.onMessage })
    await kit.publishTo(conn, queue.name, 'hello')
    await inbox.collect(1)
    const first = conn.close()
    const second = conn.close()
    await Promise.all([first, second])
    await conn.close()
    expect(conn.state).toBe('closed')
    await expect(conn.closed()).resolves.toBeUndefined()
    await expect(conn.channel()).rejects.toBeInstanceOf(ClosedError)
    await expect(kit.publishTo(conn, queue.name, 'too late')).rejects.toBeInstanceOf(ClosedError)
  })

  suite.test('await using closes the consumer and the connection, requeueing what was held', async (kit) => {
    const queue = kit.queue('q')
    let disposed: Connection | undefined
    {
      await using conn = await kit.connect()
      disposed = conn
      const inbox = kit.inbox()
      await using consumer = await new Consumer(conn, { queues: queue, onMessage: inbox.onMessage }).consume()
      await kit.publishTo(conn, queue.name, 'held')
      await inbox.collect(1)
      expect(consumer.inFlight).toBe(0)
      expect(conn.state).toBe('connected')
    }
    expect(disposed.state).toBe('closed')
    const conn = await kit.connect()
    const inbox = kit.inbox({ ack: true })
    await kit.consume(conn, { queues: queue, onMessage: inbox.onMessage })
    const [m] = await inbox.collect(1)
    expect(m!.body).toBe('held')
    expect(m!.redelivered).toBe(true)
  })
}
