import type { OutgoingMessage } from '@q/kombu'
import { describe, expect, it } from 'vitest'
import { decodeEnvelope, encodeEnvelope, pyDumps, toEnvelope } from './envelope.js'
import { fromMessageBody, toMessageBody } from './message-body.js'
import { golden, goldenCase, messageOf } from './test-support/golden.js'

describe('Kombu envelope vs the golden sample', () => {
  it('writes the MessageBody Kombu wrote, byte for byte (base64 of the JSON envelope)', () => {
    let checked = 0
    for (const c of golden.cases.filter((c) => c.transport_options.sqs_base64_encoding !== false)) {
      for (const sent of c.send_message_decoded) {
        const env = sent.decoded.envelope
        const json = encodeEnvelope(
          messageOf(env),
          env.properties.delivery_info.exchange,
          env.properties.delivery_info.routing_key,
          env.properties.delivery_tag,
        )
        expect(Buffer.from(json).toString('base64'), c.label).toBe(sent.MessageBody)
        checked++
      }
    }
    expect(checked).toBe(5)
  })

  it('writes the plain JSON envelope with sqsBase64Encoding false, byte for byte', () => {
    const [sent] = goldenCase('sqs_base64_encoding=False').send_message_decoded
    const env = sent!.decoded.envelope
    expect(encodeEnvelope(messageOf(env), '', 'celery', env.properties.delivery_tag)).toBe(sent!.MessageBody)
  })

  it('keeps properties in Kombu order, FIFO ids among them', () => {
    const [, second] = goldenCase('FIFO').send_message_decoded
    const env = second!.decoded.envelope
    const ours = toEnvelope(messageOf(env), '', 'golden.fifo', 'tag')
    expect(Object.keys(ours)).toEqual(['body', 'content-encoding', 'content-type', 'headers', 'properties'])
    expect(Object.keys(ours.properties)).toEqual(Object.keys(env.properties))
    expect(ours.properties).toMatchObject({ MessageGroupId: 'grp-1', MessageDeduplicationId: 'dedup-1' })
  })

  it('reads every golden MessageBody, base64 or plain', () => {
    for (const c of golden.cases) {
      for (const sent of c.send_message_decoded) {
        const env = sent.decoded.envelope
        const got = fromMessageBody(sent.MessageBody)
        expect(got.exchange).toBe('')
        expect(got.routingKey).toBe(env.properties.delivery_info.routing_key)
        expect(got.redelivered).toBe(false)
        expect(got.message.body.toString('base64')).toBe(env.body)
        expect(got.message.contentType).toBe('application/json')
        expect(got.message.contentEncoding).toBe('utf-8')
        expect(got.message.headers).toEqual(env.headers)
        expect(got.message.properties).toMatchObject({
          correlationId: env.properties.correlation_id,
          replyTo: env.properties.reply_to,
          deliveryMode: 2,
          priority: 0,
        })
        expect(got.message.properties).not.toHaveProperty('delivery_tag')
        expect(got.message.properties).not.toHaveProperty('delivery_info')
      }
    }
  })

  it('maps every AMQP property both ways and carries unknown ones as they are', () => {
    const message: OutgoingMessage = {
      body: Buffer.from('hi'),
      contentType: 'text/plain',
      contentEncoding: 'utf-8',
      headers: {
        when: new Date(Date.UTC(2022, 0, 2, 3, 4, 5, 678)),
        nan: Number.NaN,
        big: 2n ** 70n,
        text: 'héllo ✓ 😀',
      },
      properties: {
        expiration: '60000',
        priority: 3,
        deliveryMode: 1,
        correlationId: 'c',
        replyTo: 'r',
        messageId: 'm',
        type: 't',
        appId: 'a',
        userId: 'u',
        timestamp: 1_700_000_000,
        MessageGroupId: 'g',
      },
    }
    const json = encodeEnvelope(message, 'ex', 'rk', 'tag')
    expect(json).toContain('"when": "2022-01-02T03:04:05.678000Z"')
    expect(json).toContain('"nan": NaN, "big": 1180591620717411303424')
    expect(json).toContain('"text": "h\\u00e9llo \\u2713 \\ud83d\\ude00"')
    expect(json).toMatch(
      /"properties": \{"correlation_id": "c", "reply_to": "r", "message_id": "m", "type": "t", "app_id": "a", "user_id": "u", "timestamp": 1700000000, "MessageGroupId": "g", "expiration": "60000", "delivery_mode": 1, "delivery_info": \{"exchange": "ex", "routing_key": "rk"\}, "priority": 3, "body_encoding": "base64", "delivery_tag": "tag"\}/,
    )
    const back = decodeEnvelope(json)!
    expect(back.message.properties).toEqual({ ...message.properties, priority: 3 })
    expect(back.message.headers).toMatchObject({ when: '2022-01-02T03:04:05.678000Z', text: 'héllo ✓ 😀' })
    expect(back.message.headers.nan).toBeNaN()
    expect([back.exchange, back.routingKey]).toEqual(['ex', 'rk'])
  })

  it('round-trips through the SQS body in both encodings', () => {
    const message: OutgoingMessage = {
      body: Buffer.from([0, 1, 2, 255]),
      contentType: 'application/data',
      contentEncoding: 'binary',
      headers: { nul: '\u0000' },
      properties: { deliveryMode: 2 },
    }
    for (const base64 of [true, false]) {
      const body = toMessageBody(message, '', 'q', base64)
      expect(body.startsWith('{')).toBe(!base64)
      const back = fromMessageBody(body)
      expect(back.message.body.equals(message.body)).toBe(true)
      expect(back.message.headers).toEqual({ nul: '\u0000' })
    }
  })

  it('delivers a body that is no Kombu envelope as raw bytes, decoding base64 only when it round-trips', () => {
    expect(fromMessageBody('hello world').message).toMatchObject({
      contentType: 'application/data',
      headers: {},
    })
    expect(fromMessageBody('hello world').message.body.toString()).toBe('hello world')
    // Valid base64 of a non-envelope: decoded, as Kombu does.
    expect(fromMessageBody(Buffer.from('{"a": 1}').toString('base64')).message.body.toString()).toBe(
      '{"a": 1}',
    )
    // "abcd" is valid base64 and round-trips, so it decodes (Kombu too); "abc" does not.
    expect(fromMessageBody('abc').message.body.toString()).toBe('abc')
  })

  it('refuses values JSON cannot carry, naming the key', () => {
    expect(() => pyDumps({ headers: { blob: Buffer.from('x') } })).toThrow(/key "blob"/)
  })
})
