/** Turning list items and pub/sub payloads into VirtualDeliveries, and what they carry back. */
import type { VirtualDelivery } from '@q/kombu/internal'
import { type Decoded, decodeEnvelope } from './envelope.js'
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

/**
 * Builds the delivery of a stored envelope taken from `queue`; `decoded` when the caller already
 * read the envelope (a BRPOP'd message is read for its tag first), so it is parsed once.
 */
export function toDelivery(
  raw: string,
  queue: string,
  handle: Omit<Handle, 'raw'>,
  redelivered?: boolean,
  decoded?: Decoded,
): VirtualDelivery {
  const d = decoded ?? decodeEnvelope(raw, { exchange: '', routingKey: queue })
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

/** The envelope flagged redelivered, or as it is when it is not JSON. */
export function redeliveredPayload(raw: string): string {
  try {
    return markRedelivered(raw)
  } catch {
    return raw
  }
}
