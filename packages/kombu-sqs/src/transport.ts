/**
 * The `sqs://` transport driver: `sqs://KEY:SECRET@` (percent-encoded) or plain `sqs://` for the
 * AWS SDK's default credential chain; everything else in `transportOptions` (see
 * {@link SqsTransportOptions}).
 */
import type { TransportCapabilities, TransportDriver } from '@q/kombu'
import { ClientPool } from './clients.js'
import { SqsConnection } from './connection.js'
import { classifyError } from './errors.js'
import { resolveOptions } from './options.js'
import { Publisher } from './publisher.js'
import { QueueDirectory } from './queues.js'
import { Leases, ReturnLedger } from './receipts.js'
import { Receiver } from './receive.js'
import { Settler } from './settle.js'

/**
 * What SQS can do. No fanout, topic or headers routing (refused with NotSupportedError), no
 * priorities, no per-message TTL; delays up to 900 s natively and longer ones chained; dead
 * letters through the queue's redrive policy.
 */
export const sqsCapabilities: TransportCapabilities = Object.freeze({
  exchangeTypes: Object.freeze(['direct'] as const),
  fanout: false,
  priority: 'none',
  ttl: false,
  delayedDelivery: true,
  // With `confirm`, a publish resolves once SendMessage(Batch) has answered: SQS has stored it.
  publisherConfirms: true,
  acknowledgements: true,
  deadLettering: true,
})

/**
 * Creates an SQS transport driver. Connections of one driver share the record of receives handed
 * back unseen (see `redelivered` in the README); `transport` is the default one.
 */
export function createSqsTransport(): TransportDriver {
  const ledger = new ReturnLedger()
  return {
    name: 'sqs',
    capabilities: sqsCapabilities,
    classifyError,
    async connect(url, context) {
      const options = resolveOptions(context.transportOptions)
      const { logger } = context
      const clients = new ClientPool(url, options)
      const settler = new Settler(options.visibilityTimeout, logger)
      const leases = new Leases(options.visibilityTimeout, (receipts) => settler.renew(receipts))
      return new SqsConnection({
        options,
        capabilities: sqsCapabilities,
        clients,
        directory: new QueueDirectory(clients, options, logger),
        publisher: new Publisher(logger),
        receiver: new Receiver({
          settler,
          leases,
          ledger,
          visibilityTimeout: options.visibilityTimeout,
          logger,
        }),
        settler,
        leases,
        logger,
      })
    },
  }
}

/** The SQS transport driver that `sqs://` URLs load. */
export const transport: TransportDriver = createSqsTransport()
