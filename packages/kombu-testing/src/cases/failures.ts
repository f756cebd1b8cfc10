/** Failures a consumer or producer must survive: undecodable bodies, the accept list, unroutable messages. */
import {
  ContentDisallowedError,
  DecodeError,
  type Message,
  Producer,
  type SerializationError,
  UnroutableError,
} from '@q/kombu'
import { expect, vi } from 'vitest'
import { eventually } from '../inbox.js'
import type { Kit } from '../kit.js'
import type { Suite } from '../suite.js'

/** Publishes a body with an unknown content type, a corrupt JSON body, then a good one. */
async function publishBadThenGood(kit: Kit, queue: string): Promise<void> {
  const conn = await kit.connect()
  await kit.publishTo(conn, queue, 'whatever', { contentType: 'application/x-no-such-type' })
  await kit.publishTo(conn, queue, '{"broken": [1, 2', {
    contentType: 'application/json',
    contentEncoding: 'utf-8',
  })
  await kit.publishTo(conn, queue, { good: true }, { serializer: 'json' })
}

/** Cases of the "failures" group. */
export function failureCases(suite: Suite): void {
  suite.test('decode errors: undecodable messages are rejected and the consumer goes on', async (kit) => {
    const conn = await kit.connect()
    const queue = kit.queue('q')
    // The default handling logs each failure: capture it rather than print it.
    const logged = vi.spyOn(conn.logger, 'error').mockImplementation(() => {})
    try {
      const inbox = kit.inbox({ ack: true })
      const consumer = await kit.consume(conn, { queues: queue, onMessage: inbox.onMessage })
      await publishBadThenGood(kit, queue.name)
      const [good] = await inbox.collect(1)
      expect(good!.body).toEqual({ good: true })
      await consumer.drain()
      expect(logged).toHaveBeenCalledTimes(2)
      // Rejected, not left unacknowledged: closing the consumer put nothing back.
      expect(await kit.size(conn, queue.name)).toBe(0)
    } finally {
      logged.mockRestore()
    }
  })

  suite.test('decode errors: onDecodeError gets each undecodable message with a DecodeError', async (kit) => {
    const conn = await kit.connect()
    const queue = kit.queue('q')
    const failures: Array<{ message: Message<Buffer>; error: SerializationError }> = []
    const inbox = kit.inbox({ ack: true })
    const consumer = await kit.consume(conn, {
      queues: queue,
      onMessage: inbox.onMessage,
      onDecodeError: async (message, error) => {
        failures.push({ message, error })
        await message.reject()
      },
    })
    await publishBadThenGood(kit, queue.name)
    await inbox.collect(1)
    expect(inbox.bodies).toEqual([{ good: true }])
    await eventually(() => failures.length, 2, { timeout: kit.ms(2000), what: 'onDecodeError calls' })
    expect(failures.map((f) => f.error)).toEqual([expect.any(DecodeError), expect.any(DecodeError)])
    expect(failures.map((f) => f.message.contentType)).toEqual([
      'application/x-no-such-type',
      'application/json',
    ])
    expect(failures[0]!.message.rawBody.toString('utf8')).toBe('whatever')
    expect(failures[1]!.message.rawBody.toString('utf8')).toBe('{"broken": [1, 2')
    await consumer.drain()
    expect(await kit.size(conn, queue.name)).toBe(0)
  })

  suite.test(
    'accept: a message outside the accept list goes to onDecodeError with ContentDisallowedError',
    async (kit) => {
      const conn = await kit.connect()
      const queue = kit.queue('q')
      const failures: Array<{ message: Message<Buffer>; error: SerializationError }> = []
      const inbox = kit.inbox({ ack: true })
      const consumer = await kit.consume(conn, {
        queues: queue,
        accept: ['json'],
        onMessage: inbox.onMessage,
        onDecodeError: async (message, error) => {
          failures.push({ message, error })
          await message.reject()
        },
      })
      await kit.publishTo(conn, queue.name, { packed: 1 }, { serializer: 'msgpack' })
      await kit.publishTo(conn, queue.name, { plain: 2 }, { serializer: 'json' })
      await inbox.collect(1)
      expect(inbox.bodies).toEqual([{ plain: 2 }])
      expect(failures).toHaveLength(1)
      expect(failures[0]!.error).toBeInstanceOf(ContentDisallowedError)
      expect(failures[0]!.message.contentType).toBe('application/x-msgpack')
      await consumer.drain()
      expect(await kit.size(conn, queue.name)).toBe(0)
    },
  )

  suite.test('mandatory: a message no queue receives fails with UnroutableError', async (kit) => {
    const conn = await kit.connect()
    const exchange = kit.exchange('ex', { type: 'direct' })
    const queue = kit.queue('q', { exchange, routingKey: 'bound' })
    const channel = await conn.channel()
    await channel.declareExchange(exchange)
    const producer = new Producer(conn, { exchange })
    const confirm = suite.caps.publisherConfirms
    // No queue bound at all.
    await expect(
      producer.publish('lost', { routingKey: 'bound', mandatory: true, confirm }),
    ).rejects.toBeInstanceOf(UnroutableError)
    // A bound queue, but another routing key.
    await channel.declareQueue(queue)
    await channel.bindQueue(queue.name, exchange.name, 'bound')
    await expect(
      producer.publish('lost', { routingKey: 'elsewhere', mandatory: true, confirm }),
    ).rejects.toBeInstanceOf(UnroutableError)
    // Without mandatory, the same message is dropped quietly; a routable one goes through.
    await producer.publish('dropped', { routingKey: 'elsewhere', confirm })
    await producer.publish('kept', { routingKey: 'bound', mandatory: true, confirm })
    await eventually(() => kit.size(conn, queue.name), 1, { timeout: kit.ms(2000), what: 'queue size' })
  })
}
