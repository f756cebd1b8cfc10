/**
 * Deliveries from stored envelopes: what the worker's hot path builds for every message, and
 * the one-time reuse of a decode (a BRPOP'd message is decoded for its tag, then delivered).
 */
import { describe, expect, it } from 'vitest'
import { toDelivery } from './deliveries.js'
import { decodeEnvelope, encodeEnvelope, INVALID_ENVELOPE } from './envelope.js'

const raw = encodeEnvelope(
  {
    body: Buffer.from('[[1], {}, {}]'),
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    headers: { task: 't.x', id: 'id-1' },
    properties: { correlationId: 'id-1', replyTo: 'r', deliveryMode: 2, priority: 3, type: 'custom' },
  },
  { exchange: 'ex', routingKey: 'rk' },
  'tag-1',
)

describe('toDelivery', () => {
  it('builds the delivery and its handle from one decode', () => {
    const d = toDelivery(raw, 'celery', { kind: 'list', list: 'celery', tag: 'tag-1' })
    expect(d).toMatchObject({ queue: 'celery', exchange: 'ex', routingKey: 'rk', redelivered: false })
    expect(d.handle).toEqual({ kind: 'list', raw, list: 'celery', tag: 'tag-1' })
    expect(d.message.body.toString()).toBe('[[1], {}, {}]')
    expect(d.message.headers).toEqual({ task: 't.x', id: 'id-1' })
    expect(d.message.properties).toEqual({
      correlationId: 'id-1',
      replyTo: 'r',
      deliveryMode: 2,
      priority: 3,
      type: 'custom',
    })
  })

  it('reuses a decode the caller made of the same item, once', () => {
    const first = decodeEnvelope(raw, { exchange: '', routingKey: 'celery' })
    const d = toDelivery(raw, 'celery', { kind: 'list', list: 'celery', tag: first.tag }, undefined, first)
    expect(d.message).toBe(first.message)
    // A second delivery of the same bytes gets a message of its own.
    const again = toDelivery(raw, 'celery', { kind: 'list', list: 'celery', tag: first.tag })
    expect(again.message).not.toBe(first.message)
    expect(again.message).toEqual(first.message)
  })

  it('does not reuse a decode made with another fallback route', () => {
    const bad = 'not an envelope'
    const a = decodeEnvelope(bad, { exchange: '', routingKey: 'one' })
    const d = toDelivery(bad, 'two', { kind: 'list', list: 'two', tag: undefined })
    expect(a.routingKey).toBe('one')
    expect(d.routingKey).toBe('two')
    expect(d.message.contentType).toBe(INVALID_ENVELOPE)
  })

  it('flags a delivery redelivered when asked, or as the envelope says', () => {
    expect(toDelivery(raw, 'celery', { kind: 'fanout', list: '', tag: undefined }, true).redelivered).toBe(
      true,
    )
  })
})
