/** Dead-letter queues through SQS's RedrivePolicy. */
import { GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs'
import { Consumer, type Message, NotSupportedError, Producer, Queue } from '@q/kombu'
import { afterAll, describe, expect, it } from 'vitest'
import { startEmulator } from './test-support/fauxqs.js'

const sqs = await startEmulator()
afterAll(() => sqs.stop())
const raw = sqs.client()

async function url(physical: string): Promise<string> {
  return (await raw.send(new GetQueueUrlCommand({ QueueName: physical }))).QueueUrl!
}

async function attributes(physical: string): Promise<Record<string, string>> {
  const out = await raw.send(
    new GetQueueAttributesCommand({ QueueUrl: await url(physical), AttributeNames: ['All'] }),
  )
  return out.Attributes ?? {}
}

async function drain(physical: string, wait = 1): Promise<string[]> {
  const out = await raw.send(
    new ReceiveMessageCommand({
      QueueUrl: await url(physical),
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: wait,
    }),
  )
  return (out.Messages ?? []).map((m) => JSON.parse(Buffer.from(m.Body!, 'base64').toString()).body)
}

/** Consumes `queue`, handing each message to `handle`; resolves once `n` messages were handled. */
async function handle(
  conn: ReturnType<typeof sqs.connection>,
  queue: Queue,
  n: number,
  fn: (m: Message) => Promise<void>,
) {
  let seen = 0
  let done!: () => void
  const finished = new Promise<void>((r) => (done = r))
  const consumer = await new Consumer(conn, {
    queues: queue,
    onMessage: async (_b, m) => {
      await fn(m)
      if (++seen === n) done()
    },
  }).consume()
  await finished
  return consumer
}

describe('dead letters (redrivePolicy)', () => {
  it('creates queues with a RedrivePolicy to the dead-letter queue, which gets none itself', async () => {
    await using conn = sqs.connection({
      queueNamePrefix: 'r1-',
      redrivePolicy: { '*': { deadLetterQueue: 'dead.letters', maxReceiveCount: 3 } },
    })
    await (await conn.channel()).declareQueue(new Queue('work'))
    const dlqArn = (await attributes('r1-dead-letters')).QueueArn
    expect(JSON.parse((await attributes('r1-work')).RedrivePolicy!)).toEqual({
      deadLetterTargetArn: dlqArn,
      maxReceiveCount: '3',
    })
    expect((await attributes('r1-dead-letters')).RedrivePolicy).toBeUndefined()
  })

  it('reject without requeue moves the message to the dead-letter queue', async () => {
    await using conn = sqs.connection({
      queueNamePrefix: 'r2-',
      redrivePolicy: { work: { deadLetterQueue: 'dlq', maxReceiveCount: 5 } },
    })
    const queue = new Queue('work')
    await (await conn.channel()).declareQueue(queue)
    await new Producer(conn).publish('poison', { exchange: '', routingKey: 'work' })
    const consumer = await handle(conn, queue, 1, (m) => m.reject())
    await consumer.close()
    await conn.close()
    expect(await drain('r2-dlq')).toEqual([Buffer.from('poison').toString('base64')])
    expect(await drain('r2-work', 0)).toEqual([])
  })

  it('a message received more than maxReceiveCount times goes to the dead-letter queue (SQS redrive)', async () => {
    await using conn = sqs.connection({
      queueNamePrefix: 'r3-',
      redrivePolicy: { work: { deadLetterQueue: 'dlq', maxReceiveCount: 2 } },
    })
    const queue = new Queue('work')
    await (await conn.channel()).declareQueue(queue)
    await new Producer(conn).publish('flaky', { exchange: '', routingKey: 'work' })
    const consumer = await handle(conn, queue, 2, (m) => m.requeue())
    await consumer.close()
    await conn.close()
    expect(await drain('r3-dlq')).toEqual([Buffer.from('flaky').toString('base64')])
  })

  it("honours a Queue's own deadLetterExchange '' + deadLetterRoutingKey, and refuses other exchanges", async () => {
    await using conn = sqs.connection({ queueNamePrefix: 'r4-' })
    const channel = await conn.channel()
    await channel.declareQueue(
      new Queue('jobs', { deadLetterExchange: '', deadLetterRoutingKey: 'jobs.dead' }),
    )
    const policy = JSON.parse((await attributes('r4-jobs')).RedrivePolicy!)
    expect(policy).toEqual({
      deadLetterTargetArn: (await attributes('r4-jobs-dead')).QueueArn,
      maxReceiveCount: '5',
    })
    await expect(
      channel.declareQueue(new Queue('other', { deadLetterExchange: 'dlx', deadLetterRoutingKey: 'x' })),
    ).rejects.toBeInstanceOf(NotSupportedError)
  })
})
