/** Turning list items and pub/sub payloads into VirtualDeliveries, and what they carry back. */
import type { VirtualDelivery } from '@q/kombu/internal'
import { decodeEnvelope, decodeForDelivery } from './envelope.js'
import { markRedelivered } from './py-json.js'

/** What a delivery carries back to ack, reject or restore it. */
export interface Handle {
  /** From a queue list, or from a fanout subscription (nothing to give back to). */
  readonly kind: 'list' | 'fanout'
  /** The envelope as it was stored. */
  readonly raw: string
  /** The list it was taken from (its priority bucket). */
  readonly list: string
  /** The `unacked` hash key, when the message is tracked there. */
  readonly tag: string | undefined
}

/** Builds the delivery of a stored envelope taken from `queue`. */
export function toDelivery(
  raw: string,
  queue: string,
  handle: Omit<Handle, 'raw'>,
  redelivered?: boolean,
): VirtualDelivery {
  const d = decodeForDelivery(raw, { exchange: '', routingKey: queue })
  // A literal, not a spread of `handle`: this runs for every message.
  const h: Handle = { kind: handle.kind, raw, list: handle.list, tag: handle.tag }
  return {
    message: d.message,
    queue,
    exchange: d.exchange,
    routingKey: d.routingKey,
    redelivered: redelivered ?? d.redelivered,
    handle: h,
  }
}

/** The handle of a delivery made by this transport. */
export function handleOf(delivery: VirtualDelivery): Handle {
  return delivery.handle as Handle
}

/** The tag of a stored envelope (for messages taken by BRPOP, which the script did not record). */
export function tagOf(raw: string): string | undefined {
  return decodeEnvelope(raw, { exchange: '', routingKey: '' }).tag
}

/** The envelope flagged redelivered, or as it is when it is not JSON. */
export function redeliveredPayload(raw: string): string {
  try {
    return markRedelivered(raw)
  } catch {
    return raw
  }
}
