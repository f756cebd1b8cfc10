/**
 * One way of turning a message body into bytes and back, identified on the wire by its
 * content type (Kombu's serializer registry entries: `json`, `msgpack`, ...).
 */
export interface Serializer {
  /** Short name used to pick the serializer, e.g. `'json'`. */
  readonly name: string
  /** MIME type sent as the message's `content_type`, e.g. `'application/json'`. */
  readonly contentType: string
  /** Sent as `content_encoding`: a charset such as `'utf-8'`, or `'binary'`. */
  readonly contentEncoding: string
  /** Serializes a value; throws `EncodeError` for values the format cannot carry. */
  encode(value: unknown): Buffer
  /** Deserializes a body; throws `DecodeError` when the bytes are not valid for the format. */
  decode(body: Buffer): unknown
}

/** A serialized body together with the properties a message must carry to describe it. */
export interface EncodedBody {
  /** The serialized bytes. */
  body: Buffer
  /** Value for the message's `content_type` property. */
  contentType: string
  /** Value for the message's `content_encoding` property. */
  contentEncoding: string
}
