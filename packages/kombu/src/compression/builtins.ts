import * as zlib from 'node:zlib'
import type { Compressor } from './types.js'

/** First two bytes of a gzip file (RFC 1952). */
const GZIP_MAGIC_0 = 0x1f
const GZIP_MAGIC_1 = 0x8b

/**
 * Kombu's `gzip`/`zlib` compression. Despite the name and the `application/x-gzip`
 * type, Python sends `zlib.compress()` output: a zlib stream (RFC 1950), which is what
 * Node's deflateSync makes at the same default level. Decompression also takes a real
 * gzip file, which other producers may send under this type.
 */
export const zlibCompressor: Compressor = Object.freeze({
  name: 'zlib',
  aliases: Object.freeze(['gzip']),
  contentType: 'application/x-gzip',
  compress: (body: Buffer): Buffer => zlib.deflateSync(body),
  decompress: (body: Buffer): Buffer =>
    body[0] === GZIP_MAGIC_0 && body[1] === GZIP_MAGIC_1 ? zlib.gunzipSync(body) : zlib.inflateSync(body),
})

/** Raw DEFLATE (RFC 1951), without zlib's header and checksum. Not in Kombu 5.2. */
export const deflateCompressor: Compressor = Object.freeze({
  name: 'deflate',
  contentType: 'application/x-deflate',
  compress: (body: Buffer): Buffer => zlib.deflateRawSync(body),
  decompress: (body: Buffer): Buffer => zlib.inflateRawSync(body),
})

/** Brotli, as Kombu sends it when Python's `brotli` module is installed (quality 11). */
export const brotliCompressor: Compressor = Object.freeze({
  name: 'brotli',
  contentType: 'application/x-brotli',
  compress: (body: Buffer): Buffer => zlib.brotliCompressSync(body),
  decompress: (body: Buffer): Buffer => zlib.brotliDecompressSync(body),
})

/** The zstd functions Node added in 22.15 / 23.8, absent from Node 20 and its typings. */
interface ZstdFunctions {
  zstdCompressSync?: (body: Buffer) => Buffer
  zstdDecompressSync?: (body: Buffer) => Buffer
}

/** Content type and names Kombu uses for zstd. */
export const ZSTD_CONTENT_TYPE = 'application/zstd'

/**
 * Zstandard when this Node has it (detected at run time, not by version number), else
 * undefined. Kombu registers it under `zstd` and `zstandard`.
 */
export function zstdCompressor(): Compressor | undefined {
  const z = zlib as unknown as ZstdFunctions
  const compress = z.zstdCompressSync
  const decompress = z.zstdDecompressSync
  if (typeof compress !== 'function' || typeof decompress !== 'function') return undefined
  return Object.freeze({
    name: 'zstd',
    aliases: Object.freeze(['zstandard']),
    contentType: ZSTD_CONTENT_TYPE,
    compress: (body: Buffer): Buffer => compress(body),
    decompress: (body: Buffer): Buffer => decompress(body),
  })
}

/**
 * Methods Kombu knows that this Node cannot provide, by name and content type, with the
 * reason. bz2 and lzma have no implementation in Node's standard library.
 */
export const UNAVAILABLE: ReadonlyMap<string, string> = new Map([
  ...['zstd', 'zstandard', ZSTD_CONTENT_TYPE].map(
    (key) =>
      [
        key,
        `zstd needs Node >= 22.15 (zlib.zstdCompressSync); this is Node ${process.versions.node}`,
      ] as const,
  ),
  ...['bz2', 'bzip2', 'bzip', 'application/x-bz2'].map(
    (key) =>
      [
        key,
        'bz2 compression is Kombu-only (Python); q does not support it, use gzip, brotli or zstd',
      ] as const,
  ),
  ...['lzma', 'xz', 'application/x-lzma'].map(
    (key) =>
      [
        key,
        'lzma compression is Kombu-only (Python); q does not support it, use gzip, brotli or zstd',
      ] as const,
  ),
])
