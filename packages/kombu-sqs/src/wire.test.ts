/**
 * What crosses the wire, read and written with the raw @aws-sdk/client-sqs on fauxqs: our
 * transport publishes and a plain SQS client checks the exact Kombu envelope; a plain client
 * sends what Kombu sends and our consumers read it.
 */
import {
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs'
import { type Connection, Consumer, type Message, Producer, Queue } from '@q/kombu'
import { afterAll, describe, expect, it } from 'vitest'
import { pyDumps } from './envelope.js'
import { startEmulator } from './test-support/fauxqs.js'
import { goldenCase } from './test-support/golden.js'

const sqs = await startEmulator()
afterAll(() => sqs.stop())
const raw = sqs.client()

async function urlOf(client: SQSClient, physical: string): Promise<string> {
  return (await client.send(new GetQueueUrlCommand({ QueueName: physical }))).QueueUrl!
}

async function rawReceive(client: SQSClient, physical: string) {
  const QueueUrl = await urlOf(client, physical)
  const { Messages } = await client.send(
    new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }),
  )
  return Messages ?? []
}

/** Consumes `queue` until one message arrives; acks it and stops consuming. */
async function consumeOne(conn: Connection, queue: Queue): Promise<Message> {
  let got!: (m: Message) => void
  const arrived = new Promise<Message>((r) => (got = r))
  const consumer = await new Consumer(conn, {
    queues: queue,
    prefetchCount: 1,
    onMessage: async (_body, message) => {
      await message.ack()
      got(message)
    },
  }).consume()
  const m = await arrived
  await consumer.close()
  return m
}

describe('the Kombu envelope on the wire', () => {
  it('publishes base64 of the exact Kombu JSON envelope, read back with a raw SQS client', async () => {
    await using conn = sqs.connection({ queueNamePrefix: 'w1-' })
    const queue = new Queue('celery.tasks')
    await (await conn.channel()).declareQueue(queue)
    await new Producer(conn).publish(
      [[2, 3], { z: 4 }, { callbacks: null, errbacks: null, chain: null, chord: null }],
      {
        exchange: '',
        routingKey: 'celery.tasks',
        headers: {
          lang: 'py',
          task: 'proj.add',
          id: 'abc',
          retries: 0,
          timelimit: [null, null],
          argsrepr: '(2, 3)',
        },
        correlationId: 'abc',
        replyTo: 'reply-1',
      },
    )
    const messages = await rawReceive(raw, 'w1-celery-tasks')
    expect(messages).toHaveLength(1)
    const body = messages[0]!.Body!
    const text = Buffer.from(body, 'base64').toString('utf8')
    expect(Buffer.from(text, 'utf8').toString('base64')).toBe(body)
    const env = JSON.parse(text)
    // Python's json.dumps layout, byte for byte.
    expect(text).toBe(pyDumps(env))
    expect(text).toMatch(
      /^\{"body": "[A-Za-z0-9+/=]+", "content-encoding": "utf-8", "content-type": "application\/json", "headers": \{"lang": "py", /,
    )
    expect(Object.keys(env)).toEqual(['body', 'content-encoding', 'content-type', 'headers', 'properties'])
    expect(env.headers).toEqual({
      lang: 'py',
      task: 'proj.add',
      id: 'abc',
      retries: 0,
      timelimit: [null, null],
      argsrepr: '(2, 3)',
    })
    expect(Object.keys(env.properties)).toEqual([
      'correlation_id',
      'reply_to',
      'delivery_mode',
      'delivery_info',
      'priority',
      'body_encoding',
      'delivery_tag',
    ])
    expect(env.properties).toEqual({
      correlation_id: 'abc',
      reply_to: 'reply-1',
      delivery_mode: 2,
      delivery_info: { exchange: '', routing_key: 'celery.tasks' },
      priority: 0,
      body_encoding: 'base64',
      delivery_tag: expect.stringMatching(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      ),
    })
    expect(JSON.parse(Buffer.from(env.body, 'base64').toString('utf8'))).toEqual([
      [2, 3],
      { z: 4 },
      { callbacks: null, errbacks: null, chain: null, chord: null },
    ])
  })

  it('with sqsBase64Encoding false, MessageBody is the JSON envelope itself', async () => {
    await using conn = sqs.connection({ queueNamePrefix: 'w2-', sqsBase64Encoding: false })
    const queue = new Queue('plain')
    await (await conn.channel()).declareQueue(queue)
    await new Producer(conn).publish({ n: 1 }, { exchange: '', routingKey: 'plain' })
    const messages = await rawReceive(raw, 'w2-plain')
    const env = JSON.parse(messages[0]!.Body!)
    expect(env.properties.delivery_info).toEqual({ exchange: '', routing_key: 'plain' })
    expect(Buffer.from(env.body, 'base64').toString()).toBe('{"n":1}')
  })

  it('reads what Kombu sent (the golden MessageBody, base64 and plain)', async () => {
    await using conn = sqs.connection({ queueNamePrefix: 'w3-' })
    const queue = new Queue('celery')
    await (await conn.channel()).declareQueue(queue)
    const url = await urlOf(raw, 'w3-celery')
    for (const label of ['default', 'sqs_base64_encoding=False']) {
      const sent = goldenCase(label).send_message_decoded[0]!
      await raw.send(new SendMessageCommand({ QueueUrl: url, MessageBody: sent.MessageBody }))
      const m = await consumeOne(conn, queue)
      expect(m.headers.task).toBe('proj.add')
      expect(m.body).toEqual(
        sent.decoded.envelope.body
          ? JSON.parse(Buffer.from(sent.decoded.envelope.body, 'base64').toString())
          : undefined,
      )
      expect(m.properties).toMatchObject({
        correlationId: sent.decoded.envelope.properties.correlation_id,
        deliveryMode: 2,
      })
      expect(m.deliveryInfo).toMatchObject({ exchange: '', routingKey: 'celery', redelivered: false })
    }
  })

  it('delivers a message from a non-Kombu producer as raw bytes', async () => {
    await using conn = sqs.connection({ queueNamePrefix: 'w4-' })
    const queue = new Queue('foreign')
    await (await conn.channel()).declareQueue(queue)
    const url = await urlOf(raw, 'w4-foreign')
    await raw.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'hello from elsewhere' }))
    const m = await consumeOne(conn, queue)
    expect(m.contentType).toBe('application/data')
    expect(Buffer.isBuffer(m.body)).toBe(true)
    expect(String(m.body)).toBe('hello from elsewhere')
  })
})
