import { DecodeError, EncodeError, InvalidOptionError } from '../errors.js'
import { didYouMean as suggestClosest } from '../util.js'
import { checkAccept, listOf, unknownAcceptError } from './accept.js'
import { msgpack } from './msgpack.js'
import { pythonJson } from './python-json.js'
import { raw, text } from './raw.js'
import type { EncodedBody, Serializer } from './types.js'

/** Options of {@link SerializerRegistry}. */
export interface SerializerRegistryOptions {
  /** Register json, msgpack, raw and text at construction (default true). */
  builtins?: boolean
}

/**
 * Serializers by name and by content type, with Kombu's `dumps`/`loads` rules.
 * Each instance is independent: create one per app or connection, never share a global.
 */
export class SerializerRegistry {
  readonly #byName = new Map<string, Serializer>()
  readonly #byType = new Map<string, Serializer>()

  constructor(options: SerializerRegistryOptions = {}) {
    if (options.builtins ?? true) for (const s of [pythonJson, msgpack, raw, text]) this.register(s)
  }

  /** Adds a serializer, replacing any with the same name or content type. */
  register(serializer: Serializer): void {
    if (!serializer.name || !serializer.contentType) {
      throw new InvalidOptionError(
        'A serializer needs a non-empty name and contentType, e.g. json / application/json',
      )
    }
    this.unregister(serializer.name)
    const owner = this.#byType.get(serializer.contentType)
    if (owner !== undefined) this.#byName.delete(owner.name)
    this.#byName.set(serializer.name, serializer)
    this.#byType.set(serializer.contentType, serializer)
  }

  /** Removes the serializer with this name; returns whether there was one. */
  unregister(name: string): boolean {
    const serializer = this.#byName.get(name)
    if (serializer === undefined) return false
    this.#byName.delete(name)
    this.#byType.delete(serializer.contentType)
    return true
  }

  /** The serializer with this name or content type, if registered. */
  get(nameOrContentType: string): Serializer | undefined {
    return this.#byName.get(nameOrContentType) ?? this.#byType.get(nameOrContentType)
  }

  /** Whether a serializer with this name or content type is registered. */
  has(nameOrContentType: string): boolean {
    return this.get(nameOrContentType) !== undefined
  }

  /** Names of the registered serializers, in registration order. */
  names(): string[] {
    return [...this.#byName.keys()]
  }

  /**
   * Serializes a body as Kombu's `dumps` does. With a serializer name, uses it. Without
   * one, bytes are sent raw (`application/data`), strings as `text/plain`, and anything
   * else as JSON.
   *
   * @throws EncodeError for an unknown serializer or a value it cannot encode.
   */
  encode(value: unknown, serializerName?: string): EncodedBody {
    let serializer: Serializer
    if (serializerName !== undefined) {
      const found = this.get(serializerName)
      if (found === undefined) {
        const hint = suggestClosest(serializerName, this.names())
        throw new EncodeError(
          `No serializer named '${serializerName}' is registered (registered: ${listOf(this.names())})${hint ? `; did you mean '${hint}'?` : ''}; register one with registry.register()`,
        )
      }
      serializer = found
    } else if (value instanceof Uint8Array) serializer = raw
    else if (typeof value === 'string') serializer = text
    else {
      const json = this.#byName.get('json')
      if (json === undefined)
        throw new EncodeError("No 'json' serializer is registered; name a serializer to use")
      serializer = json
    }
    let body: Buffer
    try {
      body = serializer.encode(value)
    } catch (err) {
      if (err instanceof EncodeError) throw err
      throw new EncodeError(`Serializer '${serializer.name}' failed: ${(err as Error).message}`, {
        cause: err,
      })
    }
    // Kombu's raw_encode marks text it encoded itself as utf-8, bytes as binary.
    const contentEncoding =
      serializer === raw && typeof value === 'string' ? 'utf-8' : serializer.contentEncoding
    return { body, contentType: serializer.contentType, contentEncoding }
  }

  /**
   * Deserializes a body as Kombu's `loads` does. A missing content type, and an empty
   * body, yield the Buffer as is; `application/data`, `application/text` and `text/plain`
   * are always trusted.
   * `contentEncoding` is informational: each serializer knows its own encoding.
   *
   * @param accept content types (or serializer names) allowed; omit to allow all.
   * @throws ContentDisallowedError when the content type is outside `accept`.
   * @throws DecodeError for an unknown content type or a body that does not decode.
   */
  decode(
    body: Buffer,
    contentType: string | undefined,
    _contentEncoding: string | undefined,
    accept?: ReadonlySet<string>,
  ): unknown {
    if (!contentType) return body
    // application/text is Kombu's other name for plain text.
    const serializer =
      this.#byType.get(contentType) ?? (contentType === 'application/text' ? text : undefined)
    checkAccept(contentType, serializer, accept)
    // Kombu hands back an empty body without decoding it (`if data:` in loads).
    if (body.length === 0) return body
    if (serializer === undefined) {
      if (contentType === 'application/data') return body
      throw new DecodeError(
        `No serializer registered for content type '${contentType}' (registered: ${listOf(this.#byType.keys())}); register one with registry.register()`,
      )
    }
    try {
      return serializer.decode(body)
    } catch (err) {
      if (err instanceof DecodeError) throw err
      throw new DecodeError(`Serializer '${serializer.name}' failed: ${(err as Error).message}`, {
        cause: err,
      })
    }
  }

  /**
   * Turns an accept list of serializer names and content types into content types, like
   * Kombu's `prepare_accept_content`: `'json'` becomes `'application/json'`, anything
   * with a `/` is kept as is.
   *
   * @throws InvalidOptionError for a name that is not registered.
   */
  resolveAccept(accept: Iterable<string>): Set<string> {
    const result = new Set<string>()
    for (const item of accept) {
      if (item.includes('/')) {
        result.add(item)
        continue
      }
      const serializer = this.#byName.get(item)
      if (serializer === undefined) throw unknownAcceptError(item, this.names())
      result.add(serializer.contentType)
    }
    return result
  }
}
