/**
 * The SQS requests our transport makes, against fauxqs, compared with the ones Kombu 5.2.4 made
 * in the golden sample. Deliberate differences: GetQueueUrl instead of ListQueues to find a
 * queue, DeleteMessageBatch instead of DeleteMessage, a basic.get that does not long-poll, and an
 * explicit VisibilityTimeout on ReceiveMessage. Publishes here are confirmed, so each is one
 * SendMessage, as Kombu's (unconfirmed bursts go as SendMessageBatch: features.test.ts).
 */
import { Queue } from '@q/kombu'
import { describe, expect, it } from 'vitest'
import { encodeEnvelope } from './envelope.js'
import { type RecordedCall, recordCalls, startEmulator } from './test-support/fauxqs.js'
import { type GoldenCase, goldenCase, messageOf } from './test-support/golden.js'

const calls = (recorded: RecordedCall[], action: string) =>
  recorded.filter(([a]) => a === action).map(([, p]) => p)
const golden = (c: GoldenCase, action: string) =>
  c.sqs_api_calls.filter(([a]) => a === action).map(([, p]) => p)

/** Kombu's transport options in camelCase. */
function optionsOf(c: GoldenCase): Record<string, unknown> {
  const o = c.transport_options
  return {
    ...(o.queue_name_prefix !== undefined ? { queueNamePrefix: o.queue_name_prefix } : {}),
    ...(o.visibility_timeout !== undefined ? { visibilityTimeout: o.visibility_timeout } : {}),
    ...(o.sqs_base64_encoding !== undefined ? { sqsBase64Encoding: o.sqs_base64_encoding } : {}),
  }
}

/** Publishes every message of a golden case through our transport, as Celery did; returns the requests. */
async function replay(c: GoldenCase): Promise<{ recorded: RecordedCall[]; received: unknown[] }> {
  await using sqs = await startEmulator()
  const client = sqs.client()
  const recorded = recordCalls(client)
  const conn = sqs.connection({
    ...optionsOf(c),
    client,
    visibilityTimeout: Number(c.transport_options.visibility_timeout ?? 1800),
    waitTimeSeconds: 10,
  })
  const channel = await conn.channel()
  const received: unknown[] = []
  for (const sent of c.send_message_decoded) {
    const env = sent.decoded.envelope
    const name = env.properties.delivery_info.routing_key
    await channel.declareQueue(new Queue(name))
    await channel.publish(messageOf(env), '', name, { confirm: true })
  }
  // As the capture: one basic_get of the first queue, then an ack.
  const first = c.send_message_decoded[0]!.decoded.envelope.properties.delivery_info.routing_key
  const d = await channel.get(first)
  if (d) {
    received.push(d)
    await channel.ack(d.deliveryTag)
  }
  await conn.close()
  return { recorded, received }
}

/** The envelope inside a MessageBody, with the per-publish delivery_tag blanked. */
function envelopeOf(body: string, base64: boolean): unknown {
  const env = JSON.parse(base64 ? Buffer.from(body, 'base64').toString('utf8') : body)
  env.properties.delivery_tag = '<uuid>'
  return env
}

describe('SQS requests vs Kombu 5.2.4 (golden sqs_transport_offline.json)', () => {
  for (const label of ['default', 'queue_name_prefix', 'FIFO', 'sqs_base64_encoding=False']) {
    it(`${label}: CreateQueue, SendMessage and the envelope as Kombu's`, async () => {
      const c = goldenCase(label)
      const base64 = c.transport_options.sqs_base64_encoding !== false
      const { recorded } = await replay(c)
      expect(calls(recorded, 'ListQueues')).toEqual([])
      // Same queue names and attributes.
      expect(calls(recorded, 'CreateQueue')).toEqual(golden(c, 'CreateQueue'))
      const ours = calls(recorded, 'SendMessage')
      const theirs = c.send_message_decoded
      expect(ours).toHaveLength(theirs.length)
      for (const [i, sent] of ours.entries()) {
        const kombu = theirs[i]!
        // Same parameters (FIFO ids included), on the same queue.
        expect(Object.keys(sent).sort()).toEqual(Object.keys(golden(c, 'SendMessage')[i]!).sort())
        expect(String(sent.QueueUrl).split('/').pop()).toBe(kombu.QueueUrl.split('/').pop())
        expect(envelopeOf(String(sent.MessageBody), base64)).toEqual(envelopeOf(kombu.MessageBody, base64))
        // Byte for byte, given the same delivery_tag.
        const env = JSON.parse(
          base64 ? Buffer.from(String(sent.MessageBody), 'base64').toString() : String(sent.MessageBody),
        )
        const rewritten = encodeEnvelope(
          messageOf(kombu.decoded.envelope),
          '',
          env.properties.delivery_info.routing_key,
          env.properties.delivery_tag,
        )
        expect(base64 ? Buffer.from(rewritten).toString('base64') : rewritten).toBe(sent.MessageBody)
      }
      if (label === 'FIFO') {
        expect(ours[0]).toMatchObject({
          MessageGroupId: 'default',
          MessageDeduplicationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
        })
        expect(ours[1]).toMatchObject({ MessageGroupId: 'grp-1', MessageDeduplicationId: 'dedup-1' })
      }
    })
  }

  it('receives and acks as Kombu: the ReceiptHandle identifies the message, deleted on ack', async () => {
    const c = goldenCase('default')
    const { recorded, received } = await replay(c)
    expect(received).toHaveLength(1)
    const [receive] = calls(recorded, 'ReceiveMessage')
    const [kombuReceive] = golden(c, 'ReceiveMessage')
    expect(receive).toMatchObject({
      QueueUrl: expect.stringMatching(/\/celery$/),
      MaxNumberOfMessages: kombuReceive!.MaxNumberOfMessages,
    })
    const [deleted] = calls(recorded, 'DeleteMessageBatch')
    expect(deleted).toMatchObject({
      QueueUrl: receive!.QueueUrl,
      Entries: [{ Id: '0', ReceiptHandle: expect.any(String) }],
    })
    expect(calls(recorded, 'GetQueueAttributes')[0]).toEqual({
      QueueUrl: receive!.QueueUrl,
      AttributeNames: ['ApproximateNumberOfMessages'],
    })
  })
})
