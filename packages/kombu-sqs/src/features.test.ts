/**
 * SQS-specific behaviour on fauxqs: refused exchange types, requeue, predefined queues, lease
 * renewal while a message is held, expired receipt handles (kombu#1391) and the size limit.
 */
import { GetQueueUrlCommand, PurgeQueueCommand } from '@aws-sdk/client-sqs'
import {
  ChannelError,
  Consumer,
  Exchange,
  LimitExceededError,
  type Message,
  NotSupportedError,
  Producer,
  Queue,
} from '@q/kombu'
import { afterAll, describe, expect, it } from 'vitest'
import { recordCalls, recordingLogger, startEmulator } from './test-support/fauxqs.js'
import { sqsCapabilities } from './transport.js'

const sqs = await startEmulator()
afterAll(() => sqs.stop())

/** Starts a consumer whose messages are pushed to the returned array; `next()` waits for one more. */
async function collect(conn: ReturnType<typeof sqs.connection>, queue: Queue, prefetchCount = 0) {
  const got: Message[] = []
  let wake: (() => void) | undefined
  const consumer = await new Consumer(conn, {
    queues: queue,
    prefetchCount,
    onMessage: (_b, m) => {
      got.push(m)
      wake?.()
    },
  }).consume()
  const next = async (n = got.length + 1, timeout = 3000) => {
    const deadline = Date.now() + timeout
    while (got.length < n) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for message ${n}; have ${got.length}`)
      await new Promise<void>((r) => {
        wake = r
        setTimeout(r, 50)
      })
    }
    return got[n - 1]!
  }
  return { got, next, consumer }
}

describe('capabilities and exchange types', () => {
  it('says what SQS can do', () => {
    expect(sqsCapabilities).toEqual({
      exchangeTypes: ['direct'],
      fanout: false,
      priority: 'none',
      ttl: false,
      delayedDelivery: true,
      publisherConfirms: true,
      acknowledgements: true,
      deadLettering: true,
    })
  })

  it('refuses fanout, topic and headers exchanges with a NotSupportedError naming the limit', async () => {
    await using conn = sqs.connection({ queueNamePrefix: 'x1-' })
    const channel = await conn.channel()
    for (const type of ['fanout', 'topic', 'headers'] as const) {
      const err = await channel.declareExchange(new Exchange(`ev-${type}`, { type })).catch((e) => e)
      expect(err).toBeInstanceOf(NotSupportedError)
      expect(err.message).toMatch(/^SQS has no fanout: exchange 'ev-.*' is (fanout|topic|headers)/)
      expect(err.message).toMatch(/second transport/)
    }
    // A Producer declares its exchange first: refused before anything is sent.
    const producer = new Producer(conn, { exchange: new Exchange('celeryev', { type: 'topic' }) })
    await expect(producer.publish({ event: 1 }, { routingKey: 'worker.heartbeat' })).rejects.toBeInstanceOf(
      NotSupportedError,
    )
    // Direct exchanges route through the connection's binding table.
    await channel.declareExchange(new Exchange('tasks', { type: 'direct' }))
    await channel.declareQueue(new Queue('work'))
    await channel.bindQueue('work', 'tasks', 'work')
    await channel.publish(
      {
        body: Buffer.from('x'),
        contentType: 'text/plain',
        contentEncoding: 'utf-8',
        headers: {},
        properties: {},
      },
      'tasks',
      'work',
      { confirm: true },
    )
    expect((await channel.declareQueue(new Queue('work'), { passive: true })).messageCount).toBe(1)
  })
})

describe('acknowledgements', () => {
  it('requeue makes the message visible again (ChangeMessageVisibility 0), flagged redelivered', async () => {
    const client = sqs.client()
    const calls = recordCalls(client)
    await using conn = sqs.connection({ queueNamePrefix: 'x2-', client })
    const queue = new Queue('rq')
    const { next } = await collect(conn, queue)
    await new Producer(conn).publish('once', { exchange: '', routingKey: 'rq' })
    const first = await next(1)
    expect(first.redelivered).toBe(false)
    await first.requeue()
    const second = await next(2)
    expect([second.body, second.redelivered]).toEqual(['once', true])
    await second.ack()
    expect(
      calls.filter(([a]) => a === 'ChangeMessageVisibilityBatch').map(([, p]) => p.Entries),
    ).toContainEqual([expect.objectContaining({ VisibilityTimeout: 0 })])
  })

  it('renews the visibility of a held message, so nobody else gets it meanwhile', async () => {
    const client = sqs.client()
    const calls = recordCalls(client)
    await using holder = sqs.connection({ queueNamePrefix: 'x3-', client, visibilityTimeout: 1 })
    await using other = sqs.connection({ queueNamePrefix: 'x3-', visibilityTimeout: 1 })
    const queue = new Queue('long')
    const held = await collect(holder, queue)
    await new Producer(holder).publish('slow task', { exchange: '', routingKey: 'long' })
    const m = await held.next(1)
    const rival = await collect(other, queue)
    // Three visibility timeouts pass while the message is held.
    await new Promise((r) => setTimeout(r, 3000))
    expect(rival.got).toHaveLength(0)
    const renewals = calls
      .filter(([a]) => a === 'ChangeMessageVisibilityBatch')
      .flatMap(([, p]) => p.Entries as object[])
    expect(renewals.length).toBeGreaterThanOrEqual(3)
    expect(renewals).toContainEqual(expect.objectContaining({ VisibilityTimeout: 1 }))
    await m.ack()
    await rival.consumer.close()
  }, 10_000)

  it('an expired receipt handle is logged, not thrown (kombu#1391)', async () => {
    const logger = recordingLogger()
    await using conn = sqs.connection({ queueNamePrefix: 'x4-' }, { logger })
    const queue = new Queue('exp')
    const { next } = await collect(conn, queue)
    await new Producer(conn).publish('m', { exchange: '', routingKey: 'exp' })
    const m = await next(1)
    // Purging drops the in-flight message: its receipt handle is no longer valid.
    const raw = sqs.client()
    await raw.send(new PurgeQueueCommand({ QueueUrl: await urlOf('x4-exp') }))
    await expect(m.requeue()).resolves.toBeUndefined()
    await conn.close()
    expect(logger.lines.join('\n')).toMatch(
      /warn cannot requeue .* receipt handle has expired \(ReceiptHandleIsInvalid\)/,
    )
  })

  it('a DeleteMessageBatch entry failing on an expired handle is logged, not thrown', async () => {
    const logger = recordingLogger()
    const client = sqs.client()
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== 'DeleteMessageBatchCommand') return next(args)
        const entries = (args.input as { Entries: Array<{ Id: string }> }).Entries
        const failed = entries.map((e) => ({
          Id: e.Id,
          SenderFault: true,
          Code: 'ReceiptHandleIsInvalid',
          Message: 'The receipt handle has expired.',
        }))
        return { output: { Successful: [], Failed: failed, $metadata: {} }, response: {} }
      },
      { step: 'initialize', name: 'fake-expired-delete' },
    )
    await using conn = sqs.connection({ queueNamePrefix: 'x5-', client }, { logger })
    const { next } = await collect(conn, new Queue('del'))
    await new Producer(conn).publish('m', { exchange: '', routingKey: 'del' })
    await expect((await next(1)).ack()).resolves.toBeUndefined()
    await conn.close()
    expect(logger.lines.join('\n')).toMatch(
      /warn cannot acknowledge \(DeleteMessage\) message .* has expired/,
    )
  })
})

describe('queues', () => {
  it('predefinedQueues: queues used by URL, with no ListQueues, GetQueueUrl or CreateQueue', async () => {
    const { queueUrl } = sqs.server.createQueue('pd-orders')
    const client = sqs.client()
    const calls = recordCalls(client)
    await using conn = sqs.connection({ client, predefinedQueues: { 'pd-orders': { url: queueUrl } } })
    const queue = new Queue('pd.orders', { exchange: new Exchange('shop'), routingKey: 'order' })
    const { next } = await collect(conn, queue)
    await new Producer(conn, { exchange: 'shop' }).publish({ id: 1 }, { routingKey: 'order' })
    const m = await next(1)
    expect(m.body).toEqual({ id: 1 })
    await m.ack()
    const actions = new Set(calls.map(([a]) => a))
    for (const a of ['ListQueues', 'GetQueueUrl', 'CreateQueue']) expect(actions.has(a)).toBe(false)
    const channel = await conn.channel()
    await expect(channel.declareQueue(new Queue('not.defined'))).rejects.toThrow(
      /NOT_FOUND - queue 'not-defined' must be defined in predefinedQueues/,
    )
    await expect(channel.declareQueue(new Queue('not.defined'))).rejects.toBeInstanceOf(ChannelError)
  })

  it('refuses a message larger than SQS takes with LimitExceededError', async () => {
    await using conn = sqs.connection({ queueNamePrefix: 'x6-' })
    await (await conn.channel()).declareQueue(new Queue('big'))
    const big = Buffer.alloc(700 * 1024, 1)
    await expect(new Producer(conn).publish(big, { exchange: '', routingKey: 'big' })).rejects.toBeInstanceOf(
      LimitExceededError,
    )
  })
})

async function urlOf(physical: string): Promise<string> {
  return (await sqs.client().send(new GetQueueUrlCommand({ QueueName: physical }))).QueueUrl!
}

describe('publishing', () => {
  it('sends unconfirmed publishes in order, batched, and a confirmed one once SQS has it', async () => {
    const client = sqs.client()
    const calls = recordCalls(client)
    await using conn = sqs.connection({ queueNamePrefix: 'x7-', client })
    const queue = new Queue('batch')
    await (await conn.channel()).declareQueue(queue)
    const producer = new Producer(conn)
    for (let i = 0; i < 25; i++) await producer.publish(i, { exchange: '', routingKey: 'batch' })
    await producer.publish('last', { exchange: '', routingKey: 'batch', confirm: true })
    const batches = calls
      .filter(([a]) => a === 'SendMessageBatch')
      .map(([, p]) => (p.Entries as object[]).length)
    expect(batches.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(25)
    expect(Math.max(...batches)).toBe(10)
    const { next, got } = await collect(conn, queue, 100)
    expect((await next(26)).body).toBe('last')
    expect(got.map((m) => m.body)).toEqual([...Array.from({ length: 25 }, (_, i) => i), 'last'])
    for (const m of got) await m.ack()
  })

  it('a confirmed publish fails with the refusal of SQS; the next one goes on', async () => {
    await using conn = sqs.connection({ queueNamePrefix: 'x8-' })
    const channel = await conn.channel()
    await channel.declareQueue(new Queue('gone'))
    // Deleted behind the connection's back: its cached URL is stale.
    sqs.server.deleteQueue('x8-gone')
    const message = {
      body: Buffer.from('x'),
      contentType: 'text/plain',
      contentEncoding: 'utf-8',
      headers: {},
      properties: {},
    }
    await expect(channel.publish(message, '', 'gone', { confirm: true })).rejects.toThrow(
      /NOT_FOUND - no queue 'gone'/,
    )
    // Forgotten: the next publish looks the queue up again and drops it as AMQP does, unrouted.
    await expect(channel.publish(message, '', 'gone', { confirm: true, mandatory: true })).rejects.toThrow(
      /NO_ROUTE/,
    )
  })
})
