/**
 * @q/kombu/internal: the building blocks for transport packages (@q/kombu-amqp, -redis, -sqs)
 * and the Celery layer. Not for applications: it may change in any minor release.
 */
export { declare, maybeDeclare } from './declare.js'
export type { EventMap, Listener } from './emitter.js'
export { Emitter } from './emitter.js'
export { toQError } from './errors.js'
export { isFrozenPrimitives } from './frozen.js'
export { importOptional, isModuleNotFound } from './import-optional.js'
export type { DecodeOptions } from './message.js'
export { decodeBody } from './message.js'
export type { ResolvedRetryPolicy } from './retry.js'
export { DEFAULT_RETRY_POLICY, resolveRetryPolicy, retryDelay } from './retry.js'
export { msgpack, parsePythonJson, pythonJson, raw, text, toPythonIsoString } from './serialization/index.js'
export { defaultMemoryTransport, loadTransport, transportAlias } from './transport-registry.js'
export { MemoryBroker, memoryCapabilities } from './transports/memory.js'
export type {
  ChannelPublishOptions,
  ConsumeOptions,
  DeliveryHandler,
  QueueDeclareResult,
  TransportConnection,
  TransportContext,
} from './types.js'
export { maskUrl, parseUrl, queryToOptions, splitUrls } from './url.js'
export { isThenable, sleep, uuid } from './util.js'
export type { BindingTable } from './virtual/binding-table.js'
export { InMemoryBindingTable } from './virtual/binding-table.js'
export type { VirtualChannelOptions } from './virtual/channel.js'
export { VirtualChannel } from './virtual/channel.js'
export { VirtualConnection } from './virtual/connection.js'
export type { BindingRow, ExchangeRouter } from './virtual/exchange-types.js'
export { exchangeRouters, headersMatch, topicMatches, topicPattern } from './virtual/exchange-types.js'
export type { GetOptions, PutOptions, VirtualDelivery, VirtualPrimitives } from './virtual/primitives.js'
export type { Corkable } from './write-coalescer.js'
export { WriteCoalescer } from './write-coalescer.js'
