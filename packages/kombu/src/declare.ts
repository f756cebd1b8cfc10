/**
 * Declaring entities on a channel: an Exchange, or a Queue with its exchanges and bindings.
 * Each entity is declared once per connection (Kombu's `maybe_declare`); a reconnect clears
 * the record, so everything is declared again on the new connection.
 */
import { Exchange } from './exchange.js'
import { Queue } from './queue.js'
import type { Channel } from './types.js'

/** Something that can be declared. */
export type Entity = Exchange | Queue

const keys = new WeakMap<Entity, string>()

/** The identity of an entity's declaration; entities are immutable, so it is computed once. */
function key(e: Entity): string {
  let k = keys.get(e)
  if (k === undefined) {
    k = computeKey(e)
    keys.set(e, k)
  }
  return k
}

function computeKey(e: Entity): string {
  if (e instanceof Exchange)
    return `x\0${e.name}\0${e.type}\0${e.durable}\0${e.autoDelete}\0${JSON.stringify(e.arguments)}`
  return `q\0${e.name}\0${e.durable}\0${e.exclusive}\0${e.autoDelete}\0${JSON.stringify(e.arguments)}\0${e.bindings
    .map((b) => `${b.exchange.name}/${b.exchange.type}/${b.routingKey}/${JSON.stringify(b.arguments)}`)
    .join(',')}`
}

/** Declares an exchange, or a queue with its exchanges and bindings. Returns the queue name. */
export async function declare(channel: Channel, entity: Entity): Promise<string> {
  if (entity instanceof Exchange) {
    if (entity.name) await channel.declareExchange(entity)
    return ''
  }
  for (const b of entity.bindings) if (b.exchange.name) await channel.declareExchange(b.exchange)
  const { queue } = await channel.declareQueue(entity)
  for (const b of entity.bindings) {
    if (b.exchange.name) await channel.bindQueue(queue, b.exchange.name, b.routingKey, { ...b.arguments })
  }
  return queue
}

/**
 * Declares unless already declared on this connection (`seen` is the connection's record).
 * Server-named queues (empty name) are always declared.
 */
export async function maybeDeclare(channel: Channel, entity: Entity, seen: Set<string>): Promise<void> {
  if (entity instanceof Queue && !entity.name) {
    await declare(channel, entity)
    return
  }
  const k = key(entity)
  if (seen.has(k)) return
  await declare(channel, entity)
  seen.add(k)
}
