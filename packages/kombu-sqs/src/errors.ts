/**
 * How SQS and AWS SDK errors map to @q/kombu's error classes (after Kombu's
 * `connection_errors` / `channel_errors`). This transport adds no error class of its own:
 *
 * ```
 * QError (from @q/kombu)
 * ├── ConnectionError     network failures, throttling, SQS 5xx: retried by Connection.ensure()
 * ├── ChannelError        SQS refused one request (QueueDoesNotExist -> 404 NOT_FOUND, bad parameters)
 * ├── NotSupportedError   fanout/topic/headers exchanges, delays on FIFO queues
 * ├── LimitExceededError  a message larger than SQS accepts
 * └── QError (fatal)      credentials refused or missing, region missing
 * ```
 */
import { ChannelError, type ErrorClass, QError } from '@q/kombu'
import { toQError } from '@q/kombu/internal'

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
])

const TRANSIENT_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ThrottlingException',
  'RequestThrottled',
  'ServiceUnavailable',
  'InternalError',
  'InternalFailure',
  'KmsThrottled',
  'SlowDown',
])

const FATAL_NAMES = new Set([
  'CredentialsProviderError',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'InvalidSecurity',
  'ExpiredToken',
  'AccessDenied',
  'AccessDeniedException',
  'KmsAccessDenied',
])

/** Receipt-handle failures that only mean "this message is no longer ours" (kombu#1391). */
const LOST_HANDLE_CODES = new Set([
  'ReceiptHandleIsInvalid',
  'MessageNotInflight',
  'InvalidReceiptHandle',
  'InvalidParameterValue',
])

interface SdkError {
  name?: string
  code?: string
  Code?: string
  $fault?: 'client' | 'server'
  $metadata?: { httpStatusCode?: number }
  cause?: unknown
}

/** The SQS error code of an SDK error (`QueueDoesNotExist`, ...), or undefined. */
export function errorCode(err: unknown): string | undefined {
  const e = err as SdkError | undefined
  return e?.Code ?? e?.name
}

function networkCode(err: unknown, depth = 0): string | undefined {
  const e = err as SdkError | undefined
  if (!e || depth > 3) return undefined
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code
  return networkCode(e.cause, depth + 1)
}

/**
 * Classifies an error of this transport: `connection` for network failures, throttling and SQS
 * server faults (retried by `Connection.ensure()`), `fatal` for refused or missing credentials,
 * `channel` for other requests SQS refused.
 */
export function classifyError(err: unknown): ErrorClass {
  if (err instanceof QError) {
    if (err.code === 'ERR_CONNECTION' || err.code === 'ERR_CONNECTION_TIMEOUT') return 'connection'
    return err.code === 'ERR_CHANNEL' ? 'channel' : 'fatal'
  }
  const e = err as SdkError | undefined
  const name = errorCode(err) ?? ''
  if (networkCode(err) || TRANSIENT_NAMES.has(name) || e?.$fault === 'server') return 'connection'
  if (FATAL_NAMES.has(name) || /region is missing/i.test((err as Error)?.message ?? '')) return 'fatal'
  if (e?.$fault === 'client' || e?.$metadata) return 'channel'
  return 'fatal'
}

/** True when SQS says the queue is not there. */
export function isQueueMissing(err: unknown): boolean {
  const code = errorCode(err)
  return code === 'QueueDoesNotExist' || code === 'AWS.SimpleQueueService.NonExistentQueue'
}

/** True for a batch-entry or request failure meaning the receipt handle is no longer valid. */
export function isLostHandle(code: string | undefined, message = ''): boolean {
  if (!code || !LOST_HANDLE_CODES.has(code)) return false
  // InvalidParameterValue is also used for other mistakes; only the receipt-handle ones count.
  return code !== 'InvalidParameterValue' || /receipt ?handle/i.test(message)
}

/** ChannelError 404, as AMQP reports a missing queue. */
export function queueNotFound(name: string, cause?: unknown): ChannelError {
  return new ChannelError(`NOT_FOUND - no queue '${name}'`, { replyCode: 404, replyText: 'NOT_FOUND', cause })
}

/** Wraps an SDK error as the QError its class calls for; QErrors pass through. */
export function wrapError(err: unknown, queue?: string): QError {
  if (err instanceof QError) return err
  if (queue !== undefined && isQueueMissing(err)) return queueNotFound(queue, err)
  const wrapped = toQError(err, classifyError(err))
  return wrapped
}
