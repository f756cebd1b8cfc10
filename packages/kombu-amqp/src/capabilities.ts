/** What the AMQP transport can do, as data (see TransportCapabilities in @q/kombu). */
import type { TransportCapabilities } from '@q/kombu'

/**
 * RabbitMQ routes every exchange type natively, honours priorities (higher first, on queues with
 * `maxPriority`), TTLs, dead-lettering and publisher confirms. Delayed delivery needs a broker
 * plugin, so it is not claimed.
 */
export const amqpCapabilities: TransportCapabilities = Object.freeze({
  exchangeTypes: Object.freeze(['direct', 'topic', 'fanout', 'headers'] as const),
  fanout: true,
  priority: 'higher-first',
  ttl: true,
  delayedDelivery: false,
  publisherConfirms: true,
  acknowledgements: true,
  deadLettering: true,
})
