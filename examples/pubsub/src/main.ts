/**
 * Pub/sub demo on a topic exchange: `pnpm --filter @q/example-pubsub start [broker-url]`.
 */
import { Connection, Consumer, Exchange, Producer, Queue } from '@q/kombu'
import { runPubSub } from './pubsub.js'

const url = process.argv[2] ?? process.env.BROKER_URL ?? 'memory://pubsub'
const received = await runPubSub({ Connection, Consumer, Exchange, Producer, Queue }, url, console.log)
console.log(`\nerrors got ${received.errors.length}, billing got ${received.billing.length}`)
