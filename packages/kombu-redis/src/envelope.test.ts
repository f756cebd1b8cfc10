/**
 * The envelope against Kombu's own output: every raw envelope of the golden samples (captured
 * from Kombu 5.2.4 + redis-py 4.3.4) decodes, and encoding the decoded message again with the
 * same delivery tag gives back the very same bytes.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { decodeEnvelope, encodeEnvelope, INVALID_ENVELOPE, parseUnacked, unackedValue } from './envelope.js'

const dir = join(fileURLToPath(new URL('.', import.meta.url)), '../test/golden')
const read = (name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, unknown>

function envelopes(): Array<{ source: string; raw: string }> {
  const out: Array<{ source: string; raw: string }> = []
  for (const file of readdirSync(dir).filter((f) => f.startsWith('publish_'))) {
    for (const m of (read(file).messages as Array<{ raw_list_item: string }>) ?? [])
      out.push({ source: file, raw: m.raw_list_item })
  }
  for (const e of read('fanout_envelopes.redis.json').envelopes as Array<{
    source: string
    path: string
    raw: string
  }>) {
    out.push({ source: `${e.source}${e.path}`, raw: e.raw })
  }
  return out
}

describe('envelope', () => {
  const samples = envelopes()

  it('has golden samples to compare with', () => {
    expect(samples.length).toBeGreaterThan(20)
  })

  it.each(samples)('$source: decodes and re-encodes byte for byte', ({ raw }) => {
    const d = decodeEnvelope(raw, { exchange: '', routingKey: '' })
    const env = JSON.parse(raw)
    expect(d.message.body.toString('base64')).toBe(env.body)
    expect(d.message.contentType).toBe(env['content-type'])
    expect(d.message.headers).toEqual(env.headers)
    expect(d.tag).toBe(env.properties.delivery_tag)
    expect(d.exchange).toBe(env.properties.delivery_info.exchange)
    expect(d.routingKey).toBe(env.properties.delivery_info.routing_key)
    expect(encodeEnvelope(d.message, d, d.tag)).toBe(raw)
  })

  it('maps Kombu property names to ours and back, leaving transport bookkeeping out', () => {
    const [sample] = samples.filter((s) => s.source.startsWith('publish_b_countdown'))
    const d = decodeEnvelope(sample!.raw, { exchange: '', routingKey: '' })
    expect(d.message.properties).toEqual({
      correlationId: expect.any(String),
      replyTo: expect.any(String),
      deliveryMode: 2,
      expiration: '3600000',
      priority: 0,
    })
  })

  it('writes what a Producer gives as Kombu orders it', () => {
    const raw = encodeEnvelope(
      {
        body: Buffer.from('{"n": 0}'),
        contentType: 'application/json',
        contentEncoding: 'utf-8',
        headers: {},
        properties: { deliveryMode: 2, replyTo: 'r', priority: 7, correlationId: 'c', expiration: '10' },
      },
      { exchange: 'ex', routingKey: 'rk' },
      'tag-1',
    )
    expect(raw).toBe(
      '{"body": "eyJuIjogMH0=", "content-encoding": "utf-8", "content-type": "application/json", "headers": {}, ' +
        '"properties": {"reply_to": "r", "correlation_id": "c", "delivery_mode": 2, "expiration": "10", ' +
        '"delivery_info": {"exchange": "ex", "routing_key": "rk"}, "priority": 7, "body_encoding": "base64", "delivery_tag": "tag-1"}}',
    )
  })

  it('writes unusual properties as the general path does: unknown names, colliding names, escapes', () => {
    const base = {
      body: Buffer.from('x'),
      contentType: 'text/plain',
      contentEncoding: 'utf-8',
      headers: { é: 'ü\n', list: [1, 'a"b', null], nested: { skip: undefined, k: true } },
    }
    const route = { exchange: 'ex\u00e9', routingKey: 'r"k' }
    // An unknown property takes the general path; colliding names collapse as in a Python dict.
    const unknown = encodeEnvelope(
      { ...base, properties: { MessageGroupId: 'g', deliveryMode: 2 } },
      route,
      't',
    )
    expect(unknown).toBe(
      '{"body": "eA==", "content-encoding": "utf-8", "content-type": "text/plain", ' +
        '"headers": {"\\u00e9": "\\u00fc\\n", "list": [1, "a\\"b", null], "nested": {"k": true}}, ' +
        '"properties": {"MessageGroupId": "g", "delivery_mode": 2, "delivery_info": {"exchange": "ex\\u00e9", ' +
        '"routing_key": "r\\"k"}, "priority": 0, "body_encoding": "base64", "delivery_tag": "t"}}',
    )
    const colliding = encodeEnvelope(
      { ...base, headers: {}, properties: { reply_to: 'old', replyTo: 'new' } },
      route,
      't',
    )
    expect(colliding).toContain('"properties": {"reply_to": "new", "delivery_info"')
    // The template and the general path agree wherever both apply.
    const known = { ...base, properties: { timestamp: 1.5, type: 't', appId: 'a', priority: 3 } }
    const fast = encodeEnvelope(known, route, 't')
    const general = encodeEnvelope(
      { ...known, properties: { ...known.properties, zz: undefined } },
      route,
      't',
    )
    expect(fast).toBe(general)
    expect(JSON.parse(fast).properties).toMatchObject({ timestamp: 1.5, type: 't', app_id: 'a', priority: 3 })
  })

  it('reads an item that is not an envelope as raw bytes of an unknown content type', () => {
    const d = decodeEnvelope('not json', { exchange: 'x', routingKey: 'q' })
    expect(d.message.contentType).toBe(INVALID_ENVELOPE)
    expect(d.message.body.toString()).toBe('not json')
    expect(d).toMatchObject({ exchange: 'x', routingKey: 'q', tag: undefined, redelivered: false })
  })

  it('writes and reads the unacked hash value as Kombu does', () => {
    const checks = read('redis_semantics_checks.json') as {
      requeue: { unacked_structures_while_unacked: { unacked: { raw: Record<string, string> } } }
    }
    const [[tag, value]] = Object.entries(checks.requeue.unacked_structures_while_unacked.unacked.raw) as [
      [string, string],
    ]
    const parsed = parseUnacked(value)!
    expect(parsed).toMatchObject({ exchange: 'golden.rq', routingKey: 'golden.rq' })
    expect(decodeEnvelope(parsed.envelope, { exchange: '', routingKey: '' }).tag).toBe(tag)
    expect(unackedValue(parsed.envelope, parsed)).toBe(value)
    expect(parseUnacked('[{"a": 1},"x","y"]')).toEqual({
      envelope: '{"a": 1}',
      exchange: 'x',
      routingKey: 'y',
    })
    expect(parseUnacked('{"a": 1}')).toBeUndefined()
  })
})
