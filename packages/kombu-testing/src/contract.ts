/**
 * describeTransportContract: the one suite every transport runs against itself, so that
 * memory, AMQP, Redis and SQS behave alike where they claim to (after Kombu's
 * t/integration/common.py mixins and hono's shared router cases). Tests that need a capability
 * the transport does not declare are registered as skipped, with the reason in their name.
 */
import type { TransportCapabilities } from '@q/kombu'
import { afterAll, describe, expect, it } from 'vitest'
import { ackCases } from './cases/acks.js'
import { bodyCases } from './cases/bodies.js'
import { consumerCases } from './cases/consumers.js'
import { declareCases, queueCases } from './cases/declare.js'
import { delayCases, priorityCases, ttlCases, volumeCases } from './cases/delivery.js'
import { failureCases } from './cases/failures.js'
import { lifecycleCases } from './cases/lifecycle.js'
import { publishManyCases } from './cases/publish-many.js'
import { routingCases } from './cases/routing.js'
import { simpleQueueCases } from './cases/simple.js'
import type { ContractOptions } from './options.js'
import { createSuite } from './suite.js'

/** Connects once to read what the transport can do; capabilities are known only once connected. */
async function readCapabilities(options: ContractOptions): Promise<TransportCapabilities> {
  const conn = await options.connect()
  try {
    await conn.connect()
    return conn.capabilities
  } catch (err) {
    const why = `transport contract '${options.name}': cannot connect to read the capabilities`
    throw new Error(`${why}: ${(err as Error).message}`, { cause: err })
  } finally {
    await conn.close()
  }
}

/**
 * Declares the transport contract suite with vitest's `describe`/`it`. Call it at the top level
 * of a test file.
 *
 * @example
 * // One broker for the whole suite; every connect() must reach it.
 * const broker = `contract-${randomUUID()}`
 * describeTransportContract({ name: 'memory', connect: () => new Connection(`memory://${broker}`) })
 */
export function describeTransportContract(options: ContractOptions): void {
  // An async collector: vitest awaits it, so test names can say which capability is missing.
  describe(`transport contract: ${options.name}`, async () => {
    const suite = createSuite(options, await readCapabilities(options))
    describe('declare and bind', () => declareCases(suite))
    describe('queues', () => queueCases(suite))
    describe('exchange types', () => routingCases(suite))
    describe('bodies', () => bodyCases(suite))
    describe('batched publish', () => publishManyCases(suite))
    describe('acknowledgements', () => ackCases(suite))
    describe('consumers', () => consumerCases(suite))
    describe('priority', () => priorityCases(suite))
    describe('time to live', () => ttlCases(suite))
    describe('delayed delivery', () => delayCases(suite))
    describe('failures', () => failureCases(suite))
    describe('SimpleQueue', () => simpleQueueCases(suite))
    describe('lifecycle', () => lifecycleCases(suite))
    describe('volume', () => volumeCases(suite))
    if (options.skip?.length) {
      it('every skip entry names a contract test', () => {
        expect(suite.unusedSkips().map((s) => s.test)).toEqual([])
      })
    }
    if (options.cleanup) afterAll(options.cleanup)
  })
}
