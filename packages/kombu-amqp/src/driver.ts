/**
 * The AMQP transport driver: what `amqp://`, `amqps://` and `pyamqp://` URLs load (see
 * @q/kombu's TRANSPORT_ALIASES). It opens amqplib connections; everything else (failover
 * alternates, retries, reconnecting) is @q/kombu's Connection.
 */
import type { BrokerUrl, TransportDriver } from '@q/kombu'
import type { TransportContext } from '@q/kombu/internal'
import { amqplib } from './amqplib.js'
import { amqpCapabilities } from './capabilities.js'
import { connectArgs } from './connect-options.js'
import { AmqpConnection } from './connection.js'
import { classifyError, toAmqpQError } from './errors.js'

/** The AMQP transport driver. */
export interface AmqpTransport extends TransportDriver {
  readonly name: 'amqp'
  connect(url: BrokerUrl, context: TransportContext): Promise<AmqpConnection>
}

/**
 * Creates an AMQP driver. What it learns about a broker (which queues refuse a global prefetch)
 * is kept per driver and per vhost, so that a reconnection does not make the same mistake twice.
 */
export function createAmqpTransport(): AmqpTransport {
  const queueTypes = new Map<string, Map<string, string>>()
  return {
    name: 'amqp',
    capabilities: amqpCapabilities,
    defaultPort: 5672,
    classifyError,
    async connect(url, context) {
      const api = amqplib(context.logger)
      const { connect, socket, where } = connectArgs(url, context)
      const types = queueTypes.get(where) ?? new Map<string, string>()
      queueTypes.set(where, types)
      try {
        const model = await api.connect(connect, socket)
        return new AmqpConnection(model, types, context.logger)
      } catch (err) {
        throw toAmqpQError(err, `cannot connect to amqp://${where}`)
      }
    },
  }
}

/** The default AMQP driver, as @q/kombu loads it for `amqp://`, `amqps://` and `pyamqp://` URLs. */
export const transport: AmqpTransport = createAmqpTransport()
