/**
 * One compression method, identified on the wire by the MIME type Kombu puts in the
 * message's `compression` header (e.g. `application/x-gzip`).
 */
export interface Compressor {
  /** Name used to pick it, e.g. `'zlib'`. */
  readonly name: string
  /** Other names that pick it too, e.g. `['gzip']`. */
  readonly aliases?: readonly string[]
  /** Value of the `compression` header. */
  readonly contentType: string
  /** Compresses a serialized body. */
  compress(body: Buffer): Buffer
  /** Reverses {@link Compressor.compress}; throws on corrupt input. */
  decompress(body: Buffer): Buffer
}

/** A compressed body and the value for its `compression` header. */
export interface CompressedBody {
  /** The compressed bytes. */
  body: Buffer
  /** The compressor's MIME type, for the `compression` header. */
  contentType: string
}
