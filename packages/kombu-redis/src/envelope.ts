/**
 * Kombu's Redis message envelope: the JSON object every list item, pub/sub payload and `unacked`
 * hash value carries, written byte for byte as Kombu 5 writes it:
 *
 * ```
 * {"body": "<base64>", "content-encoding": "utf-8", "content-type": "application/json",
 *  "headers": {...}, "properties": {<other properties>, "delivery_mode": 2, ["expiration": "60000",]
 *  "delivery_info": {"exchange": "", "routing_key": "celery"}, "priority": 0,
 *  "body_encoding": "base64", "delivery_tag": "<uuid4>"}}
 * ```
 */
import type { MessageProperties, OutgoingMessage } from '@q/kombu'
import { parsePythonJson, uuid } from '@q/kombu/internal'
import { pyDumps, RawJson } from './py-json.js'

/** Our camelCase property names and Kombu's (AMQP's) snake_case ones. */
const SNAKE: Readonly<Record<string, string>> = Object.freeze({
  deliveryMode: 'delivery_mode',
  correlationId: 'correlation_id',
  replyTo: 'reply_to',
  messageId: 'message_id',
  userId: 'user_id',
  appId: 'app_id',
  contentType: 'content_type',
  contentEncoding: 'content_encoding',
  clusterId: 'cluster_id',
})
const CAMEL: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(Object.entries(SNAKE).map(([camel, snake]) => [snake, camel])),
)

/** Properties Kombu writes after the others, in this order (see `Producer.publish`, `prepare_message`). */
const TAIL = new Set(['deliveryMode', 'expiration', 'priority'])
/** Transport bookkeeping inside `properties`, not shown to the application as properties. */
const INTERNAL = new Set(['delivery_info', 'body_encoding', 'delivery_tag'])

/** Where a message was published. */
export interface Route {
  readonly exchange: string
  readonly routingKey: string
}

/**
 * Writes the envelope of `message` as Kombu does. A new uuid4 `delivery_tag` is made unless one
 * is given (tests pass one to compare with golden samples).
 */
export function encodeEnvelope(message: OutgoingMessage, route: Route, deliveryTag = uuid()): string {
  const props = message.properties
  const properties: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(props))
    if (!TAIL.has(k) && v !== undefined) properties[SNAKE[k] ?? k] = v
  if (props.deliveryMode !== undefined) properties.delivery_mode = props.deliveryMode
  if (props.expiration !== undefined) properties.expiration = props.expiration
  properties.delivery_info = { exchange: route.exchange, routing_key: route.routingKey }
  properties.priority = props.priority ?? 0
  properties.body_encoding = 'base64'
  properties.delivery_tag = deliveryTag
  return pyDumps({
    body: message.body.toString('base64'),
    'content-encoding': message.contentEncoding,
    'content-type': message.contentType,
    headers: message.headers,
    properties,
  })
}

/** A decoded envelope. */
export interface Decoded {
  readonly message: OutgoingMessage
  readonly exchange: string
  readonly routingKey: string
  readonly redelivered: boolean
  /** Kombu's `delivery_tag` (the key of the `unacked` hash), when there is one. */
  readonly tag: string | undefined
}

/** Content type given to an item that is not an envelope, so the consumer's decode-error path sees it. */
export const INVALID_ENVELOPE = 'application/x-kombu-redis-invalid-envelope'

type Json = Record<string, unknown>
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Reads an envelope; an item that is not one comes back as its raw bytes with {@link INVALID_ENVELOPE}. */
export function decodeEnvelope(raw: string, fallback: Route): Decoded {
  let env: unknown
  try {
    env = parsePythonJson(raw)
  } catch {
    env = undefined
  }
  if (!isObject(env) || !isObject(env.properties)) {
    return {
      message: {
        body: Buffer.from(raw, 'utf8'),
        contentType: INVALID_ENVELOPE,
        contentEncoding: 'binary',
        headers: {},
        properties: {},
      },
      ...fallback,
      redelivered: false,
      tag: undefined,
    }
  }
  const props = env.properties
  const info = isObject(props.delivery_info) ? props.delivery_info : {}
  const properties: MessageProperties = {}
  for (const [k, v] of Object.entries(props)) if (!INTERNAL.has(k)) properties[CAMEL[k] ?? k] = v
  const body = env.body
  return {
    message: {
      body:
        typeof body !== 'string'
          ? Buffer.alloc(0)
          : props.body_encoding === 'base64'
            ? Buffer.from(body, 'base64')
            : Buffer.from(body, 'utf8'),
      contentType: typeof env['content-type'] === 'string' ? env['content-type'] : 'application/data',
      contentEncoding: typeof env['content-encoding'] === 'string' ? env['content-encoding'] : 'binary',
      headers: isObject(env.headers) ? env.headers : {},
      properties,
    },
    exchange: typeof info.exchange === 'string' ? info.exchange : fallback.exchange,
    routingKey: typeof info.routing_key === 'string' ? info.routing_key : fallback.routingKey,
    redelivered: info.redelivered === true,
    tag: typeof props.delivery_tag === 'string' ? props.delivery_tag : undefined,
  }
}

/** The `unacked` hash value of a message: `[<envelope>, "<exchange>", "<routing key>"]`. */
export function unackedValue(raw: string, route: Route): string {
  return pyDumps([new RawJson(raw), route.exchange, route.routingKey])
}

/** Reads an `unacked` hash value; undefined when it is not one. */
export function parseUnacked(
  value: string,
): { envelope: string; exchange: string; routingKey: string } | undefined {
  // The envelope is the first element; re-serialising it would change its bytes, so cut it out.
  const tail = /,\s*("(?:[^"\\]|\\.)*")\s*,\s*("(?:[^"\\]|\\.)*")\s*\]\s*$/.exec(value)
  if (!value.startsWith('[') || !tail) return undefined
  try {
    return {
      envelope: value.slice(1, tail.index).trim(),
      exchange: JSON.parse(tail[1]!) as string,
      routingKey: JSON.parse(tail[2]!) as string,
    }
  } catch {
    return undefined
  }
}
