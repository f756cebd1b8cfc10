/**
 * Publishing one message: SendMessage with Kombu's MessageBody, FIFO group and deduplication
 * ids, and delayed delivery by DelaySeconds. SQS delays at most 900 s; a longer delay is sent
 * with 900 s and its due time in the `q-deliver-at` message attribute, and the receiver sends it
 * on again, unseen, until it is due ("chained").
 */
import {
  type MessageAttributeValue,
  SendMessageCommand,
  type SendMessageCommandInput,
} from '@aws-sdk/client-sqs'
import { LimitExceededError, NotSupportedError, type OutgoingMessage } from '@q/kombu'
import { uuid } from '@q/kombu/internal'
import { wrapError } from './errors.js'
import { toMessageBody } from './message-body.js'
import type { QueueRef } from './queues.js'

/** SQS's longest per-message delay, in seconds. */
export const MAX_DELAY_SECONDS = 900

/** SQS's largest message (body plus attributes), in bytes. */
export const MAX_MESSAGE_BYTES = 1_048_576

/** Message attribute holding the due time (ms since the epoch) of a delay longer than SQS's. */
export const DELIVER_AT = 'q-deliver-at'

/** DelaySeconds (rounded up: never early) and, past 900 s, the due time to carry. */
export function planDelay(
  delayMs: number | undefined,
  now = Date.now(),
): { seconds: number; deliverAt?: number } {
  if (!delayMs || delayMs <= 0) return { seconds: 0 }
  const seconds = Math.ceil(delayMs / 1000)
  if (seconds <= MAX_DELAY_SECONDS) return { seconds }
  return { seconds: MAX_DELAY_SECONDS, deliverAt: now + delayMs }
}

/** The `q-deliver-at` attribute of a due time. */
export function deliverAtAttribute(deliverAt: number): Record<string, MessageAttributeValue> {
  return { [DELIVER_AT]: { DataType: 'Number', StringValue: String(Math.ceil(deliverAt)) } }
}

/** Bytes SQS counts for a message: the body plus each attribute's name, type and value. */
function messageBytes(input: SendMessageCommandInput): number {
  let n = Buffer.byteLength(input.MessageBody ?? '', 'utf8')
  for (const [name, v] of Object.entries(input.MessageAttributes ?? {})) {
    n +=
      Buffer.byteLength(name) + Buffer.byteLength(v.DataType ?? '') + Buffer.byteLength(v.StringValue ?? '')
  }
  return n
}

/** Builds the SendMessage request of a message published to `exchange` with `routingKey`. */
export function sendInput(
  ref: QueueRef,
  message: OutgoingMessage,
  origin: { exchange: string; routingKey: string; delay?: number },
  base64: boolean,
): SendMessageCommandInput {
  const input: SendMessageCommandInput = {
    QueueUrl: ref.url,
    MessageBody: toMessageBody(message, origin.exchange, origin.routingKey, base64),
  }
  const delay = planDelay(origin.delay)
  if (ref.fifo) {
    if (delay.seconds > 0) {
      throw new NotSupportedError(
        `SQS FIFO queues have no per-message delay: queue '${ref.name}' cannot take a message with delay ${origin.delay} ms`,
      )
    }
    const props = message.properties
    input.MessageGroupId = typeof props.MessageGroupId === 'string' ? props.MessageGroupId : 'default'
    input.MessageDeduplicationId =
      typeof props.MessageDeduplicationId === 'string' ? props.MessageDeduplicationId : uuid()
  } else if (delay.seconds > 0) {
    input.DelaySeconds = delay.seconds
    if (delay.deliverAt !== undefined) input.MessageAttributes = deliverAtAttribute(delay.deliverAt)
  }
  const size = messageBytes(input)
  if (size > MAX_MESSAGE_BYTES) {
    throw new LimitExceededError(
      `SQS takes messages of at most ${MAX_MESSAGE_BYTES} bytes; this one is ${size} bytes once wrapped in Kombu's envelope${base64 ? ' and base64-encoded' : ''} (about ${base64 ? '1.8' : '1.4'}x the body). Keep large payloads elsewhere (S3) and send a reference`,
    )
  }
  return input
}

/** Sends a request built by `sendInput` (or a re-publish); errors come back as QErrors. */
export async function send(ref: QueueRef, input: SendMessageCommandInput): Promise<void> {
  try {
    await ref.client.send(new SendMessageCommand(input))
  } catch (err) {
    throw wrapError(err, ref.name)
  }
}
