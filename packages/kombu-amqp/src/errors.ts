/**
 * How amqplib's errors become @q/kombu's, and the one error this transport adds. After Kombu's
 * `_reraise_as_library_errors`: what reconnecting can cure is a ConnectionError, what the broker
 * refused on one channel is a ChannelError carrying the server's reply, the rest is fatal.
 *
 * ```
 * QError (@q/kombu)
 * ├── ConnectionError        socket errors (ECONNREFUSED, ECONNRESET, EPIPE, ETIMEDOUT...), heartbeat
 * │                          timeouts, connection.close from the server (320 CONNECTION_FORCED, 5xx)
 * ├── ChannelError           channel.close from the server (403, 404, 405, 406): replyCode, replyText;
 * │   │                      the connection and the other channels survive
 * │   └── MessageNackedError the broker refused a published message (basic.nack)
 * ├── UnroutableError        a `mandatory` message came back (basic.return, 312 NO_ROUTE)
 * └── ConfigurationError     a refused login or an unknown vhost (retrying cannot help)
 * ```
 */
import { ChannelError, ConfigurationError, ConnectionError, type ErrorClass, QError } from '@q/kombu'

/** The broker refused (nacked) a message published with `confirm`. */
export class MessageNackedError extends ChannelError {}

/** Socket error codes that a new connection may cure. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ERR_SOCKET_CLOSED',
  'ERR_STREAM_DESTROYED',
  'ERR_STREAM_WRITE_AFTER_END',
])

/** AMQP reply codes the server closes a channel with (soft errors). */
const CHANNEL_CODES = new Set([311, 312, 313, 403, 404, 405, 406])

const CONNECTION_MESSAGES =
  /Heartbeat timeout|Connection closed|Connection closing|Unexpected close|Socket closed|socket hang up|connect ETIMEDOUT|Frame size .* exceeds/i
const REFUSED = /ACCESS_REFUSED|ACCESS-REFUSED|vhost .* not found|NOT_ALLOWED - access to vhost/i
/** What amqplib says when the broker refuses connection.open: the vhost is missing or not allowed. */
const OPEN_REFUSED = /^Expected ConnectionOpenOk; got <ConnectionClose/

interface AmqplibError {
  code?: unknown
  message?: string
}

/** The server's reply text inside an amqplib close message (`... with message "TEXT"`). */
export function replyTextOf(message: string): string | undefined {
  return /with message "(.*)"$/s.exec(message)?.[1]
}

/**
 * Classifies an error from amqplib, a socket or this transport: `connection` errors are retried
 * by reconnecting, `channel` errors concern one operation, `fatal` ones need a person.
 */
export function classifyError(err: unknown): ErrorClass {
  if (err instanceof ConnectionError) return 'connection'
  if (err instanceof QError) return err.code === 'ERR_CHANNEL' ? 'channel' : 'fatal'
  const e = (err ?? {}) as AmqplibError
  const message = typeof e.message === 'string' ? e.message : ''
  // A channel.close from the server: whatever its code, one channel is gone, not the connection.
  if (/^(Operation failed|Channel closed by server)/.test(message)) return 'channel'
  if (REFUSED.test(message) || /^Handshake terminated/.test(message) || OPEN_REFUSED.test(message))
    return 'fatal'
  if (typeof e.code === 'string' && SOCKET_CODES.has(e.code)) return 'connection'
  // connection.close from the server (320 CONNECTION_FORCED, 5xx hard errors).
  if (typeof e.code === 'number')
    return CHANNEL_CODES.has(e.code) && !/^Connection closed/.test(message) ? 'channel' : 'connection'
  if (CONNECTION_MESSAGES.test(message)) return 'connection'
  if (/^(Channel closed|Channel closing|Channel ended)/.test(message)) return 'channel'
  return 'fatal'
}

/** A ChannelError with the server's reply code and text, from an amqplib channel-close error. */
export function toChannelError(err: unknown, what?: string): ChannelError {
  if (err instanceof ChannelError) return err
  const e = (err ?? {}) as AmqplibError
  const message = e.message ?? String(err)
  const replyText = replyTextOf(message)
  const replyCode = typeof e.code === 'number' ? e.code : undefined
  return new ChannelError(`${what ? `${what}: ` : ''}${replyText ?? message}`, {
    cause: err,
    replyCode,
    replyText,
  })
}

/** Any error as a QError, by its classification. */
export function toAmqpQError(err: unknown, what?: string): QError {
  if (err instanceof QError) return err
  const kind = classifyError(err)
  if (kind === 'channel') return toChannelError(err, what)
  const message = `${what ? `${what}: ` : ''}${err instanceof Error ? err.message : String(err)}`
  if (kind === 'connection') return new ConnectionError(message, { cause: err })
  const original = (err as AmqplibError | undefined)?.message ?? ''
  if (OPEN_REFUSED.test(original))
    return new ConfigurationError(
      `${what ? `${what}: ` : ''}the broker refused to open the vhost (it does not exist, or this user has no permission on it)`,
      { cause: err },
    )
  const refused = REFUSED.test(original) || /^Handshake terminated/.test(original)
  return refused ? new ConfigurationError(message, { cause: err }) : new QError(message, { cause: err })
}
