import { isUtf8 } from 'node:buffer'
import { DecodeError, EncodeError } from '../errors.js'
import type { Serializer } from './types.js'

function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return `a value of type ${typeof value}`
}

/** Wraps bytes without copying when they already are a Buffer. */
function toBuffer(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
}

/**
 * Kombu's raw bodies (`application/data`, `binary`): bytes sent as they are. Kombu
 * always trusts this content type, whatever the accept list says. Decoding returns the
 * body Buffer unchanged.
 */
export const raw: Serializer = Object.freeze({
  name: 'raw',
  contentType: 'application/data',
  contentEncoding: 'binary',
  encode(value: unknown): Buffer {
    if (value instanceof Uint8Array) return toBuffer(value)
    if (typeof value === 'string') return Buffer.from(value, 'utf8')
    throw new EncodeError(
      `The raw serializer takes a Buffer, Uint8Array or string, not ${describe(value)}; use the json or msgpack serializer for structured values`,
    )
  },
  decode(body: Buffer): unknown {
    return body
  },
})

/**
 * Plain text bodies (`text/plain`, `utf-8`), what Kombu sends for a `str` body when no
 * serializer is named. Encodes a string (or bytes taken as UTF-8), decodes to a string.
 */
export const text: Serializer = Object.freeze({
  name: 'text',
  contentType: 'text/plain',
  contentEncoding: 'utf-8',
  encode(value: unknown): Buffer {
    if (typeof value === 'string') return Buffer.from(value, 'utf8')
    if (value instanceof Uint8Array) return toBuffer(value)
    throw new EncodeError(
      `The text serializer takes a string (or UTF-8 bytes), not ${describe(value)}; use the json serializer for structured values`,
    )
  },
  decode(body: Buffer): unknown {
    // Like Python's bytes.decode('utf-8'): refuse invalid bytes rather than guess.
    if (!isUtf8(body))
      throw new DecodeError('Text body is not valid UTF-8; decode it with the raw serializer instead')
    return body.toString('utf8')
  },
})
