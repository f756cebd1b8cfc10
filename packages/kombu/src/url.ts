/**
 * Broker URLs, parsed as Kombu parses them (kombu.utils.url): `amqp://user:pass@host:5672/vhost`,
 * `//` for the vhost `/`, `redis://:pass@host:6379/3`, percent-decoding of every part, and the
 * query string kept as transport options. Several URLs separated by `;` are failover alternates.
 */
import { InvalidUrlError } from './errors.js'
import type { BrokerUrl } from './types.js'

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/(.*)$/s

function decode(part: string, what: string, href: string): string {
  try {
    return decodeURIComponent(part)
  } catch (cause) {
    throw new InvalidUrlError(`Broker URL '${maskUrl(href)}' has a badly percent-encoded ${what}`, { cause })
  }
}

/** Parses one broker URL. Throws InvalidUrlError with what to fix. */
export function parseUrl(href: string): BrokerUrl {
  if (typeof href !== 'string' || href.trim() === '') {
    throw new InvalidUrlError(
      'Broker URL is empty: expected something like amqp://guest:guest@localhost:5672//',
    )
  }
  const m = SCHEME.exec(href.trim())
  if (!m) {
    throw new InvalidUrlError(
      `Broker URL '${maskUrl(href)}' has no scheme: expected <transport>://[user:password@]host[:port][/vhost], e.g. redis://localhost:6379/0`,
    )
  }
  const scheme = m[1]!.toLowerCase()
  let rest = m[2]!
  let query = ''
  const q = rest.indexOf('?')
  if (q >= 0) {
    query = rest.slice(q + 1)
    rest = rest.slice(0, q)
  }
  const slash = rest.indexOf('/')
  const authority = slash >= 0 ? rest.slice(0, slash) : rest
  const path = slash >= 0 ? rest.slice(slash + 1) : ''
  // The password may contain '@': the host starts after the last one.
  const at = authority.lastIndexOf('@')
  const userinfo = at >= 0 ? authority.slice(0, at) : undefined
  const hostport = at >= 0 ? authority.slice(at + 1) : authority
  let userid: string | undefined
  let password: string | undefined
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':')
    userid = decode(colon >= 0 ? userinfo.slice(0, colon) : userinfo, 'user name', href) || undefined
    password = colon >= 0 ? decode(userinfo.slice(colon + 1), 'password', href) || undefined : undefined
  }
  const hp = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(hostport)
  const hostname = decode(hp?.[1] ?? '', 'host', href)
    .replace(/^\[|\]$/g, '')
    .toLowerCase()
  let port: number | undefined
  if (hp?.[2] !== undefined && hp[2] !== '') {
    port = Number(hp[2])
    if (!/^\d+$/.test(hp[2]) || port < 1 || port > 65535) {
      throw new InvalidUrlError(
        `Broker URL '${maskUrl(href)}' has an invalid port '${hp[2]}': expected 1-65535`,
      )
    }
  }
  const params: Record<string, string> = {}
  for (const [k, v] of new URLSearchParams(query)) params[k] = v
  return Object.freeze({
    href,
    scheme,
    hostname,
    port,
    userid,
    password,
    virtualHost: decode(path, 'path', href),
    query: Object.freeze(params),
  })
}

/** Splits a failover list: an array, or one string with `;` between URLs (as Kombu). */
export function splitUrls(urls: string | readonly string[]): string[] {
  const list = typeof urls === 'string' ? urls.split(';') : [...urls]
  return list.map((u) => u.trim()).filter((u) => u !== '')
}

/** The URL with its password replaced by `**`, for logs and error messages. */
export function maskUrl(href: string): string {
  // Same split as parseUrl: user info ends at the last '@' before the path or query.
  return href.replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/?]*)@/, (all, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':')
    return colon < 0 ? all : `${scheme}${userinfo.slice(0, colon)}:**@`
  })
}

/**
 * Query-string options as transport options: snake_case keys become camelCase (Kombu writes
 * `visibility_timeout`, we write `visibilityTimeout`), and numbers and booleans are converted.
 */
export function queryToOptions(query: Readonly<Record<string, string>>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, raw] of Object.entries(query)) {
    const name = key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())
    out[name] = coerce(raw)
  }
  return out
}

function coerce(raw: string): unknown {
  if (/^(true|yes|on)$/i.test(raw)) return true
  if (/^(false|no|off)$/i.test(raw)) return false
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw)
  return raw
}
