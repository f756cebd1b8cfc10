/**
 * The transport options of `sqs://`, named as Kombu's SQS options in camelCase
 * (`queue_name_prefix` -> `queueNamePrefix`). They come from the Connection's `transportOptions`,
 * merged over the URL's query string (`sqs://?region=eu-west-1&wait_time_seconds=5`).
 */
import type { SQSClient } from '@aws-sdk/client-sqs'
import { InvalidOptionError } from '@q/kombu'
import { isFifo } from './names.js'

/** A queue that exists already and is used by URL: no ListQueues, GetQueueUrl or CreateQueue. */
export interface PredefinedQueue {
  /** The queue URL. */
  readonly url: string
  /** Credentials for this queue only (default: the connection's). */
  readonly accessKeyId?: string
  readonly secretAccessKey?: string
  /** Region of this queue (default: the connection's). */
  readonly region?: string
}

/** Where SQS moves a message after too many receives (the queue's `RedrivePolicy`). */
export interface RedrivePolicy {
  /** The dead-letter queue: a queue name (created if missing, named as any queue) or an ARN. */
  readonly deadLetterQueue: string
  /** Receives before SQS moves the message there (1-1000). */
  readonly maxReceiveCount: number
}

/** Options of the SQS transport. */
export interface SqsTransportOptions {
  /** AWS region; default: the SDK's (AWS_REGION, ~/.aws/config). */
  region?: string
  /** Another endpoint: an emulator (`http://localhost:4566`) or a VPC endpoint. */
  endpointUrl?: string
  /** With a host in the URL (`sqs://key:secret@host:port`), reach it over https. Default false. */
  isSecure?: boolean
  /** Prepended to every queue name before it is made SQS-legal. Default ''. */
  queueNamePrefix?: string
  /** Queues by SQS name, used by URL; with them, no queue is looked up or created. */
  predefinedQueues?: Readonly<Record<string, PredefinedQueue>>
  /**
   * Seconds a received message stays invisible to other consumers. Sent on CreateQueue and on
   * every ReceiveMessage, and renewed while the message is held. Default 1800 (Kombu's).
   */
  visibilityTimeout?: number
  /** Long-polling wait of ReceiveMessage, 0-20 seconds. Default 10 (Kombu's). */
  waitTimeSeconds?: number
  /** Send `MessageBody` as base64 of the envelope (Kombu 5.2's default), else as its JSON. Default true. */
  sqsBase64Encoding?: boolean
  /** Further CreateQueue attributes (Kombu's `sqs-creation-attributes`). */
  sqsCreationAttributes?: Readonly<Record<string, string>>
  /**
   * Dead-letter queues by queue name; `'*'` applies to every queue the transport creates (except
   * dead-letter queues). Applied when the transport creates the queue.
   */
  redrivePolicy?: Readonly<Record<string, RedrivePolicy>>
  /** A client of your own, used as is and never destroyed (tests, custom middleware). */
  client?: SQSClient
}

/** The options with their defaults, checked. */
export interface ResolvedOptions {
  readonly region: string | undefined
  readonly endpointUrl: string | undefined
  readonly isSecure: boolean
  readonly queueNamePrefix: string
  readonly predefinedQueues: Readonly<Record<string, PredefinedQueue>> | undefined
  readonly visibilityTimeout: number
  readonly waitTimeSeconds: number
  readonly sqsBase64Encoding: boolean
  readonly sqsCreationAttributes: Readonly<Record<string, string>>
  readonly redrivePolicy: Readonly<Record<string, RedrivePolicy>>
  readonly client: SQSClient | undefined
}

function bad(name: string, expected: string, got: unknown): never {
  throw new InvalidOptionError(
    `SQS transport option '${name}' must be ${expected}, got ${JSON.stringify(got)}`,
  )
}

function integer(o: Record<string, unknown>, name: string, min: number, max: number, dflt: number): number {
  const v = o[name]
  if (v === undefined) return dflt
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    bad(name, `an integer number of seconds in ${min}..${max}`, v)
  return v
}

function optionalString(o: Record<string, unknown>, name: string): string | undefined {
  const v = o[name]
  if (v !== undefined && typeof v !== 'string') bad(name, 'a string', v)
  return v
}

function record<T>(o: Record<string, unknown>, name: string): Readonly<Record<string, T>> | undefined {
  const v = o[name]
  if (v === undefined) return undefined
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(name, 'an object', v)
  return v as Record<string, T>
}

/** Checks the transport options and fills in the defaults. Unknown keys are ignored. */
export function resolveOptions(options: Readonly<Record<string, unknown>>): ResolvedOptions {
  const predefined = record<PredefinedQueue>(options, 'predefinedQueues')
  for (const [name, q] of Object.entries(predefined ?? {})) {
    if (typeof q?.url !== 'string') bad(`predefinedQueues.${name}.url`, 'a queue URL', q?.url)
    if (isFifo(name) !== isFifo(q.url))
      throw new InvalidOptionError(
        `predefinedQueues: queue '${name}' and its URL ${q.url} must both end in .fifo, or neither`,
      )
  }
  const redrive = record<RedrivePolicy>(options, 'redrivePolicy') ?? {}
  for (const [name, p] of Object.entries(redrive)) {
    if (typeof p?.deadLetterQueue !== 'string')
      bad(`redrivePolicy.${name}.deadLetterQueue`, 'a queue name or ARN', p?.deadLetterQueue)
    const count = p.maxReceiveCount
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 1000)
      bad(`redrivePolicy.${name}.maxReceiveCount`, 'an integer in 1..1000', count)
  }
  const base64 = options.sqsBase64Encoding ?? true
  if (typeof base64 !== 'boolean') bad('sqsBase64Encoding', 'a boolean', base64)
  let endpointUrl = optionalString(options, 'endpointUrl')
  if (endpointUrl !== undefined) {
    try {
      endpointUrl = new URL(endpointUrl).href.replace(/\/$/, '')
    } catch {
      bad('endpointUrl', 'a URL such as http://localhost:4566', endpointUrl)
    }
  }
  return {
    region: optionalString(options, 'region'),
    endpointUrl,
    isSecure: options.isSecure === true,
    queueNamePrefix: optionalString(options, 'queueNamePrefix') ?? '',
    predefinedQueues: predefined && Object.keys(predefined).length > 0 ? predefined : undefined,
    visibilityTimeout: integer(options, 'visibilityTimeout', 0, 43_200, 1800),
    waitTimeSeconds: integer(options, 'waitTimeSeconds', 0, 20, 10),
    sqsBase64Encoding: base64,
    sqsCreationAttributes: record<string>(options, 'sqsCreationAttributes') ?? {},
    redrivePolicy: redrive,
    client: options.client as SQSClient | undefined,
  }
}
