/**
 * From a broker URL and @q/kombu's TransportContext to amqplib's connect options, as Kombu's
 * pyamqp transport reads them: `amqp://user:pass@host:5672//` (vhost `/`), `amqps://` or
 * `ssl: {...}` for TLS on port 5671, the heartbeat in seconds, TCP_NODELAY on.
 */
import { type BrokerUrl, InvalidOptionError } from '@q/kombu'
import type { TransportContext } from '@q/kombu/internal'
import type { Options } from 'amqplib'

/** Transport options this transport reads (`transportOptions`, or the URL's query string). */
export interface AmqpTransportOptions {
  /** Heartbeat in seconds when the Connection's `heartbeat` is 0 (e.g. `?heartbeat=30`). */
  heartbeat?: number
  /** Largest frame in bytes; default amqplib's 131072. */
  frameMax?: number
  /** Most channels on the connection; default: what the broker allows. */
  channelMax?: number
  /** Shown by RabbitMQ's management UI and `rabbitmqctl list_connections client_properties`. */
  connectionName?: string
  /** TCP_NODELAY; default true (as py-amqp). */
  noDelay?: boolean
  /** TCP keepalive; default true. */
  keepAlive?: boolean
  /** Further options for `net.connect`/`tls.connect`. */
  socketOptions?: Record<string, unknown>
}

/** What `amqplib.connect` is called with. */
export interface AmqplibConnectArgs {
  readonly connect: Options.Connect
  readonly socket: Record<string, unknown>
  /** For error messages: host:port/vhost, no credentials. */
  readonly where: string
}

function numberOption(options: Readonly<Record<string, unknown>>, key: string): number | undefined {
  const v = options[key]
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
    throw new InvalidOptionError(`transport option '${key}' must be a number >= 0, got ${JSON.stringify(v)}`)
  return v
}

/** Builds amqplib's connect options. Throws InvalidOptionError for a bad option. */
export function connectArgs(url: BrokerUrl, context: TransportContext): AmqplibConnectArgs {
  const t = context.transportOptions
  const tls = url.scheme === 'amqps' || context.ssl !== false
  const hostname = url.hostname || 'localhost'
  const port = url.port ?? (tls ? 5671 : 5672)
  // Kombu: an empty path is the vhost '/'. amqplib unescapes the vhost, so escape it.
  const vhost = url.virtualHost || '/'
  const heartbeat = context.heartbeat || numberOption(t, 'heartbeat') || 0
  const connect: Options.Connect = {
    protocol: tls ? 'amqps' : 'amqp',
    hostname,
    port,
    vhost: encodeURIComponent(vhost),
    heartbeat,
  }
  if (url.userid !== undefined || url.password !== undefined) {
    connect.username = url.userid ?? ''
    connect.password = url.password ?? ''
  }
  const frameMax = numberOption(t, 'frameMax')
  if (frameMax !== undefined) connect.frameMax = frameMax
  const channelMax = numberOption(t, 'channelMax')
  if (channelMax !== undefined) connect.channelMax = channelMax

  const socket: Record<string, unknown> = {
    timeout: context.connectTimeout,
    noDelay: t.noDelay !== false,
    keepAlive: t.keepAlive !== false,
    ...(typeof context.ssl === 'object' ? context.ssl : {}),
    ...(t.socketOptions as Record<string, unknown> | undefined),
  }
  const name = t.connectionName
  if (typeof name === 'string') socket.clientProperties = { connection_name: name }
  return { connect, socket, where: `${hostname}:${port}/${vhost === '/' ? '' : vhost}` }
}
