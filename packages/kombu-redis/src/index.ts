/**
 * @q/kombu-redis: the Redis transport of @q/kombu, wire compatible with Python Kombu's.
 *
 * ```ts
 * import { Connection } from '@q/kombu'
 * const connection = new Connection('redis://localhost:6379/0') // loads this package by scheme
 * ```
 */
export { DEFAULT_PORT, DEFAULT_SENTINEL_PORT, databaseOf } from './client.js'
export type { RedisTransport } from './driver.js'
export { createRedisTransport, redisCapabilities, transport } from './driver.js'
export { decodeEnvelope, encodeEnvelope, INVALID_ENVELOPE } from './envelope.js'
export { classifyError } from './errors.js'
export { Keys } from './keys.js'
export type { RedisTransportOptions } from './options.js'
export { CELERY_FANOUT_EXCHANGES } from './options.js'
