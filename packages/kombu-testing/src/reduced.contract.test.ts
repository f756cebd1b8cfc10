/**
 * The contract suite against a memory transport that declares fewer capabilities than it has:
 * checks that the suite skips, with a reason, exactly what a smaller transport (say, SQS)
 * cannot do, that the skip list works, and that every other test still passes without
 * publisher confirms (waiting by polling instead).
 */
import { randomUUID } from 'node:crypto'
import { Connection, createMemoryTransport, type TransportCapabilities, type TransportDriver } from '@q/kombu'
import { describeTransportContract } from './index.js'

const memory = createMemoryTransport()
const capabilities: TransportCapabilities = {
  ...memory.capabilities,
  exchangeTypes: ['direct', 'fanout'],
  priority: 'none',
  ttl: false,
  delayedDelivery: false,
  publisherConfirms: false,
}
const reduced: TransportDriver = {
  name: 'memory-reduced',
  capabilities,
  classifyError: (err) => memory.classifyError(err),
  connect: (url, context) => memory.connect(url, context),
}
const broker = `reduced-${randomUUID()}`

describeTransportContract({
  name: 'memory with reduced capabilities',
  connect: () => new Connection(`memory://${broker}`, { transport: reduced }),
  skip: [{ test: '10,000 messages arrive complete and in order', reason: 'covered by the full memory run' }],
})
