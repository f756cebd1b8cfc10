/** Consumers: several queues, competing consumers, cancel, no-ack, and handlers that throw. */
import type { Message } from '@q/kombu'
import { expect, vi } from 'vitest'
import { eventually } from '../inbox.js'
import type { Suite } from '../suite.js'
import { filled, remaining } from './acks.js'

/** Cases of the "consumers" group. */
export function consumerCases(suite: Suite): void {
  suite.test('a consumer of several queues receives from each', async (kit) => {
    const conn = await kit.connect()
    const queues = [kit.queue('one'), kit.queue('two'), kit.queue('three')]
    const inbox = kit.inbox<string>({ ack: true })
    await kit.consume(conn, { queues, onMessage: inbox.onMessage })
    for (const q of queues) for (const i of [1, 2]) await kit.publishTo(conn, q.name, `${q.name}#${i}`)
    const got = await inbox.collect(6)
    expect(got.map((m) => m.body).sort()).toEqual(
      queues.flatMap((q) => [`${q.name}#1`, `${q.name}#2`]).sort(),
    )
    for (const q of queues) {
      const from = got.filter((m) => m.deliveryInfo.routingKey === q.name).map((m) => m.body)
      expect(from, `order within queue ${q.name}`).toEqual([`${q.name}#1`, `${q.name}#2`])
    }
  })

  suite.test('competing consumers share a queue: each message goes to exactly one', async (kit) => {
    const queue = kit.queue('q')
    const [a, b] = [kit.inbox<number>({ ack: true }), kit.inbox<number>({ ack: true })]
    await kit.consume(await kit.connect(), { queues: queue, prefetchCount: 1, onMessage: a.onMessage })
    const conn = await kit.connect()
    await kit.consume(conn, { queues: queue, prefetchCount: 1, onMessage: b.onMessage })
    const total = 50
    for (let i = 0; i < total; i++) await kit.publishTo(conn, queue.name, i)
    await eventually(() => a.messages.length + b.messages.length, total, {
      timeout: kit.ms(5000),
      what: 'deliveries',
    })
    const all = [...a.bodies, ...b.bodies].sort((x, y) => x - y)
    expect(all).toEqual(Array.from({ length: total }, (_, i) => i))
  })

  suite.test('cancel: a cancelled consumer receives nothing more', async (kit) => {
    const conn = await kit.connect()
    const queue = kit.queue('q')
    const inbox = kit.inbox({ ack: true })
    const consumer = await kit.consume(conn, { queues: queue, onMessage: inbox.onMessage })
    await kit.publishTo(conn, queue.name, 'before')
    await inbox.collect(1)
    await consumer.cancel()
    await kit.publishTo(conn, queue.name, 'after')
    // The message stays ready: nobody takes it.
    await eventually(() => kit.size(conn, queue.name), 1, { timeout: kit.ms(2000), what: 'queue size' })
    expect(inbox.bodies).toEqual(['before'])
    expect(await remaining(kit, queue)).toEqual([{ body: 'after', redelivered: false }])
    expect(inbox.bodies).toEqual(['before'])
  })

  suite.test('noAck: messages need no acknowledgement and are gone once delivered', async (kit) => {
    const conn = await kit.connect()
    const queue = await filled(kit, conn, 3)
    const inbox = kit.inbox<number>()
    const consumer = await kit.consume(conn, {
      queues: queue,
      noAck: true,
      prefetchCount: 1,
      onMessage: inbox.onMessage,
    })
    // Prefetch does not hold back unacknowledged deliveries when there are no acks.
    const got = await inbox.collect(3)
    expect(got.map((m) => m.body)).toEqual([0, 1, 2])
    await got[0]!.ack()
    await consumer.close()
    expect(await kit.size(conn, queue.name)).toBe(0)
    expect(await remaining(kit, queue)).toEqual([])
  })

  suite.test('a handler that throws: the message is rejected and the consumer goes on', async (kit) => {
    const conn = await kit.connect()
    const queue = kit.queue('q')
    const logged = vi.spyOn(conn.logger, 'error').mockImplementation(() => {})
    try {
      const inbox = kit.inbox<string>({ ack: true })
      const consumer = await kit.consume<string>(conn, {
        queues: queue,
        onMessage: (body, message) => {
          if (body === 'bad') throw new Error('handler failure')
          inbox.onMessage(body, message)
        },
      })
      await kit.publishTo(conn, queue.name, 'bad')
      await kit.publishTo(conn, queue.name, 'good')
      await inbox.collect(1)
      expect(inbox.bodies).toEqual(['good'])
      await consumer.drain()
      expect(logged).toHaveBeenCalledTimes(1)
      expect(await kit.size(conn, queue.name)).toBe(0)
    } finally {
      logged.mockRestore()
    }
  })

  suite.test('a handler that throws: onError gets the error and the message', async (kit) => {
    const conn = await kit.connect()
    const queue = kit.queue('q')
    const errors: Array<{ error: unknown; message: Message<string> }> = []
    const inbox = kit.inbox<string>({ ack: true })
    await kit.consume<string>(conn, {
      queues: queue,
      onMessage: async (body, message) => {
        if (body === 'bad') throw new Error('async handler failure')
        inbox.onMessage(body, message)
      },
      onError: async (error, message) => {
        errors.push({ error, message })
        await message.reject()
      },
    })
    await kit.publishTo(conn, queue.name, 'bad')
    await kit.publishTo(conn, queue.name, 'good')
    await inbox.collect(1)
    await eventually(() => errors.length, 1, { timeout: kit.ms(2000), what: 'onError calls' })
    expect((errors[0]!.error as Error).message).toBe('async handler failure')
    expect(errors[0]!.message.body).toBe('bad')
    expect(errors[0]!.message.state).toBe('REJECTED')
  })
}
