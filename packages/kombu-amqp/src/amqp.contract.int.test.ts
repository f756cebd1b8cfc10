/**
 * The transport contract suite of @q/kombu against the real RabbitMQ, in the run's own vhost.
 * Delayed delivery is skipped by capability (RabbitMQ needs a plugin for it).
 */
import { Connection } from '@q/kombu'
import { describeTransportContract } from '@q/kombu-testing'
import { amqpUrl } from '../test/broker.js'
import { transport } from './index.js'

describeTransportContract({
  name: 'amqp (RabbitMQ)',
  connect: () => new Connection(amqpUrl(), { transport }),
})
