import { DecodeError, EncodeError, InvalidOptionError, NotSupportedError } from '../errors.js'
import {
  brotliCompressor,
  deflateCompressor,
  UNAVAILABLE,
  zlibCompressor,
  zstdCompressor,
} from './builtins.js'
import type { CompressedBody, Compressor } from './types.js'

/** Options of {@link CompressionRegistry}. */
export interface CompressionRegistryOptions {
  /** Register zlib/gzip, deflate, brotli and (when Node has it) zstd (default true). */
  builtins?: boolean
}

/**
 * Compressors by name, alias and content type, applied after serialization as Kombu
 * does (the content type goes in the `compression` header). Each instance is
 * independent: no process-wide state.
 */
export class CompressionRegistry {
  readonly #byName = new Map<string, Compressor>()
  readonly #byType = new Map<string, Compressor>()

  constructor(options: CompressionRegistryOptions = {}) {
    if (options.builtins ?? true) {
      for (const c of [zlibCompressor, deflateCompressor, brotliCompressor, zstdCompressor()]) {
        if (c !== undefined) this.register(c)
      }
    }
  }

  /** Adds a compressor under its name, aliases and content type, replacing earlier owners. */
  register(compressor: Compressor): void {
    if (!compressor.name || !compressor.contentType) {
      throw new InvalidOptionError(
        'A compressor needs a non-empty name and contentType, e.g. zlib / application/x-gzip',
      )
    }
    for (const name of [compressor.name, ...(compressor.aliases ?? [])]) this.#byName.set(name, compressor)
    this.#byType.set(compressor.contentType, compressor)
  }

  /** The compressor with this name, alias or content type, if registered. */
  get(nameOrContentType: string): Compressor | undefined {
    return this.#byName.get(nameOrContentType) ?? this.#byType.get(nameOrContentType)
  }

  /** Names and aliases that pick a registered compressor. */
  names(): string[] {
    return [...this.#byName.keys()]
  }

  /**
   * Compresses a serialized body with the named method.
   *
   * @throws NotSupportedError for a method Kombu has but this Node cannot run (bz2, lzma,
   *   zstd before Node 22.15); EncodeError for an unknown name or a failure.
   */
  compress(body: Buffer, name: string): CompressedBody {
    const compressor = this.get(name)
    if (compressor === undefined) {
      const reason = UNAVAILABLE.get(name)
      if (reason !== undefined) throw new NotSupportedError(`Cannot compress with '${name}': ${reason}`)
      throw new EncodeError(
        `Unknown compression '${name}' (known: ${this.names().join(', ') || 'none'}); pick one of those or register a compressor`,
      )
    }
    try {
      return { body: compressor.compress(body), contentType: compressor.contentType }
    } catch (err) {
      throw new EncodeError(`Compressing with '${compressor.name}' failed: ${(err as Error).message}`, {
        cause: err,
      })
    }
  }

  /**
   * Decompresses a body whose `compression` header is `contentType`.
   *
   * @throws DecodeError for an unknown or unavailable method, or corrupt data.
   */
  decompress(body: Buffer, contentType: string): Buffer {
    const compressor = this.get(contentType)
    if (compressor === undefined) {
      const reason = UNAVAILABLE.get(contentType)
      const why =
        reason ??
        `no compressor is registered for it (known: ${[...this.#byType.keys()].join(', ') || 'none'})`
      throw new DecodeError(`Cannot decompress a '${contentType}' body: ${why}`)
    }
    try {
      return compressor.decompress(body)
    } catch (err) {
      throw new DecodeError(
        `Body is not valid '${contentType}' data (${(err as Error).message}); check the producer's compression header`,
        { cause: err },
      )
    }
  }
}
