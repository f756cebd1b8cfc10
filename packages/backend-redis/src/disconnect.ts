/**
 * Closing an ioredis connection without leaving an uncaught error behind.
 */
import type { Redis } from 'ioredis'

/**
 * Disconnects at once. ioredis listens for one error per socket (`once('error')`), but a TLS
 * socket ended mid-handshake can raise two (the certificate check, then the server's alert),
 * and the second would be an uncaught exception: the socket gets a listener of its own first.
 */
export function disconnectQuietly(connection: Redis): void {
  connection.stream?.on('error', () => {})
  connection.disconnect()
}
