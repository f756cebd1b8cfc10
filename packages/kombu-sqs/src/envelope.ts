/**
 * Kombu's JSON message envelope, as its virtual transports (Redis, SQS) store every message
 * (protocol README section 3.1, `kombu/transport/virtual/base.py` `prepare_message` and
 * `basic_publish`):
 *
 * ```
 * {"body": "<base64>", "content-encoding": "utf-8", "content-type": "application/json",
 *  "headers": {...},
 *  "properties": {"correlation_id": ..., "reply_to": ..., "delivery_mode": 2,
 *                 "delivery_info": {"exchange": "", "routing_key": "celery"},
 *                 "priority": 0, "body_encoding": "base64", "delivery_tag": "<uuid4>"}}
 * ```
 *
 * Keys are hyphenated at the top and snake_case in `properties`; our camelCase properties are
 * mapped both ways, and properties we do not know (SQS's `MessageGroupId`) travel as they are.
 * Independent of SQS: the Redis transport writes the same envelope.
 */
import { EncodeError, type Headers, type MessageProperties, type OutgoingMessage } from '@q/kombu'
import { parsePythonJson, toPythonIsoString, uuid } from '@q/kombu/internal'

/** The envelope as JSON data, keys in Kombu's order. */
export interface KombuEnvelope {
  body: string
  'content-encoding': string
  'content-type': string
  headers: Headers
  properties: Record<string, unknown>
}

/** A message read back from an envelope, with where it was published. */
export interface DecodedEnvelope {
  readonly message: OutgoingMessage
  readonly exchange: string
  readonly routingKey: string
  /** Kombu's Redis transport sets this on restored messages; absent elsewhere. */
  readonly redelivered: boolean
}

/** Our property names -> Kombu's, for the AMQP properties that have a snake_case name. */
const TO_WIRE: Readonly<Record<string, string>> = {
  correlationId: 'correlation_id',
  replyTo: 'reply_to',
  messageId: 'message_id',
  type: 'type',
  appId: 'app_id',
  userId: 'user_id',
  timestamp: 'timestamp',
  deliveryMode: 'delivery_mode',
  expiration: 'expiration',
  priority: 'priority',
}
const FROM_WIRE: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(TO_WIRE).map(([ours, wire]) => [wire, ours]),
)

/** Written after the others, in this order, as Kombu's publish path adds them. */
const TRAILING = new Set(['expiration', 'deliveryMode', 'priority'])

/** Envelope properties that belong to the transport, not to the message. */
const TRANSPORT_KEYS = new Set(['delivery_info', 'body_encoding', 'delivery_tag'])

/**
 * Builds the envelope of a message published to `exchange` with `routingKey`. Property order
 * follows Kombu: the AMQP properties, then any others, then `expiration`, `delivery_mode`,
 * `delivery_info`, `priority` (0 unless set), `body_encoding` and a fresh `delivery_tag`.
 */
export function toEnvelope(
  message: OutgoingMessage,
  exchange: string,
  routingKey: string,
  deliveryTag: string = uuid(),
): KombuEnvelope {
  const props = message.properties
  const properties: Record<string, unknown> = {}
  const known = Object.keys(TO_WIRE).filter((k) => !TRAILING.has(k))
  for (const key of known) if (props[key] !== undefined) properties[TO_WIRE[key]!] = props[key]
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || key in TO_WIRE || TRANSPORT_KEYS.has(key)) continue
    properties[key] = value
  }
  if (props.expiration !== undefined) properties.expiration = String(props.expiration)
  if (props.deliveryMode !== undefined) properties.delivery_mode = props.deliveryMode
  properties.delivery_info = { exchange, routing_key: routingKey }
  properties.priority = props.priority ?? 0
  properties.body_encoding = 'base64'
  properties.delivery_tag = deliveryTag
  return {
    body: message.body.toString('base64'),
    'content-encoding': message.contentEncoding,
    'content-type': message.contentType,
    headers: message.headers,
    properties,
  }
}

/**
 * The envelope as the JSON text Kombu writes, byte for byte: Python's `json.dumps` defaults
 * (`", "` and `": "` separators, non-ASCII escaped), Dates as Python isoformat strings, NaN and
 * Infinity bare.
 */
export function encodeEnvelope(
  message: OutgoingMessage,
  exchange: string,
  routingKey: string,
  deliveryTag?: string,
): string {
  return pyDumps(toEnvelope(message, exchange, routingKey, deliveryTag))
}

/** A JSON string literal as Python writes it with `ensure_ascii`: everything past `~` escaped. */
function pyString(s: string): string {
  return JSON.stringify(s).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

/** `json.dumps(value)` with Python's defaults, for the JSON values an envelope holds. */
export function pyDumps(value: unknown, key = ''): string {
  switch (typeof value) {
    case 'string':
      return pyString(value)
    case 'number':
      if (Number.isFinite(value)) return JSON.stringify(value)
      return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity'
    case 'bigint':
      return value.toString()
    case 'boolean':
      return value ? 'true' : 'false'
    case 'undefined':
      return 'null'
    case 'object': {
      if (value === null) return 'null'
      if (value instanceof Date) return pyString(toPythonIsoString(value))
      if (Array.isArray(value)) return `[${value.map((v, i) => pyDumps(v, String(i))).join(', ')}]`
      if (value instanceof Uint8Array || value instanceof Map || value instanceof Set) break
      const json = (value as { toJSON?: () => unknown }).toJSON
      if (typeof json === 'function') return pyDumps(json.call(value), key)
      const items: string[] = []
      for (const [k, v] of Object.entries(value)) {
        if (v !== undefined && typeof v !== 'function') items.push(`${pyString(k)}: ${pyDumps(v, k)}`)
      }
      return `{${items.join(', ')}}`
    }
  }
  throw new EncodeError(
    `Cannot write ${Object.prototype.toString.call(value)} at key ${JSON.stringify(key)} in a Kombu envelope (JSON only); send plain values in headers and properties`,
  )
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Reads an envelope (JSON text or parsed). Returns undefined when the value is not a Kombu
 * envelope (no `body` or no `properties` object): a message from some other producer.
 *
 * @throws DecodeError when `text` is not JSON at all.
 */
export function decodeEnvelope(text: string | Record<string, unknown>): DecodedEnvelope | undefined {
  const value = typeof text === 'string' ? parsePythonJson(text) : text
  if (!isRecord(value) || !('body' in value) || !isRecord(value.properties)) return undefined
  const wire = value.properties
  const info = isRecord(wire.delivery_info) ? wire.delivery_info : {}
  const properties: MessageProperties = {}
  for (const [key, v] of Object.entries(wire)) {
    if (TRANSPORT_KEYS.has(key)) continue
    properties[FROM_WIRE[key] ?? key] = v
  }
  const rawBody = value.body
  let body: Buffer
  if (typeof rawBody !== 'string') body = Buffer.from(JSON.stringify(rawBody ?? null), 'utf8')
  else body = wire.body_encoding === 'base64' ? Buffer.from(rawBody, 'base64') : Buffer.from(rawBody, 'utf8')
  const headers = isRecord(value.headers) ? value.headers : {}
  return {
    message: {
      body,
      contentType: typeof value['content-type'] === 'string' ? value['content-type'] : 'application/data',
      contentEncoding: typeof value['content-encoding'] === 'string' ? value['content-encoding'] : 'binary',
      headers,
      properties,
    },
    exchange: typeof info.exchange === 'string' ? info.exchange : '',
    routingKey: typeof info.routing_key === 'string' ? info.routing_key : '',
    redelivered: info.redelivered === true || headers.redelivered === true,
  }
}
