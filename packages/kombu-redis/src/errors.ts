/**
 * How ioredis errors map to @q/kombu's classes (after Kombu's `get_redis_error_classes`):
 *
 * ```
 * connection  sockets that fail (ECONNREFUSED, ECONNRESET, ETIMEDOUT...), a closed or ended
 *             connection, a server loading its data or turned replica (LOADING, READONLY,
 *             MASTERDOWN, TRYAGAIN), unreachable sentinels: retried by reconnecting
 * fatal       authentication and permissions (WRONGPASS, NOAUTH, NOPERM): retrying cannot help
 * channel     any other error reply (WRONGTYPE, ERR ...): that command failed, the connection is fine
 * ```
 */
import type { ErrorClass } from '@q/kombu'
import { ReplyError } from 'ioredis'

const CONNECTION_REPLIES = /^(LOADING|READONLY|MASTERDOWN|TRYAGAIN|BUSY|CLUSTERDOWN)\b/
const FATAL_REPLIES = /^(WRONGPASS|NOAUTH|NOPERM)\b/
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ECONNABORTED',
])
/** ioredis reports a closed connection with plain Errors; their messages are all it gives. */
const CLOSED_MESSAGES =
  /Connection is closed|Stream isn't writeable|max retries per request|All sentinels are unreachable|connect ETIMEDOUT|Connection timeout/i

/** Classifies an error thrown by ioredis (the TransportDriver's `classifyError`). */
export function classifyError(err: unknown): ErrorClass {
  const e = err as { code?: unknown; message?: unknown } | undefined
  const message = typeof e?.message === 'string' ? e.message : ''
  if (err instanceof ReplyError) {
    if (FATAL_REPLIES.test(message)) return 'fatal'
    return CONNECTION_REPLIES.test(message) ? 'connection' : 'channel'
  }
  if (typeof e?.code === 'string' && SOCKET_CODES.has(e.code)) return 'connection'
  if (CLOSED_MESSAGES.test(message)) return 'connection'
  return 'fatal'
}
