/**
 * @q/kombu-sqs: the Amazon SQS transport of @q/kombu, for `sqs://` URLs, wire-compatible with
 * Python Kombu 5's SQS transport. `new Connection('sqs://')` loads it by itself; import it to
 * pass the driver explicitly or to read its capabilities.
 */
export { exchangeRefusal } from './channel.js'
export { classifyError } from './errors.js'
export { entityName, physicalName } from './names.js'
export type { PredefinedQueue, RedrivePolicy, SqsTransportOptions } from './options.js'
export { DELIVER_AT, MAX_DELAY_SECONDS, MAX_MESSAGE_BYTES } from './send.js'
export { createSqsTransport, sqsCapabilities, transport } from './transport.js'
