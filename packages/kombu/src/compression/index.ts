/**
 * Body compression with Kombu's method names and content types: zlib (`gzip`), raw
 * deflate, brotli and, where Node has it, zstd.
 */
export { brotliCompressor, deflateCompressor, zlibCompressor, zstdCompressor } from './builtins.js'
export type { CompressionRegistryOptions } from './registry.js'
export { CompressionRegistry } from './registry.js'
export type { CompressedBody, Compressor } from './types.js'
