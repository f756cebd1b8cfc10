import { deflateSync } from 'node:zlib'
import { describe, expect, it, vi } from 'vitest'
import { CompressionRegistry } from './compression/index.js'
import { ContentDisallowedError, DecodeError, MessageStateError } from './errors.js'
import { type DecodeOptions, decodeBody, Message } from './message.js'
import { SerializerRegistry } from './serialization/index.js'
import type { Channel, Delivery } from './types.js'

function fakeChannel() {
  return {
    ack: vi.fn(async () => {}),
    reject: vi.fn(async () => {}),
  }
}

function delivery(over: Partial<Delivery> = {}): Delivery {
  return {
    body: Buffer.from('{"a": 1}'),
    contentType: 'application/json',
    contentEncoding: 'utf-8',
    headers: { task: 't' },
    properties: { deliveryMode: 2 },
    deliveryTag: 7,
    deliveryInfo: { exchange: 'ex', routingKey: 'rk', queue: 'q', redelivered: false },
    ...over,
  }
}

const make = (ch = fakeChannel(), d = delivery(), noAck = false) =>
  new Message(ch as unknown as Channel, d, { a: 1 }, noAck)

describe('Message', () => {
  it('exposes the delivery', () => {
    const d = delivery({ deliveryInfo: { exchange: 'ex', routingKey: 'rk', redelivered: true } })
    const m = make(undefined, d)
    expect(m.body).toEqual({ a: 1 })
    expect(m.rawBody).toBe(d.body)
    expect(m.contentType).toBe('application/json')
    expect(m.contentEncoding).toBe('utf-8')
    expect(m.headers).toEqual({ task: 't' })
    expect(m.properties).toEqual({ deliveryMode: 2 })
    expect(m.deliveryTag).toBe(7)
    expect(m.redelivered).toBe(true)
    expect(m.state).toBe('RECEIVED')
    expect(m.acknowledged).toBe(false)
  })

  it('ack() acknowledges through the channel by delivery tag', async () => {
    const ch = fakeChannel()
    const m = make(ch)
    await m.ack()
    expect(ch.ack).toHaveBeenCalledWith(7)
    expect(m.state).toBe('ACK')
    expect(m.acknowledged).toBe(true)
  })

  it('reject() drops, requeue() requeues', async () => {
    const ch = fakeChannel()
    const rejected = make(ch)
    await rejected.reject()
    expect(ch.reject).toHaveBeenLastCalledWith(7, false)
    expect(rejected.state).toBe('REJECTED')
    const requeued = make(ch)
    await requeued.requeue()
    expect(ch.reject).toHaveBeenLastCalledWith(7, true)
    expect(requeued.state).toBe('REQUEUED')
  })

  it('is settled once: a second settlement is a MessageStateError', async () => {
    const ch = fakeChannel()
    const m = make(ch)
    await m.ack()
    for (const again of [() => m.ack(), () => m.reject(), () => m.requeue()]) {
      const err = await again().catch((e: unknown) => e)
      expect(err).toBeInstanceOf(MessageStateError)
      expect((err as Error).message).toContain('already settled (ACK)')
    }
    expect(ch.ack).toHaveBeenCalledOnce()
    expect(ch.reject).not.toHaveBeenCalled()
  })

  it('marks itself settled before the channel answers, so concurrent settlements fail', async () => {
    const m = make()
    const first = m.ack()
    await expect(m.reject()).rejects.toBeInstanceOf(MessageStateError)
    await first
  })

  it('with noAck, settling changes the state but not the channel', async () => {
    const ch = fakeChannel()
    const m = make(ch, delivery(), true)
    await m.ack()
    expect(m.state).toBe('ACK')
    expect(ch.ack).not.toHaveBeenCalled()
    await expect(m.ack()).rejects.toBeInstanceOf(MessageStateError)
  })
})

describe('decodeBody', () => {
  const options: DecodeOptions = {
    serializers: new SerializerRegistry(),
    compressors: new CompressionRegistry(),
    accept: undefined,
  }

  it('decodes by content type', () => {
    expect(decodeBody(delivery(), options)).toEqual({ a: 1 })
    expect(decodeBody(delivery({ body: Buffer.from('hi'), contentType: 'text/plain' }), options)).toBe('hi')
  })

  it('decompresses first when the compression header says so', () => {
    const d = delivery({
      body: deflateSync(Buffer.from('{"z": [1, 2]}')),
      headers: { compression: 'application/x-gzip' },
    })
    expect(decodeBody(d, options)).toEqual({ z: [1, 2] })
  })

  it('ignores an empty compression header', () => {
    expect(decodeBody(delivery({ headers: { compression: '' } }), options)).toEqual({ a: 1 })
  })

  it('fails with DecodeError for bad bodies and unknown compression', () => {
    expect(() => decodeBody(delivery({ body: Buffer.from('{oops') }), options)).toThrow(DecodeError)
    expect(() => decodeBody(delivery({ headers: { compression: 'application/x-lz4' } }), options)).toThrow(
      DecodeError,
    )
  })

  it('applies the accept list', () => {
    const accept = options.serializers.resolveAccept(['msgpack'])
    expect(() => decodeBody(delivery(), { ...options, accept })).toThrow(ContentDisallowedError)
  })
})
