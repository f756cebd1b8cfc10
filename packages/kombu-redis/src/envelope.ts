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
import { pyDumps, pyString, RawJson } from './py-json.js'
import { RecurringObjectWriter } from './recurring-object.js'

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

/** The headers of the envelopes written here: a task's differ from the last one's in a few values. */
const headersWriter = new RecurringObjectWriter()

/** Properties Kombu writes after the others, in this order (see `Producer.publish`, `prepare_message`). */
const TAIL = new Set(['deliveryMode', 'expiration', 'priority'])

/** Where a message was published. */
export interface Route {
  readonly exchange: string
  readonly routingKey: string
}

/**
 * Writes the envelope of `message` as Kombu does. A new uuid4 `delivery_tag` is made unless one
 * is given (tests pass one to compare with golden samples).
 */
export function encodeEnvelope(message: OutgoingMessage, route: Route, deliveryTag?: string): string {
  const props = message.properties
  // The template below writes the keys in Kombu's order; it is exact only for our known property
  // names (no two of them give the same snake_case name). Anything else takes the general path.
  let head = ''
  const names = Object.keys(props)
  for (let i = 0; i < names.length; i++) {
    const k = names[i]!
    const key = HEAD_KEYS.get(k)
    if (key === undefined) {
      if (TAIL.has(k)) continue
      return encodeGeneral(message, route, deliveryTag ?? uuid())
    }
    const v = props[k as keyof MessageProperties]
    if (v !== undefined) head += `${key}${pyDumps(v)}, `
  }
  if (
    typeof message.contentEncoding !== 'string' ||
    typeof message.contentType !== 'string' ||
    !message.headers
  )
    return encodeGeneral(message, route, deliveryTag ?? uuid())
  if (props.deliveryMode !== undefined) head += `"delivery_mode": ${pyDumps(props.deliveryMode)}, `
  if (props.expiration !== undefined) head += `"expiration": ${pyDumps(props.expiration)}, `
  // Joined, not concatenated: one flat string, where a rope of some forty pieces would be
  // flattened again by every write of it (see RecurringObjectWriter). base64 is plain ASCII:
  // written as it is, never scanned for escapes.
  const parts = [
    '{"body": "',
    message.body.toString('base64'),
    middle(message.contentEncoding, message.contentType),
  ]
  headersWriter.writeParts(message.headers, parts)
  // A tag of ours is a uuid4: nothing in it to escape.
  const tag = deliveryTag === undefined ? `"${uuid()}"` : pyString(deliveryTag)
  parts.push(`}, "properties": {${head}`, tail(route, props.priority ?? 0), tag, '}}')
  return parts.join('')
}

/**
 * `s` as one flat string: a rope kept and joined again would be walked piece by piece each time,
 * and V8 leaves a concatenation (or a join of two pieces) a rope. Copied through bytes, which for
 * the ASCII text of an envelope is the same text; only on a cache miss.
 */
const flat = (s: string): string => Buffer.from(s, 'utf8').toString('utf8')

/** The text between the body and the headers' entries, for the last encoding and type written. */
let lastMiddle = { encoding: '', type: '', text: '' }

function middle(encoding: string, type: string): string {
  const last = lastMiddle
  if (last.encoding === encoding && last.type === type) return last.text
  const text = flat(
    `", "content-encoding": ${pyString(encoding)}, "content-type": ${pyString(type)}, "headers": {`,
  )
  lastMiddle = { encoding, type, text }
  return text
}

/** The properties' constant end, up to the delivery tag's value, for the last route written. */
let lastTail = { exchange: '', routingKey: '', priority: undefined as unknown, text: '' }

function tail(route: Route, priority: unknown): string {
  const last = lastTail
  if (last.exchange === route.exchange && last.routingKey === route.routingKey && last.priority === priority)
    return last.text
  const text = flat(
    `"delivery_info": {"exchange": ${pyString(route.exchange)}, "routing_key": ${pyString(route.routingKey)}}` +
      `, "priority": ${pyDumps(priority)}, "body_encoding": "base64", "delivery_tag": `,
  )
  lastTail = { exchange: route.exchange, routingKey: route.routingKey, priority, text }
  return text
}

/**
 * Property names the template of {@link encodeEnvelope} writes exactly as the general path, but
 * for the TAIL ones, each with its quoted snake_case name and `": "`, made once.
 */
const HEAD_KEYS: ReadonlyMap<string, string> = new Map(
  [...Object.keys(SNAKE), 'timestamp', 'type']
    .filter((k) => !TAIL.has(k))
    .map((k) => [k, `${pyString(SNAKE[k] ?? k)}: `]),
)

/** Any properties: built as an object first, so that colliding names end up as Kombu's dict would. */
function encodeGeneral(message: OutgoingMessage, route: Route, deliveryTag: string): string {
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
  const env = parseEnvelope(raw)
  let decoded: Decoded
  if (!env) {
    decoded = {
      message: invalidMessage(raw),
      exchange: fallback.exchange,
      routingKey: fallback.routingKey,
      redelivered: false,
      tag: undefined,
    }
  } else {
    const props = env.properties as Json
    const info = isObject(props.delivery_info) ? props.delivery_info : NO_INFO
    decoded = {
      message: messageOf(env, props),
      exchange: typeof info.exchange === 'string' ? info.exchange : fallback.exchange,
      routingKey: typeof info.routing_key === 'string' ? info.routing_key : fallback.routingKey,
      redelivered: info.redelivered === true,
      tag: typeof props.delivery_tag === 'string' ? props.delivery_tag : undefined,
    }
  }
  return decoded
}

const NO_INFO: Json = Object.freeze({})

/** The envelope object, or undefined when `raw` is not one (not JSON, or no properties object). */
export function parseEnvelope(raw: string): Json | undefined {
  let env: unknown
  try {
    env = parsePythonJson(raw)
  } catch {
    return undefined
  }
  return isObject(env) && isObject(env.properties) ? env : undefined
}

/** What an item that is not an envelope is delivered as: its bytes, for the decode-error path. */
export function invalidMessage(raw: string): OutgoingMessage {
  return {
    body: Buffer.from(raw, 'utf8'),
    contentType: INVALID_ENVELOPE,
    contentEncoding: 'binary',
    headers: {},
    properties: {},
  }
}

/** The message of a parsed envelope (`props` is its `properties` object). */
export function messageOf(env: Json, props: Json): OutgoingMessage {
  // for-in and a switch rather than Object.entries and a dictionary: this runs for every message.
  const properties: MessageProperties = {}
  for (const k in props) {
    if (k === 'delivery_info' || k === 'body_encoding' || k === 'delivery_tag') continue
    properties[camel(k)] = props[k]
  }
  const body = env.body
  const contentType = env['content-type']
  const contentEncoding = env['content-encoding']
  return {
    body:
      typeof body !== 'string'
        ? Buffer.alloc(0)
        : props.body_encoding === 'base64'
          ? Buffer.from(body, 'base64')
          : Buffer.from(body, 'utf8'),
    contentType: typeof contentType === 'string' ? contentType : 'application/data',
    contentEncoding: typeof contentEncoding === 'string' ? contentEncoding : 'binary',
    headers: isObject(env.headers) ? env.headers : {},
    properties,
  }
}

/** Kombu's property name in ours (the common ones first). */
function camel(snake: string): string {
  switch (snake) {
    case 'correlation_id':
      return 'correlationId'
    case 'reply_to':
      return 'replyTo'
    case 'delivery_mode':
      return 'deliveryMode'
    case 'priority':
      return 'priority'
    default:
      return CAMEL[snake] ?? snake
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
