/**
 * The transport contract suite against the built-in memory transport. It lives here rather than
 * in @q/kombu because @q/kombu depending on @q/kombu-testing would make a package cycle, which
 * turbo refuses (`^build` in both directions).
 */
import { randomUUID } from 'node:crypto'
import { Connection } from '@q/kombu'
import { describeTransportContract } from './index.js'

// One broker per run of this file: every connection of the suite meets there.
const broker = `contract-${randomUUID()}`

describeTransportContract({
  name: 'memory',
  connect: () => new Connection(`memory://${broker}`),
})
