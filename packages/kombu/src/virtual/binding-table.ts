/**
 * Where a virtual transport keeps its bindings. Memory keeps them in its broker object;
 * Redis keeps them in Kombu's `_kombu.binding.<exchange>` sets and implements this interface
 * over them.
 */
import type { BindingRow } from './exchange-types.js'

/** Storage of binding rows, by exchange. Methods may be sync or async. */
export interface BindingTable {
  add(row: BindingRow): void | Promise<void>
  remove(row: BindingRow): void | Promise<void>
  /** Every row of `exchange`, in binding order. */
  rows(exchange: string): readonly BindingRow[] | Promise<readonly BindingRow[]>
  /** Drops every binding of `queue` (the queue was deleted). */
  removeQueue(queue: string): void | Promise<void>
}

const same = (a: BindingRow, b: BindingRow) =>
  a.queue === b.queue &&
  a.routingKey === b.routingKey &&
  JSON.stringify(a.arguments ?? {}) === JSON.stringify(b.arguments ?? {})

/** A BindingTable held in process memory; binding twice is a no-op, as in AMQP. */
export class InMemoryBindingTable implements BindingTable {
  private readonly byExchange = new Map<string, BindingRow[]>()

  add(row: BindingRow): void {
    const rows = this.byExchange.get(row.exchange) ?? []
    if (!rows.some((r) => same(r, row))) this.byExchange.set(row.exchange, [...rows, row])
  }

  remove(row: BindingRow): void {
    const rows = this.byExchange.get(row.exchange)
    if (rows)
      this.byExchange.set(
        row.exchange,
        rows.filter((r) => !same(r, row)),
      )
  }

  rows(exchange: string): readonly BindingRow[] {
    return this.byExchange.get(exchange) ?? []
  }

  removeQueue(queue: string): void {
    for (const [exchange, rows] of this.byExchange) {
      this.byExchange.set(
        exchange,
        rows.filter((r) => r.queue !== queue),
      )
    }
  }
}
