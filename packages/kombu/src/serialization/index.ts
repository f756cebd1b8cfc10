/**
 * Message body serialization with Kombu's conventions: the serializers (json, msgpack,
 * raw, text) and the registry that picks one by name or content type.
 */
export { msgpack } from './msgpack.js'
export { parsePythonJson, pythonJson, toPythonIsoString } from './python-json.js'
export { raw, text } from './raw.js'
export type { SerializerRegistryOptions } from './registry.js'
export { SerializerRegistry } from './registry.js'
export type { EncodedBody, Serializer } from './types.js'
