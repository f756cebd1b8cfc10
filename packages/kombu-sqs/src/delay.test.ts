/** Delayed delivery: DelaySeconds up to 900 s, longer delays chained through `q-deliver-at`. */
import { GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs'
import { Consumer, NotSupportedError, Producer, Queue } from '@q/kombu'
import { afterAll, describe, expect, it } from 'vitest'
import { DELIVER_AT, planDelay } from './send.js'
import { recordCalls, startEmulator } from './test-support/fauxqs.js'

const sqs = await startEmulator()
afterAll(() => sqs.stop())

describe('planDelay', () => {
  it('rounds up to whole seconds (never early) and chains past 900 s', () => {
    expect(planDelay(undefined)).toEqual({ seconds: 0 })
    expect(planDelay(0)).toEqual({ seconds: 0 })
    expect(planDelay(300)).toEqual({ seconds: 1 })
    expect(planDelay(1000)).toEqual({ seconds: 1 })
    expect(planDelay(1001)).toEqual({ seconds: 2 })
    expect(planDelay(900_000)).toEqual({ seconds: 900 })
    expect(planDelay(3_600_000, 1_000)).toEqual({ seconds: 900, deliverAt: 3_601_000 })
  })
})

describe('delayed delivery on SQS', () => {
  it('sends DelaySeconds, and the due time as a message attribute past 900 s', async () => {
    const client = sqs.client()
    const calls = recordCalls(client)
    await using conn = sqs.connection({ queueNamePrefix: 'd1-', client })
    await (await conn.channel()).declareQueue(new Queue('later'))
    const producer = new Producer(conn)
    await producer.publish('soon', { exchange: '', routingKey: 'later', delay: 2500, confirm: true })
    const before = Date.now()
    await producer.publish('in an hour', {
      exchange: '',
      routingKey: 'later',
      delay: 3_600_000,
      confirm: true,
    })
    const sends = calls.filter(([a]) => a === 'SendMessage').map(([, p]) => p)
    expect(sends[0]).toMatchObject({ DelaySeconds: 3 })
    expect(sends[0]).not.toHaveProperty('MessageAttributes')
    expect(sends[1]).toMatchObject({ DelaySeconds: 900 })
    const due = Number(
      (sends[1]!.MessageAttributes as Record<string, { StringValue: string }>)[DELIVER_AT]!.StringValue,
    )
    expect(due).toBeGreaterThanOrEqual(before + 3_600_000)
    expect(due).toBeLessThan(Date.now() + 3_600_000 + 1000)
  })

  it('a message not due yet is sent on with the rest of its delay, unseen, and delivered when due', async () => {
    const client = sqs.client()
    const calls = recordCalls(client)
    await using conn = sqs.connection({ queueNamePrefix: 'd2-', client })
    const queue = new Queue('chained')
    const arrivals: Array<{ body: unknown; at: number; redelivered: boolean }> = []
    await new Consumer(conn, {
      queues: queue,
      onMessage: async (body, m) => {
        arrivals.push({ body, at: Date.now(), redelivered: m.redelivered })
        await m.ack()
      },
    }).consume()
    // As if the first 900 s of a long delay had passed: visible now, due in 1.5 s.
    const raw = sqs.client()
    const body = Buffer.from(
      JSON.stringify({
        body: Buffer.from('"late"').toString('base64'),
        'content-encoding': 'utf-8',
        'content-type': 'application/json',
        headers: {},
        properties: {
          delivery_info: { exchange: '', routing_key: 'chained' },
          body_encoding: 'base64',
          delivery_tag: 't',
        },
      }),
    ).toString('base64')
    const due = Date.now() + 1500
    const QueueUrl = (await raw.send(new GetQueueUrlCommand({ QueueName: 'd2-chained' }))).QueueUrl!
    await raw.send(
      new SendMessageCommand({
        QueueUrl,
        MessageBody: body,
        MessageAttributes: { [DELIVER_AT]: { DataType: 'Number', StringValue: String(due) } },
      }),
    )
    const deadline = Date.now() + 5000
    while (arrivals.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    expect(arrivals).toHaveLength(1)
    expect(arrivals[0]!.body).toBe('late')
    expect(arrivals[0]!.at).toBeGreaterThanOrEqual(due)
    // The early copy was re-published by the consumer with the remaining delay, then deleted.
    const resend = calls.find(([a, p]) => a === 'SendMessage' && p.MessageBody === body)
    expect(resend?.[1]).toMatchObject({
      DelaySeconds: 2,
      MessageAttributes: { [DELIVER_AT]: { StringValue: String(due) } },
    })
    expect(arrivals[0]!.redelivered).toBe(false)
  }, 10_000)

  it('FIFO queues take no per-message delay: NotSupportedError', async () => {
    await using conn = sqs.connection({ queueNamePrefix: 'd3-' })
    await (await conn.channel()).declareQueue(new Queue('jobs.fifo'))
    await expect(
      new Producer(conn).publish('x', { exchange: '', routingKey: 'jobs.fifo', delay: 1000 }),
    ).rejects.toBeInstanceOf(NotSupportedError)
  })
})
