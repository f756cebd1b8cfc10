/**
 * @q/backend-redis: the Redis result backend of @q/celery, wire compatible with Python Celery's.
 *
 * ```ts
 * import { Celery } from '@q/celery'
 * const app = new Celery('proj', { broker: 'redis://localhost', backend: 'redis://localhost/1' })
 * // `redis://`, `rediss://` and `sentinel://` load this package by scheme.
 * ```
 */
export { backend, createRedisBackend, createRedisStore } from './driver.js'
export type { RedisBackendOptions, ResolvedBackendOptions } from './options.js'
export { resolveBackendOptions } from './options.js'
export type { RedisStoreOptions } from './store.js'
export { RedisStore } from './store.js'
export type { Listener } from './subscriber.js'
export type { RedisScheme, RedisTarget } from './url.js'
export { DEFAULT_PORT, DEFAULT_SENTINEL_PORT, maskPassword, parseRedisUrl } from './url.js'
