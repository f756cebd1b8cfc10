/**
 * Quickstart: a work queue on the built-in memory broker. A producer publishes orders, a
 * consumer handles them and acknowledges each; one order has a body that cannot be decoded
 * and is rejected without stopping anything. Swap the URL for amqp://, redis:// or sqs://
 * (with the transport package installed) and nothing else changes.
 *
 *   pnpm --filter @q/example-work-queue start
 */
import { Connection, Consumer, Exchange, Producer, Queue } from '@q/kombu'
import { runQuickstart } from './quickstart.js'

const url = process.argv[2] ?? process.env.BROKER_URL ?? 'memory://quickstart'
const summary = await runQuickstart({ Connection, Consumer, Exchange, Producer, Queue }, url, console.log)
console.log(`\ndone: ${summary.handled} orders handled, ${summary.rejected} rejected, total ${summary.total}`)
