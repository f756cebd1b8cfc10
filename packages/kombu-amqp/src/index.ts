/**
 * @q/kombu-amqp: the AMQP 0-9-1 transport of @q/kombu, on amqplib, for RabbitMQ.
 *
 * @q/kombu loads it by itself for `amqp://`, `amqps://` and `pyamqp://` URLs; import it directly
 * to pass the driver explicitly (`new Connection(url, { transport })`) or to use its error classes.
 */
export { amqpCapabilities } from './capabilities.js'
export type { AmqpChannel } from './channel.js'
export type { AmqpTransportOptions } from './connect-options.js'
export type { AmqpConnection } from './connection.js'
export type { AmqpTransport } from './driver.js'
export { createAmqpTransport, transport } from './driver.js'
export { classifyError, MessageNackedError } from './errors.js'
export { fromWireTable, toWireTable } from './headers.js'
