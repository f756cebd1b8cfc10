/**
 * Result backends by URL, like brokers: `memory://` and `rpc://` are built in, others come from
 * their own package, loaded on first use (`redis://` -> @q/backend-redis).
 */
import type { Connection, SerializerRegistry } from '@q/kombu'
import { parseUrl } from '@q/kombu'
import { importOptional } from '@q/kombu/internal'
import { ConfigurationError } from '../errors.js'
import { MemoryBackendFactory } from './memory.js'
import type { ResultBackend } from './types.js'

/** What a backend package exports. */
export interface BackendDriver {
  create(url: string, options: BackendContext): ResultBackend | Promise<ResultBackend>
}

/** What a backend gets to build itself. */
export interface BackendContext {
  serializers: SerializerRegistry
  serializer: string
  accept: ReadonlySet<string> | undefined
  /** Seconds results live; null = for ever. */
  expires: number | null
  extended: boolean
  transportOptions: Record<string, unknown>
  /** The app's broker connection (rpc:// publishes and consumes on it). */
  connection: () => Connection
  /** The app's reply queue name (rpc://). */
  oid: string
  persistent: boolean
}

const PACKAGES: Record<string, string> = {
  redis: '@q/backend-redis',
  rediss: '@q/backend-redis',
  sentinel: '@q/backend-redis',
}

let memoryBackends: MemoryBackendFactory | undefined

/** Creates the backend a URL names. */
export async function createBackend(url: string, context: BackendContext): Promise<ResultBackend> {
  const parsed = parseUrl(url)
  if (parsed.scheme === 'memory' || parsed.scheme === 'cache+memory') {
    memoryBackends ??= new MemoryBackendFactory()
    return memoryBackends.create(url, parsed.hostname, context.serializers, {
      expires: context.expires,
      extended: context.extended,
    })
  }
  if (parsed.scheme === 'rpc') {
    const { RpcBackend } = await import('./rpc.js')
    return new RpcBackend(url, context)
  }
  const pkg = PACKAGES[parsed.scheme]
  if (!pkg) {
    throw new ConfigurationError(
      `Unknown result backend '${parsed.scheme}://': use memory://, rpc://, or redis:// (with @q/backend-redis)`,
    )
  }
  let mod: { backend?: BackendDriver; default?: BackendDriver }
  try {
    mod = await importOptional<typeof mod>(pkg)
  } catch (cause) {
    throw new ConfigurationError(
      `The '${parsed.scheme}://' result backend needs ${pkg}: npm install ${pkg} ioredis`,
      { cause },
    )
  }
  const driver = mod.backend ?? mod.default
  if (!driver?.create) throw new ConfigurationError(`${pkg} does not export a backend driver named 'backend'`)
  return driver.create(url, context)
}
