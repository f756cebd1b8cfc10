/** Options of the transport contract suite. */
import type { Connection } from '@q/kombu'

/** A contract test to skip, and why (the reason is printed in the skipped test's name). */
export interface SkipEntry {
  /** The test's title, as printed without any `(skipped: ...)` suffix. */
  test: string
  reason: string
}

/** How a transport package runs the contract suite against itself. */
export interface ContractOptions {
  /** The transport's name, printed in the suite title (e.g. `memory`). */
  name: string
  /**
   * Makes a new, not yet connected Connection. Every call must reach the same broker state
   * for the whole suite (tests open a second connection to see what the first left behind),
   * isolated from other suites and runs: a unique memory broker name, vhost, Redis db or
   * name prefix. Tests isolate themselves from each other with unique queue and exchange names.
   */
  connect: () => Promise<Connection> | Connection
  /** Called once after the suite (drop the vhost, stop an emulator). */
  cleanup?: () => Promise<void>
  /** Tests to skip, each with its reason. */
  skip?: Array<SkipEntry>
  /** Multiplier for timeouts (and TTL margins) on slow brokers. Default 1. */
  timeoutScale?: number
}
