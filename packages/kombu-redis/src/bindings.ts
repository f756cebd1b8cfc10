/**
 * Bindings in Kombu's `_kombu.binding.<exchange>` sets, shared with Python Kombu: a member per
 * binding, `<routing key>\x06\x16<pattern>\x06\x16<queue>`. Binding a queue to a fanout exchange
 * also marks the queue as consumed by pub/sub rather than from its list, as Kombu's `_queue_bind`.
 */
import type { Exchange } from '@q/kombu'
import type { BindingRow, BindingTable } from '@q/kombu/internal'
import type { Redis } from 'ioredis'
import type { FanoutHub } from './fanout.js'
import type { Keys } from './keys.js'

/** A queue bound to a fanout exchange: consumed by subscribing to the exchange's channel. */
export interface FanoutBinding {
  readonly exchange: string
  readonly routingKey: string
}

/** The binding sets of one Redis database (and key prefix). */
export class RedisBindingTable implements BindingTable {
  /**
   * @param exchanges the connection's declared exchanges (Redis does not store their types).
   * @param fanoutQueues queues bound to fanout exchanges on this connection, filled in by `add`.
   * @param hub subscribes those queues as they are bound.
   */
  constructor(
    private readonly client: () => Redis,
    private readonly keys: Keys,
    private readonly exchanges: ReadonlyMap<string, Exchange>,
    private readonly fanoutQueues: Map<string, FanoutBinding>,
    private readonly hub: FanoutHub,
  ) {}

  async add(row: BindingRow): Promise<void> {
    await this.client().sadd(this.keys.bindings(row.exchange), this.member(row))
    if (this.exchanges.get(row.exchange)?.type === 'fanout') {
      this.fanoutQueues.set(row.queue, { exchange: row.exchange, routingKey: row.routingKey })
      await this.hub.expect(row.queue, this.keys.fanoutPattern(row.exchange, row.routingKey))
    }
  }

  async remove(row: BindingRow): Promise<void> {
    const fan = this.fanoutQueues.get(row.queue)
    if (fan?.exchange === row.exchange && fan.routingKey === row.routingKey) {
      this.fanoutQueues.delete(row.queue)
      await this.hub.drop(row.queue)
    }
    await this.client().srem(this.keys.bindings(row.exchange), this.member(row))
  }

  async rows(exchange: string): Promise<readonly BindingRow[]> {
    const members = await this.client().smembers(this.keys.bindings(exchange))
    const rows: BindingRow[] = []
    for (const m of members.sort()) {
      const parsed = this.keys.parseBindingMember(m)
      if (parsed) rows.push({ exchange, ...parsed })
    }
    return rows
  }

  /**
   * Drops every binding of `queue`. Kombu only drops those its own process made; the sets are
   * shared, so this scans every binding set of the database (deleting a queue is rare).
   */
  async removeQueue(queue: string): Promise<void> {
    this.fanoutQueues.delete(queue)
    await this.hub.drop(queue)
    const client = this.client()
    let cursor = '0'
    do {
      const [next, found] = await client.scan(
        cursor,
        'MATCH',
        `${escapeGlob(this.keys.bindingPrefix)}*`,
        'COUNT',
        500,
      )
      cursor = next
      for (const key of found) {
        const members = (await client.smembers(key)).filter(
          (m) => this.keys.parseBindingMember(m)?.queue === queue,
        )
        if (members.length) await client.srem(key, ...members)
      }
    } while (cursor !== '0')
  }

  private member(row: BindingRow): string {
    return this.keys.bindingMember(row.routingKey, row.pattern, row.queue)
  }
}

/** Escapes the glob characters of a SCAN MATCH pattern. */
function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&')
}
