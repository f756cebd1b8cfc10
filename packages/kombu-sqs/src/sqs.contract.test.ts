/**
 * The transport contract suite against fauxqs, an independent SQS emulator started here on a
 * free port. Every connection of the suite reaches the same emulator under one queue-name prefix.
 * Skips come from the capabilities (no fanout/topic/headers routing, priority or TTL on SQS),
 * plus one limit SQS sets that no capability names.
 */
import { randomBytes } from 'node:crypto'
import { describeTransportContract } from '@q/kombu-testing'
import { startEmulator } from './test-support/fauxqs.js'

const sqs = await startEmulator()
const prefix = `c${randomBytes(3).toString('hex')}-`

describeTransportContract({
  name: 'sqs (fauxqs)',
  connect: () => sqs.connection({ queueNamePrefix: prefix }),
  cleanup: () => sqs.stop(),
  // Every publish is an HTTP request to an emulator sharing this thread: slower than memory.
  timeoutScale: 2,
  skip: [
    {
      test: 'a 1 MiB body arrives byte for byte',
      reason:
        'SQS messages are at most 1 MiB, and Kombu wraps the body in a JSON envelope and base64s it twice (~1.8x); publishing it fails with LimitExceededError',
    },
  ],
})
