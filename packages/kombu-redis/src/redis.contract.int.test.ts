/**
 * The transport contract suite against the machine's Redis, on database 10 with a key prefix of
 * this run's own (every key and channel of the suite carries it; they are deleted at the end).
 * The skips are where Kombu's Redis semantics, which this transport keeps for Python interop,
 * differ from AMQP's; each has a Redis-specific test of its own.
 */
import { describeTransportContract } from '@q/kombu-testing'
import { connect, deletePrefix, uniquePrefix } from './test/redis-env.js'

const DB = 10
const globalKeyprefix = uniquePrefix('contract')

const NO_QUEUE_OBJECTS =
  'Redis has no queue objects: Kombu creates no key on declare, so a missing queue cannot be told from an empty one and passive declare always succeeds (see redis.test.ts)'

describeTransportContract({
  name: 'redis',
  connect: () => connect(DB, { globalKeyprefix }),
  cleanup: () => deletePrefix(DB, globalKeyprefix),
  skip: [
    { test: 'passive declare of a missing queue fails with ChannelError', reason: NO_QUEUE_OBJECTS },
    { test: 'deleteQueue removes the queue with its messages', reason: NO_QUEUE_OBJECTS },
    {
      test: 'fanout: every bound queue gets a copy, whatever the routing key',
      reason:
        "Kombu's fanout_patterns (on by default, Celery's events rely on it) filters fanout by binding-key pattern; with fanoutPatterns: false it is a pure fanout (see redis.int.test.ts)",
    },
  ],
})
