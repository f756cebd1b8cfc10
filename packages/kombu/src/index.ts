/**
 * @q/kombu: transport-agnostic messaging, Kombu's model in TypeScript.
 *
 * The public API, named one by one. Transport authors import `@q/kombu/internal` as well.
 */
export type { CompressedBody, Compressor } from './compression/index.js'
export { CompressionRegistry } from './compression/index.js'
export type { ConnectionEvents, ConnectionOptions, ConnectionState } from './connection.js'
export { Connection } from './connection.js'
export type { ConsumerOptions, MessageHandler } from './consumer.js'
export { Consumer } from './consumer.js'
export type { Entity } from './declare.js'
export type { ErrorClass, QErrorCode } from './errors.js'
export {
  ChannelError,
  ClosedError,
  ConfigurationError,
  ConnectionError,
  ConnectionTimeoutError,
  ContentDisallowedError,
  DecodeError,
  EncodeError,
  InvalidOptionError,
  InvalidUrlError,
  LimitExceededError,
  MessageStateError,
  NotBoundError,
  NotSupportedError,
  QError,
  QueueEmptyError,
  SerializationError,
  TransportNotInstalledError,
  UnknownTransportError,
  UnroutableError,
} from './errors.js'
export type { ExchangeOptions } from './exchange.js'
export { Binding, Exchange } from './exchange.js'
export type { LogLevel } from './logger.js'
export { consoleLogger } from './logger.js'
export type { MessageState } from './message.js'
export { Message } from './message.js'
export { LamportClock } from './pidbox/clock.js'
export { Mailbox } from './pidbox/mailbox.js'
export type { PidboxMatcher } from './pidbox/matcher.js'
export { matchHostname } from './pidbox/matcher.js'
export { MailboxNode } from './pidbox/node.js'
export type {
  HandlerContext,
  MailboxAddressing,
  MailboxBroadcastOptions,
  MailboxCallOptions,
  MailboxOptions,
  NodeReply,
  PidboxHandler,
  PidboxHandlers,
  PidboxRequest,
  ReplyTo,
} from './pidbox/types.js'
export { NO_REPLY } from './pidbox/types.js'
export type { MessageOptions, ProducerOptions, PublishManyOptions, PublishOptions } from './producer.js'
export { Producer } from './producer.js'
export type { QueueOptions } from './queue.js'
export { Queue } from './queue.js'
export type { RetryPolicy } from './retry.js'
export type { EncodedBody, Serializer } from './serialization/index.js'
export { SerializerRegistry } from './serialization/index.js'
export type { SimpleQueueOptions } from './simple.js'
export { SimpleBuffer, SimpleQueue } from './simple.js'
export type { TransportAlias } from './transport-registry.js'
export { TRANSPORT_ALIASES } from './transport-registry.js'
export type { MemoryTransport } from './transports/memory.js'
export { createMemoryTransport } from './transports/memory.js'
export type {
  BrokerUrl,
  Channel,
  Delivery,
  DeliveryInfo,
  ExchangeType,
  Headers,
  Logger,
  MessageProperties,
  OutgoingMessage,
  TransportCapabilities,
  TransportDriver,
} from './types.js'
export { maskUrl, parseUrl } from './url.js'
