/**
 * The Redis TransportDriver: `redis://`, `rediss://` and `sentinel://` URLs, as `@q/kombu` loads
 * it by scheme (`transport`), or made explicitly with `createRedisTransport()` and passed to a
 * Connection's `transport` option.
 */
import type { BrokerUrl, TransportCapabilities, TransportDriver } from '@q/kombu'
import type { TransportContext } from '@q/kombu/internal'
import { clientOptions, DEFAULT_PORT } from './client.js'
import { RedisConnection } from './connection.js'
import { classifyError } from './errors.js'
import { type RedisTransportOptions, resolveOptions } from './options.js'
import type { Orphan } from './shared.js'

/** What the Redis transport can do (Kombu's Redis transport implements direct, topic and fanout). */
export const redisCapabilities: TransportCapabilities = Object.freeze({
  exchangeTypes: Object.freeze(['direct', 'topic', 'fanout'] as const),
  fanout: true,
  priority: 'lower-first',
  ttl: false,
  delayedDelivery: true,
  // A publish resolves once Redis has replied to the LPUSH (or PUBLISH).
  publisherConfirms: true,
  acknowledgements: true,
  deadLettering: false,
})

/** A Redis TransportDriver. */
export interface RedisTransport extends TransportDriver {
  readonly capabilities: TransportCapabilities
}

/**
 * Creates a Redis transport. Each driver keeps, per database, the messages its lost connections
 * held, and gives them back when it connects there again; nothing is kept at module level.
 */
export function createRedisTransport(): RedisTransport {
  const orphans = new Map<string, Orphan[]>()
  return {
    name: 'redis',
    capabilities: redisCapabilities,
    defaultPort: DEFAULT_PORT,
    classifyError,
    async connect(url: BrokerUrl, context: TransportContext) {
      const raw = context.transportOptions as RedisTransportOptions & Record<string, unknown>
      const options = resolveOptions(raw)
      const client = clientOptions(url, context, raw)
      const where = `${client.name ?? `${client.host}:${client.port}`}/${client.db}/${options.globalKeyprefix}`
      const held = orphans.get(where) ?? []
      orphans.set(where, held)
      return RedisConnection.open({
        clientOptions: client,
        options,
        capabilities: redisCapabilities,
        logger: context.logger,
        orphans: held,
      })
    },
  }
}

/** The driver `@q/kombu` loads for `redis://`, `rediss://` and `sentinel://` URLs. */
export const transport: RedisTransport = createRedisTransport()
