/**
 * Result backend URLs as Celery's Redis backend reads them: `redis://[[user]:password@]host[:port][/db]`,
 * `rediss://` for TLS, and `sentinel://` with several sentinels separated by `;`
 * (`sentinel://:pw@h1:26379/0;sentinel://h2:26379/0`; db and password come from the first).
 * Query parameters (`?ssl_cert_reqs=CERT_NONE&master_name=mymaster`) become options.
 */
import { ConfigurationError } from '@q/celery'

/** Redis' default port, and Sentinel's. */
export const DEFAULT_PORT = 6379
export const DEFAULT_SENTINEL_PORT = 26379

/** The schemes this package serves. */
export type RedisScheme = 'redis' | 'rediss' | 'sentinel'

/** What a backend URL says. */
export interface RedisTarget {
  scheme: RedisScheme
  /** The server (`redis`, `rediss`), or every sentinel (`sentinel`). */
  hosts: Array<{ host: string; port: number }>
  db: number
  /** ACL user name (Redis 6+). */
  username?: string
  password?: string
  /** Query parameters, later ones winning; decoded. */
  query: Record<string, string>
}

/** The URL with passwords replaced by `**`, as Celery shows it in logs. */
export function maskPassword(url: string): string {
  return url
    .split(';')
    .map((chunk) =>
      chunk.replace(/^(\s*[a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/?]*)@/, (all, scheme: string, info: string) => {
        const colon = info.indexOf(':')
        return colon < 0 ? all : `${scheme}${info.slice(0, colon)}:**@`
      }),
    )
    .join(';')
}

function decode(part: string, what: string, url: string): string {
  try {
    return decodeURIComponent(part)
  } catch (cause) {
    throw new ConfigurationError(`Result backend URL '${maskPassword(url)}' has a badly encoded ${what}`, {
      cause,
    })
  }
}

function parseOne(chunk: string, whole: string): Omit<RedisTarget, 'hosts'> & { host: string; port: number } {
  let u: URL
  try {
    u = new URL(chunk)
  } catch (cause) {
    throw new ConfigurationError(
      `Result backend URL '${maskPassword(whole)}' is not a URL: expected redis://[:password@]host[:port][/db]`,
      { cause },
    )
  }
  const scheme = u.protocol.slice(0, -1)
  if (scheme !== 'redis' && scheme !== 'rediss' && scheme !== 'sentinel') {
    throw new ConfigurationError(
      `Result backend URL '${maskPassword(whole)}' has scheme '${scheme}://': @q/backend-redis serves redis://, rediss:// and sentinel://`,
    )
  }
  const path = decode(u.pathname, 'path', whole).replace(/^\/+|\/+$/g, '')
  const db = path === '' ? 0 : Number(path)
  if (!Number.isInteger(db) || db < 0) {
    throw new ConfigurationError(
      `Result backend URL '${maskPassword(whole)}' names database '${path}': expected an integer >= 0, e.g. redis://localhost:6379/1`,
    )
  }
  const query: Record<string, string> = {}
  for (const [k, v] of u.searchParams) query[k] = v
  const username = u.username ? decode(u.username, 'user name', whole) : undefined
  const password = u.password ? decode(u.password, 'password', whole) : undefined
  return {
    scheme,
    host: u.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost',
    port: u.port ? Number(u.port) : scheme === 'sentinel' ? DEFAULT_SENTINEL_PORT : DEFAULT_PORT,
    db,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    query,
  }
}

/** Parses a result backend URL; throws ConfigurationError naming what is wrong. */
export function parseRedisUrl(url: string): RedisTarget {
  const chunks = url
    .split(';')
    .map((c) => c.trim())
    .filter(Boolean)
  if (chunks.length === 0) throw new ConfigurationError('The result backend URL is empty')
  const parts = chunks.map((c) => parseOne(c, url))
  const first = parts[0]!
  if (parts.length > 1 && first.scheme !== 'sentinel') {
    throw new ConfigurationError(
      `Result backend URL '${maskPassword(url)}' lists several servers: only sentinel:// takes a ';'-separated list`,
    )
  }
  const { host: _h, port: _p, ...rest } = first
  return {
    ...rest,
    hosts: parts.map((p) => ({ host: p.host, port: p.port })),
    query: Object.assign({}, ...parts.map((p) => p.query)),
  }
}
