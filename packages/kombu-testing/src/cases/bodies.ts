/** Bodies: every serializer, compression, sizes, binary and unicode content, headers and properties. */
import { randomBytes } from 'node:crypto'
import * as zlib from 'node:zlib'
import type { Message, PublishOptions } from '@q/kombu'
import { expect } from 'vitest'
import type { Kit } from '../kit.js'
import type { Suite } from '../suite.js'

/** Publishes `body` to a fresh queue and returns the message as consumed. */
async function roundTrip<T = unknown>(
  kit: Kit,
  body: unknown,
  options: PublishOptions = {},
): Promise<Message<T>> {
  const conn = await kit.connect()
  const queue = kit.queue('q')
  const inbox = kit.inbox<T>({ ack: true })
  await kit.consume(conn, { queues: queue, onMessage: inbox.onMessage })
  await kit.publishTo(conn, queue.name, body, options)
  const [message] = await inbox.collect(1)
  return message!
}

const UNICODE = [
  'emoji 😀 👍🏽 👨‍👩‍👧 🇫🇷',
  'CJK 漢字 かな カナ 한국어',
  'RTL עברית العربية',
  'NUL [\u0000] and controls \u0001\u001f\u007f',
  'combining é e\u0301 and BOM \ufeff',
].join(' | ')

/** Cases of the "bodies" group. */
export function bodyCases(suite: Suite): void {
  suite.test('json: structured values round-trip as application/json', async (kit) => {
    const body = {
      text: 'hi',
      int: 42,
      float: 1.5,
      neg: -7,
      list: [1, 'two', null, true],
      nested: { ok: false, empty: {} },
    }
    const m = await roundTrip(kit, body, { serializer: 'json' })
    expect(m.body).toEqual(body)
    expect(m.contentType).toBe('application/json')
    expect(m.contentEncoding).toBe('utf-8')
  })

  suite.test('msgpack: structured values round-trip as application/x-msgpack', async (kit) => {
    const body = {
      text: 'hi',
      int: 42,
      float: 1.5,
      neg: -7,
      list: [1, 'two', null, true],
      nested: { ok: false },
    }
    const m = await roundTrip(kit, body, { serializer: 'msgpack' })
    expect(m.body).toEqual(body)
    expect(m.contentType).toBe('application/x-msgpack')
    expect(m.contentEncoding).toBe('binary')
  })

  suite.test('raw: a Buffer arrives as the same bytes (application/data)', async (kit) => {
    const body = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01])
    const m = await roundTrip<Buffer>(kit, body)
    expect(Buffer.isBuffer(m.body)).toBe(true)
    expect(m.body.equals(body)).toBe(true)
    expect(m.contentType).toBe('application/data')
    expect(m.contentEncoding).toBe('binary')
  })

  suite.test('text: a string arrives as text/plain', async (kit) => {
    const m = await roundTrip<string>(kit, 'plain text body')
    expect(m.body).toBe('plain text body')
    expect(m.contentType).toBe('text/plain')
    expect(m.contentEncoding).toBe('utf-8')
  })

  suite.test('binary: all 256 byte values survive a raw body', async (kit) => {
    const body = Buffer.from(Array.from({ length: 512 }, (_, i) => i % 256))
    const m = await roundTrip<Buffer>(kit, body, { serializer: 'raw' })
    expect(m.body.length).toBe(512)
    expect(m.body.equals(body)).toBe(true)
  })

  suite.test('a 1 MiB body arrives byte for byte', async (kit) => {
    const body = randomBytes(1024 * 1024)
    const m = await roundTrip<Buffer>(kit, body)
    expect(m.body.length).toBe(body.length)
    expect(m.body.equals(body)).toBe(true)
  })

  suite.test('unicode: emoji, CJK, RTL and NUL survive json, msgpack and text', async (kit) => {
    const conn = await kit.connect()
    const queue = kit.queue('q')
    const inbox = kit.inbox<unknown>({ ack: true })
    await kit.consume(conn, { queues: queue, onMessage: inbox.onMessage })
    await kit.publishTo(conn, queue.name, { s: UNICODE, [UNICODE]: 'as a key' }, { serializer: 'json' })
    await kit.publishTo(conn, queue.name, { s: UNICODE }, { serializer: 'msgpack' })
    await kit.publishTo(conn, queue.name, UNICODE, { serializer: 'text' })
    await kit.publishTo(conn, queue.name, UNICODE, { headers: { note: UNICODE } })
    const got = await inbox.collect(4)
    expect(got.map((m) => m.body)).toEqual([
      { s: UNICODE, [UNICODE]: 'as a key' },
      { s: UNICODE },
      UNICODE,
      UNICODE,
    ])
    expect(got[3]!.headers.note).toBe(UNICODE)
  })

  for (const [method, contentType, inflate] of [
    ['gzip', 'application/x-gzip', zlib.inflateSync],
    ['brotli', 'application/x-brotli', zlib.brotliDecompressSync],
  ] as const) {
    suite.test(`compression: ${method} round-trips and sets the compression header`, async (kit) => {
      const body = { text: 'compress me '.repeat(2000), n: 1 }
      const m = await roundTrip(kit, body, { compression: method })
      expect(m.body).toEqual(body)
      expect(m.headers.compression).toBe(contentType)
      expect(m.contentType).toBe('application/json')
      expect(m.rawBody.length).toBeLessThan(JSON.stringify(body).length / 10)
      expect(JSON.parse(inflate(m.rawBody).toString('utf8'))).toEqual(body)
    })
  }

  suite.test('headers, properties and delivery info arrive as published', async (kit) => {
    const conn = await kit.connect()
    const exchange = kit.exchange('ex', { type: 'direct' })
    const queue = kit.queue('q', { exchange, routingKey: 'rk' })
    const inbox = kit.inbox({ ack: true })
    await kit.consume(conn, { queues: queue, onMessage: inbox.onMessage })
    await kit.publish(
      conn,
      { x: 1 },
      {
        exchange: exchange.name,
        routingKey: 'rk',
        headers: { task: 'tasks.add', id: 'abc-123', retries: 3, eager: false, argsrepr: '(2, 2)' },
        correlationId: 'corr-1',
        replyTo: 'reply.queue',
        messageId: 'msg-1',
        type: 'kind',
        appId: 'contract',
        timestamp: 1_700_000_000,
        deliveryMode: 'persistent',
      },
    )
    const [m] = await inbox.collect(1)
    expect(m!.headers).toMatchObject({
      task: 'tasks.add',
      id: 'abc-123',
      retries: 3,
      eager: false,
      argsrepr: '(2, 2)',
    })
    expect(m!.properties).toMatchObject({
      correlationId: 'corr-1',
      replyTo: 'reply.queue',
      messageId: 'msg-1',
      type: 'kind',
      appId: 'contract',
      timestamp: 1_700_000_000,
      deliveryMode: 2,
    })
    expect(m!.deliveryInfo).toMatchObject({ exchange: exchange.name, routingKey: 'rk', redelivered: false })
    expect(typeof m!.deliveryTag).toBe('number')
  })
}
