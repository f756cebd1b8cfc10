/**
 * The golden sample `sqs_transport_offline.json` (copied from the protocol reference,
 * shared/protocol/golden): every SQS API call Kombu 5.2.4 made, driven by Celery 5.2.6.
 */
import { readFileSync } from 'node:fs'
import type { OutgoingMessage } from '@q/kombu'

/** One recorded API call: [action, parameters]. */
export type ApiCall = [string, Record<string, unknown>]

/** The envelope as Kombu wrote it, decoded. */
export interface GoldenEnvelope {
  body: string
  'content-encoding': string
  'content-type': string
  headers: Record<string, unknown>
  properties: Record<string, unknown> & {
    delivery_info: { exchange: string; routing_key: string }
    delivery_tag: string
  }
}

/** One case of the sample. */
export interface GoldenCase {
  label: string
  transport_options: Record<string, unknown>
  sqs_api_calls: ApiCall[]
  send_message_decoded: Array<{
    QueueUrl: string
    MessageBody: string
    MessageGroupId?: string
    MessageDeduplicationId?: string
    decoded: { envelope: GoldenEnvelope }
  }>
}

/** The cases of the sample, in order: default, queue_name_prefix, FIFO, sqs_base64_encoding=False. */
export const golden: { cases: GoldenCase[] } = JSON.parse(
  readFileSync(new URL('./golden/sqs_transport_offline.json', import.meta.url), 'utf8'),
)

/** The case whose label starts with `prefix`. */
export function goldenCase(prefix: string): GoldenCase {
  const found = golden.cases.find((c) => c.label.startsWith(prefix))
  if (!found) throw new Error(`no golden case '${prefix}'`)
  return found
}

/** The message Celery published in a golden case, as our Producer hands it to the channel. */
export function messageOf(env: GoldenEnvelope): OutgoingMessage {
  const {
    correlation_id,
    reply_to,
    delivery_mode,
    priority,
    delivery_info,
    body_encoding,
    delivery_tag,
    ...extra
  } = env.properties
  return {
    body: Buffer.from(env.body, 'base64'),
    contentType: env['content-type'],
    contentEncoding: env['content-encoding'],
    headers: env.headers,
    properties: {
      ...extra,
      deliveryMode: delivery_mode as 2,
      correlationId: String(correlation_id),
      replyTo: String(reply_to),
      priority: Number(priority),
    },
  }
}
