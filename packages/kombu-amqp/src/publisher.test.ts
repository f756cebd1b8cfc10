import { EventEmitter } from 'node:events'
import type { OutgoingMessage } from '@q/kombu'
import { UnroutableError } from '@q/kombu'
import type { Message as AmqplibMessage, ConfirmChannel } from 'amqplib'
import { describe, expect, it } from 'vitest'
import { MessageNackedError } from './errors.js'
import { NotSentError, Publisher, publishOptions } from './publisher.js'

/** A confirm channel that records publishes; the test decides backpressure and confirms. */
class FakeChannel extends EventEmitter {
  readonly published: Array<{
    exchange: string
    routingKey: string
    body: string
    options: Record<string, unknown>
  }> = []
  readonly confirms: Array<(err: unknown) => void> = []
  full = false
  closed = false
  publish(
    exchange: string,
    routingKey: string,
    body: Buffer,
    options: Record<string, unknown>,
    cb?: (err: unknown) => void,
  ): boolean {
    if (this.closed) throw Object.assign(new Error('Channel closed'), { name: 'IllegalOperationError' })
    this.published.push({ exchange, routingKey, body: body.toString(), options })
    if (cb) this.confirms.push(cb)
    return !this.full
  }
}

const message = (body: string, over: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  body: Buffer.from(body),
  contentType: 'text/plain',
  contentEncoding: 'utf-8',
  headers: {},
  properties: { deliveryMode: 2 },
  ...over,
})

function setup() {
  const ch = new FakeChannel()
  const publisher = new Publisher(
    ch as unknown as ConfirmChannel,
    (err) => new Error(`mapped: ${(err as Error).message}`),
  )
  return { ch, publisher }
}

const tick = () => new Promise((r) => setImmediate(r))

describe('Publisher', () => {
  it('without confirm, resolves once amqplib took the message: no round trip', async () => {
    const { ch, publisher } = setup()
    await publisher.publish(message('a'), 'ex', 'rk')
    expect(ch.published.map((p) => p.body)).toEqual(['a'])
    expect(ch.confirms).toHaveLength(0)
  })

  it('with confirm, resolves when the broker acks, and fails with MessageNackedError on a nack', async () => {
    const { ch, publisher } = setup()
    let done = false
    const acked = publisher.publish(message('a'), 'ex', 'rk', { confirm: true }).then(() => (done = true))
    const nacked = publisher.publish(message('b'), 'ex', 'rk', { confirm: true })
    await tick()
    expect(done).toBe(false)
    ch.confirms[0]!(null)
    ch.confirms[1]!(new Error('message nacked'))
    await acked
    await expect(nacked).rejects.toBeInstanceOf(MessageNackedError)
  })

  it('backpressure: after publish() returns false, the next publishes wait for drain, in order', async () => {
    const { ch, publisher } = setup()
    ch.full = true
    let firstDone = false
    const first = publisher.publish(message('1'), '', 'q').then(() => (firstDone = true))
    const rest = [publisher.publish(message('2'), '', 'q'), publisher.publish(message('3'), '', 'q')]
    await tick()
    expect(ch.published.map((p) => p.body)).toEqual(['1'])
    expect(firstDone).toBe(false)
    ch.full = false
    publisher.onDrain()
    await Promise.all([first, ...rest])
    expect(ch.published.map((p) => p.body)).toEqual(['1', '2', '3'])
  })

  it('backpressure: a drain sends waiting publishes in order until the buffer is full again', async () => {
    const { ch, publisher } = setup()
    ch.full = true
    const all = ['1', '2', '3', '4', '5'].map((b) => publisher.publish(message(b), '', 'q'))
    await tick()
    expect(ch.published.map((p) => p.body)).toEqual(['1'])
    // The buffer takes two more, then is full again: the others keep their place in line.
    let room = 2
    ch.full = false
    const publish = ch.publish.bind(ch)
    ch.publish = (...args: Parameters<typeof ch.publish>) => {
      const ok = publish(...args)
      return --room > 0 && ok
    }
    publisher.onDrain()
    await tick()
    expect(ch.published.map((p) => p.body)).toEqual(['1', '2', '3'])
    room = 100
    publisher.onDrain()
    await Promise.all(all)
    expect(ch.published.map((p) => p.body)).toEqual(['1', '2', '3', '4', '5'])
  })

  it('a returned mandatory message fails with UnroutableError once confirmed; the others resolve', async () => {
    const { ch, publisher } = setup()
    const lost = publisher.publish(message('same'), 'ex', 'nowhere', { mandatory: true })
    const kept = publisher.publish(message('same'), 'ex', 'bound', { mandatory: true })
    expect(ch.published[0]!.options.mandatory).toBe(true)
    publisher.onReturn({
      content: Buffer.from('same'),
      fields: { exchange: 'ex', routingKey: 'nowhere', replyCode: 312, replyText: 'NO_ROUTE' },
    } as unknown as AmqplibMessage)
    // Confirms may come in any order.
    ch.confirms[1]!(null)
    ch.confirms[0]!(null)
    await expect(kept).resolves.toBeUndefined()
    await expect(lost).rejects.toBeInstanceOf(UnroutableError)
    await expect(lost).rejects.toThrow(
      /NO_ROUTE - message to exchange 'ex' with key 'nowhere' reached no queue \(312\)/,
    )
  })

  it('a channel that closed before the publish: NotSentError, so the caller may send it elsewhere', async () => {
    const { ch, publisher } = setup()
    ch.closed = true
    await expect(publisher.publish(message('a'), '', 'q')).rejects.toBeInstanceOf(NotSentError)
    publisher.onClose()
    await expect(publisher.publish(message('a'), '', 'q', { confirm: true })).rejects.toBeInstanceOf(
      NotSentError,
    )
  })

  it('a confirm lost with the channel is mapped (a microtask later, once the connection has reported)', async () => {
    const { ch, publisher } = setup()
    const p = publisher.publish(message('a'), '', 'q', { confirm: true })
    ch.confirms[0]!(new Error('channel closed'))
    await expect(p).rejects.toThrow('mapped: channel closed')
  })
})

describe('Publisher.publishMany', () => {
  const bodies = (ch: FakeChannel) => ch.published.map((p) => p.body)

  it('writes the whole batch in one go, in order, and resolves without a round trip', async () => {
    const { ch, publisher } = setup()
    await publisher.publishMany([message('1'), message('2'), message('3')], 'ex', 'rk')
    expect(bodies(ch)).toEqual(['1', '2', '3'])
    expect(ch.published[2]).toMatchObject({ exchange: 'ex', routingKey: 'rk' })
    expect(ch.confirms).toHaveLength(0)
  })

  it('a full buffer stops the batch; at the drain its rest goes before publishes queued since', async () => {
    const { ch, publisher } = setup()
    let room = 2
    const publish = ch.publish.bind(ch)
    ch.publish = (...args: Parameters<typeof ch.publish>) => publish(...args) && --room > 0
    let done = false
    const batch = publisher
      .publishMany(
        ['1', '2', '3', '4'].map((b) => message(b)),
        '',
        'q',
      )
      .then(() => (done = true))
    const later = publisher.publish(message('later'), '', 'q')
    const laterBatch = publisher.publishMany([message('b1'), message('b2')], '', 'q')
    await tick()
    expect(bodies(ch)).toEqual(['1', '2'])
    expect(done).toBe(false)
    room = 100
    publisher.onDrain()
    await Promise.all([batch, later, laterBatch])
    expect(bodies(ch)).toEqual(['1', '2', '3', '4', 'later', 'b1', 'b2'])
  })

  it('a channel that closes midway: NotSentError says how many went out', async () => {
    const { ch, publisher } = setup()
    ch.full = true
    const batch = publisher.publishMany([message('1'), message('2'), message('3')], '', 'q')
    await tick()
    ch.closed = true
    publisher.onClose()
    const err = await batch.catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NotSentError)
    expect((err as NotSentError).sent).toBe(1)
  })

  it('with confirm, resolves once every message is confirmed, and fails with a nack', async () => {
    const { ch, publisher } = setup()
    let done = false
    const all = publisher
      .publishMany([message('1'), message('2')], '', 'q', { confirm: true })
      .then(() => (done = true))
    await tick()
    ch.confirms[0]!(null)
    await tick()
    expect(done).toBe(false)
    ch.confirms[1]!(null)
    await all
    const nacked = publisher.publishMany([message('3'), message('4')], '', 'q', { confirm: true })
    ch.confirms[2]!(null)
    ch.confirms[3]!(new Error('message nacked'))
    await expect(nacked).rejects.toBeInstanceOf(MessageNackedError)
  })

  it('an empty batch resolves at once', async () => {
    const { ch, publisher } = setup()
    await publisher.publishMany([], '', 'q')
    expect(ch.published).toHaveLength(0)
  })
})

describe('publishOptions', () => {
  it('carries every AMQP property that is set, and drops the ones py-amqp drops', () => {
    const options = publishOptions(
      message('x', {
        contentType: 'application/json',
        contentEncoding: 'utf-8',
        headers: { retries: 1, eta: null },
        properties: {
          deliveryMode: 2,
          priority: 5,
          correlationId: 'c',
          replyTo: 'r',
          expiration: '1000',
          messageId: 'm',
          timestamp: 1700000000,
          type: 't',
          userId: 'guest',
          appId: 'a',
          MessageGroupId: 'sqs-only',
        },
      }),
      false,
    )
    expect(options).toEqual({
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      headers: { retries: { '!': 'int', value: 1 }, eta: null },
      mandatory: false,
      deliveryMode: 2,
      priority: 5,
      correlationId: 'c',
      replyTo: 'r',
      expiration: '1000',
      messageId: 'm',
      timestamp: 1700000000,
      type: 't',
      userId: 'guest',
      appId: 'a',
    })
  })
})
