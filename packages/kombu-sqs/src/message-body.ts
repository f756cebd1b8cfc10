/**
 * The SQS layer around Kombu's envelope: `MessageBody` is the base64 of the envelope's JSON when
 * `sqsBase64Encoding` is on (Kombu 5.2's default), else the JSON itself. On receipt the body is
 * base64-decoded only when it round-trips, as Kombu does, so both forms are read.
 */
import type { OutgoingMessage } from '@q/kombu'
import { parsePythonJson } from '@q/kombu/internal'
import { type DecodedEnvelope, decodeEnvelope, encodeEnvelope } from './envelope.js'

/** The `MessageBody` of a message published to `exchange` with `routingKey`. */
export function toMessageBody(
  message: OutgoingMessage,
  exchange: string,
  routingKey: string,
  base64: boolean,
): string {
  const json = encodeEnvelope(message, exchange, routingKey)
  return base64 ? Buffer.from(json, 'utf8').toString('base64') : json
}

/** The body's bytes when it is base64 that round-trips, else undefined. */
function optionalBase64(body: string): Buffer | undefined {
  if (body.length === 0 || body.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return undefined
  const bytes = Buffer.from(body, 'base64')
  return bytes.toString('base64') === body ? bytes : undefined
}

/**
 * Reads a `MessageBody`: a Kombu envelope (base64 or plain JSON). A body that is not an envelope
 * (another producer's message) is delivered as raw bytes (`application/data`), as Kombu passes
 * such bodies through undecoded.
 */
export function fromMessageBody(body: string): DecodedEnvelope {
  const bytes = optionalBase64(body)
  const text = bytes ? bytes.toString('utf8') : body
  let parsed: unknown
  try {
    parsed = parsePythonJson(text)
  } catch {
    parsed = undefined
  }
  const envelope =
    parsed && typeof parsed === 'object' && !Array.isArray(parsed)
      ? decodeEnvelope(parsed as Record<string, unknown>)
      : undefined
  if (envelope) return envelope
  return {
    message: {
      body: bytes ?? Buffer.from(body, 'utf8'),
      contentType: 'application/data',
      contentEncoding: 'binary',
      headers: {},
      properties: {},
    },
    exchange: '',
    routingKey: '',
    redelivered: false,
  }
}
