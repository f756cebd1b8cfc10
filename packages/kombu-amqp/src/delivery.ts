/** An amqplib message as a @q/kombu Delivery: body bytes untouched, properties without the unset ones. */
import type { Delivery, DeliveryInfo, MessageProperties } from '@q/kombu'
import type { Message as AmqplibMessage } from 'amqplib'
import { codecInstalled } from './amqplib.js'
import { isPlainTable } from './field-decode.js'
import { fromWireTable } from './headers.js'

/** The headers as plain values; a table our decoder made with nothing to convert is used as it is. */
function plainHeaders(headers: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!headers) return {}
  return codecInstalled() && isPlainTable(headers) ? headers : fromWireTable(headers)
}

/**
 * Builds the Delivery of an amqplib message. One pass over amqplib's properties, set ones only
 * (`!= null`: amqplib leaves the absent ones undefined).
 * @param deliveryTag the tag as this transport numbers it (see AmqpChannel).
 * @param queue the queue it was consumed or fetched from.
 */
export function toDelivery(message: AmqplibMessage, deliveryTag: number, queue: string): Delivery {
  const p = message.properties
  const f = message.fields as unknown as Record<string, unknown>
  const properties: MessageProperties = {}
  if (p.deliveryMode != null) properties.deliveryMode = p.deliveryMode as 1 | 2
  if (p.priority != null) properties.priority = p.priority as number
  if (p.correlationId != null) properties.correlationId = p.correlationId as string
  if (p.replyTo != null) properties.replyTo = p.replyTo as string
  if (p.expiration != null) properties.expiration = p.expiration as string
  if (p.messageId != null) properties.messageId = p.messageId as string
  if (p.timestamp != null) properties.timestamp = p.timestamp as number
  if (p.type != null) properties.type = p.type as string
  if (p.userId != null) properties.userId = p.userId as string
  if (p.appId != null) properties.appId = p.appId as string
  if (p.clusterId != null) properties.clusterId = p.clusterId as string
  const deliveryInfo: DeliveryInfo = {
    exchange: f.exchange as string,
    routingKey: f.routingKey as string,
    queue,
    redelivered: f.redelivered as boolean,
  }
  if (typeof f.consumerTag === 'string') deliveryInfo.consumerTag = f.consumerTag
  if (typeof f.messageCount === 'number') deliveryInfo.messageCount = f.messageCount
  return {
    body: message.content,
    contentType: (p.contentType as string | undefined) ?? '',
    contentEncoding: (p.contentEncoding as string | undefined) ?? '',
    headers: plainHeaders(p.headers as Record<string, unknown> | undefined),
    properties,
    deliveryTag,
    deliveryInfo,
  }
}
