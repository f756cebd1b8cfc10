/**
 * Every error @q/kombu throws. Each carries a stable `code`, a `name` equal to its class
 * name, and the underlying `cause` when there is one.
 *
 * ```
 * QError
 * ├── ConnectionError            broker unreachable or connection lost: recoverable, retried by ensure()
 * │   └── ConnectionTimeoutError  connect or operation timed out
 * ├── ChannelError               the broker refused one operation (PRECONDITION_FAILED, NOT_FOUND, ...);
 * │                              the connection survives
 * ├── SerializationError
 * │   ├── EncodeError            a body the serializer or compressor cannot encode
 * │   ├── DecodeError            a body that does not decode (also: unknown content type or compression)
 * │   └── ContentDisallowedError content type outside the consumer's `accept` list
 * ├── ConfigurationError         bad URL, option or transport choice, found at construction
 * │   ├── InvalidUrlError
 * │   ├── InvalidOptionError
 * │   ├── UnknownTransportError  unknown URL scheme ("did you mean ...")
 * │   └── TransportNotInstalledError  the transport's package is missing (names it)
 * ├── NotSupportedError          the transport lacks a capability (see Transport capabilities)
 * ├── NotBoundError              an operation needs a channel or connection that is not there
 * ├── MessageStateError          a message acknowledged twice (ack, reject, requeue)
 * ├── UnroutableError            a `mandatory` message that matched no queue
 * ├── LimitExceededError         a size or count limit was exceeded
 * ├── QueueEmptyError            SimpleQueue.get() found nothing before its timeout
 * └── ClosedError                the object was closed
 * ```
 */

/** Stable machine-readable error codes. */
export type QErrorCode =
  | 'ERR_Q'
  | 'ERR_CONNECTION'
  | 'ERR_CONNECTION_TIMEOUT'
  | 'ERR_CHANNEL'
  | 'ERR_SERIALIZATION'
  | 'ERR_ENCODE'
  | 'ERR_DECODE'
  | 'ERR_CONTENT_DISALLOWED'
  | 'ERR_CONFIGURATION'
  | 'ERR_INVALID_URL'
  | 'ERR_INVALID_OPTION'
  | 'ERR_UNKNOWN_TRANSPORT'
  | 'ERR_TRANSPORT_NOT_INSTALLED'
  | 'ERR_NOT_SUPPORTED'
  | 'ERR_NOT_BOUND'
  | 'ERR_MESSAGE_STATE'
  | 'ERR_UNROUTABLE'
  | 'ERR_LIMIT_EXCEEDED'
  | 'ERR_QUEUE_EMPTY'
  | 'ERR_CLOSED'

/** Options every error accepts. */
export interface QErrorOptions {
  cause?: unknown
}

/** Root of every error raised by @q/kombu and the transports built on it. */
export class QError extends Error {
  /** A stable code, safe to switch on. */
  readonly code: QErrorCode = 'ERR_Q'
  constructor(message: string, options?: QErrorOptions) {
    super(message, options)
    this.name = new.target.name
  }
}

/** Why a connection failed or was lost. Recoverable: `Connection.ensure()` retries it. */
export class ConnectionError extends QError {
  override readonly code: QErrorCode = 'ERR_CONNECTION'
}

/** Connecting, or waiting for the broker, took longer than allowed. */
export class ConnectionTimeoutError extends ConnectionError {
  override readonly code: QErrorCode = 'ERR_CONNECTION_TIMEOUT'
}

/** Details a broker gives when it refuses an operation on a channel. */
export interface ChannelErrorOptions extends QErrorOptions {
  /** Broker reply code, e.g. 406 for PRECONDITION_FAILED. */
  replyCode?: number
  /** Broker reply text, verbatim. */
  replyText?: string
}

/** The broker refused an operation; the connection and other channels survive. */
export class ChannelError extends QError {
  override readonly code: QErrorCode = 'ERR_CHANNEL'
  readonly replyCode: number | undefined
  readonly replyText: string | undefined
  constructor(message: string, options?: ChannelErrorOptions) {
    super(message, options)
    this.replyCode = options?.replyCode
    this.replyText = options?.replyText
  }
}

/** Base of encoding, decoding and accept-list errors. */
export class SerializationError extends QError {
  override readonly code: QErrorCode = 'ERR_SERIALIZATION'
}

/** A value the chosen serializer or compressor cannot encode. */
export class EncodeError extends SerializationError {
  override readonly code: QErrorCode = 'ERR_ENCODE'
}

/** A body that does not decode, or whose content type or compression is unknown. */
export class DecodeError extends SerializationError {
  override readonly code: QErrorCode = 'ERR_DECODE'
}

/** A message whose content type is outside the consumer's `accept` list. */
export class ContentDisallowedError extends SerializationError {
  override readonly code: QErrorCode = 'ERR_CONTENT_DISALLOWED'
}

/** A bad URL, option or transport choice, reported at construction. */
export class ConfigurationError extends QError {
  override readonly code: QErrorCode = 'ERR_CONFIGURATION'
}

/** A broker URL that cannot be parsed. */
export class InvalidUrlError extends ConfigurationError {
  override readonly code: QErrorCode = 'ERR_INVALID_URL'
}

/** An option with a value outside what it accepts. */
export class InvalidOptionError extends ConfigurationError {
  override readonly code: QErrorCode = 'ERR_INVALID_OPTION'
}

/** A URL scheme that names no known transport. */
export class UnknownTransportError extends ConfigurationError {
  override readonly code: QErrorCode = 'ERR_UNKNOWN_TRANSPORT'
}

/** The package that implements a transport is not installed. */
export class TransportNotInstalledError extends ConfigurationError {
  override readonly code: QErrorCode = 'ERR_TRANSPORT_NOT_INSTALLED'
  /** The npm package to install. */
  readonly packageName: string
  constructor(message: string, packageName: string, options?: QErrorOptions) {
    super(message, options)
    this.packageName = packageName
  }
}

/** The transport lacks a capability the operation needs. */
export class NotSupportedError extends QError {
  override readonly code: QErrorCode = 'ERR_NOT_SUPPORTED'
}

/** An operation that needs a channel or connection that is not there. */
export class NotBoundError extends QError {
  override readonly code: QErrorCode = 'ERR_NOT_BOUND'
}

/** A message acknowledged twice (ack, reject or requeue after one of them). */
export class MessageStateError extends QError {
  override readonly code: QErrorCode = 'ERR_MESSAGE_STATE'
}

/** A `mandatory` message that no queue received. */
export class UnroutableError extends QError {
  override readonly code: QErrorCode = 'ERR_UNROUTABLE'
}

/** A size or count limit was exceeded. */
export class LimitExceededError extends QError {
  override readonly code: QErrorCode = 'ERR_LIMIT_EXCEEDED'
}

/** `SimpleQueue.get()` found no message before its timeout (Kombu's `Empty`). */
export class QueueEmptyError extends QError {
  override readonly code: QErrorCode = 'ERR_QUEUE_EMPTY'
}

/** The object was closed and cannot be used any more. */
export class ClosedError extends QError {
  override readonly code: QErrorCode = 'ERR_CLOSED'
}

/** How a transport classifies a driver error (see `TransportDriver.classifyError`). */
export type ErrorClass = 'connection' | 'channel' | 'fatal'

/** Wraps anything thrown as a QError, keeping the original as `cause`. */
export function toQError(err: unknown, kind: ErrorClass = 'fatal'): QError {
  if (err instanceof QError) return err
  const message = err instanceof Error ? err.message : String(err)
  if (kind === 'connection') return new ConnectionError(message, { cause: err })
  if (kind === 'channel') return new ChannelError(message, { cause: err })
  return new QError(message, { cause: err })
}
