/**
 * What the channels of one connection share: the command client, key naming, declared
 * exchanges, fanout subscriptions, the unacked QoS and the delayed-delivery timer.
 */
import type { Exchange, Logger } from '@q/kombu'
import type { Redis } from 'ioredis'
import type { FanoutBinding, RedisBindingTable } from './bindings.js'
import type { DelayTimer } from './delayed.js'
import type { FanoutHub } from './fanout.js'
import type { Keys } from './keys.js'
import type { ResolvedOptions } from './options.js'
import type { Qos } from './qos.js'

/** A message a lost connection held: given back once the broker is reachable again. */
export interface Orphan {
  /** Its `unacked` tag; without one the payload is simply pushed back. */
  readonly tag: string | undefined
  readonly payload: string
  readonly list: string
}

/** Per-connection state, shared by its channels. */
export interface Shared {
  readonly options: ResolvedOptions
  readonly keys: Keys
  readonly logger: Logger
  /** Declared exchanges (pre-filled with the fanout ones Redis cannot tell us about). */
  readonly exchanges: Map<string, Exchange>
  /** Queues bound to fanout exchanges on this connection. */
  readonly fanoutQueues: Map<string, FanoutBinding>
  readonly bindings: RedisBindingTable
  readonly qos: Qos
  readonly hub: FanoutHub
  readonly delays: DelayTimer
  /** Redis >= 6 takes fractional BRPOP timeouts. */
  readonly fractionalTimeouts: boolean
  /** Redis >= 5 has CLIENT UNBLOCK. */
  readonly canUnblock: boolean
  /** The command client. */
  client(): Redis
  /** Sends the command client's writes held so far this tick (see WriteCoalescer.flush). */
  flush(): void
  /** A new connection with the same options (blocking BRPOP). */
  duplicate(): Promise<Redis>
  /** True once the connection is lost or closed. */
  readonly lost: boolean
  /** Keeps a held message to give back after reconnecting (the connection was lost). */
  orphan(orphan: Orphan): void
}
