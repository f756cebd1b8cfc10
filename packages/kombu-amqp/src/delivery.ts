/** An amqplib message as a @q/kombu Delivery: body bytes untouched, properties without the unset ones. */
import type { Delivery, MessageProperties } from '@q/kombu'
import type { Message as AmqplibMessage } from 'amqplib'
import { fromWireTable } from './headers.js'

const PROPERTIES = [
  'deliveryMode',
  'priority',
  'correlationId',
  'replyTo',
  'expiration',
  'messageId',
  'timestamp',
  'type',
  'userId',
  'appId',
  'clusterId',
] as const

/**
 * Builds the Delivery of an amqplib message.
 * @param deliveryTag the tag as this transport numbers it (see AmqpChannel).
 * @param queue the queue it was consumed or fetched from.
 */
export function toDelivery(message: AmqplibMessage, deliveryTag: number, queue: string): Delivery {
  const p = message.properties as unknown as Record<string, unknown>
  const f = message.fields as unknown as Record<string, unknown>
  const properties: MessageProperties = {}
  for (const key of PROPERTIES) {
    const value = p[key]
    if (value !== undefined && value !== null) properties[key] = value as never
  }
  const headers = p.headers as Record<string, unknown> | undefined
  return {
    body: message.content,
    contentType: (p.contentType as string | undefined) ?? '',
    contentEncoding: (p.contentEncoding as string | undefined) ?? '',
    headers: headers ? fromWireTable(headers) : {},
    properties,
    deliveryTag,
    deliveryInfo: {
      exchange: f.exchange as string,
      routingKey: f.routingKey as string,
      queue,
      redelivered: f.redelivered as boolean,
      ...(typeof f.consumerTag === 'string' ? { consumerTag: f.consumerTag } : {}),
      ...(typeof f.messageCount === 'number' ? { messageCount: f.messageCount } : {}),
    },
  }
}
