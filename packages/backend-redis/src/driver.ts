/**
 * The backend driver @q/celery loads for `redis://`, `rediss://` and `sentinel://` result
 * backend URLs: a KeyValueBackend (all of Celery's result logic) over a RedisStore.
 */
import { type BackendContext, type BackendDriver, KeyValueBackend } from '@q/celery'
import { Redis } from 'ioredis'
import { resolveBackendOptions } from './options.js'
import { RedisStore } from './store.js'
import { maskPassword } from './url.js'

/**
 * A RedisStore for a backend URL and transport options. Nothing connects until the first
 * command; close the store (or the backend over it) when done.
 */
export function createRedisStore(
  url: string,
  transportOptions: Readonly<Record<string, unknown>> = {},
): RedisStore {
  const { client, revokedKey, onError } = resolveBackendOptions(url, transportOptions)
  return new RedisStore(new Redis(client), { revokedKey, ...(onError ? { onError } : {}) })
}

/** The Redis result backend for `url`, configured from the app's settings (`context`). */
export function createRedisBackend(url: string, context: BackendContext): KeyValueBackend {
  return new KeyValueBackend({
    url: maskPassword(url),
    store: createRedisStore(url, context.transportOptions),
    serializers: context.serializers,
    serializer: context.serializer,
    ...(context.accept ? { accept: context.accept } : {}),
    expires: context.expires,
    extended: context.extended,
  })
}

/** What @q/celery's backend registry loads from this package. */
export const backend: BackendDriver = Object.freeze({ create: createRedisBackend })
