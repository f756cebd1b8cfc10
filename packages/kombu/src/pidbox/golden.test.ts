/**
 * Our node and our reply collector against the bytes Python Kombu 5.2.4 and Celery 5.2.6 put on
 * the wire (golden/pidbox_control.amqp.json): a request published exactly as Python published
 * it gets the reply Python's worker sent, clock included; Python's reply bytes are collected.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { Connection } from '../connection.js'
import { Exchange } from '../exchange.js'
import { Producer } from '../producer.js'
import { Queue } from '../queue.js'
import { createMemoryTransport } from '../transports/memory.js'
import { PIDBOX_GOLDEN } from './golden.fixture.js'
import { Mailbox } from './mailbox.js'
import type { PidboxRequest } from './types.js'

const open: Array<{ close(): Promise<void> }> = []
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close()
})

function connect(memory = createMemoryTransport()) {
  const logger = { debug: vi.fn(), info: vi.fn(), warn: vi.fn(), error: vi.fn() }
  const c = new Connection('memory://golden', { transport: memory, logger })
  open.push(c)
  return { c, memory }
}

const requestExchange = new Exchange('celery.pidbox', { type: 'fanout', durable: false })
const replyExchange = new Exchange('reply.celery.pidbox', { type: 'direct', durable: false })

describe('pidbox golden samples', () => {
  for (const key of ['ping', 'unknownCommand', 'pingPattern', 'pingBroadcast'] as const) {
    it(`answers Python's ${key} request as the Python worker did`, async () => {
      const g = PIDBOX_GOLDEN[key]
      const { c, memory } = connect()
      const node = await new Mailbox(c).node('capture@golden', { ping: () => ({ ok: 'pong' }) }).listen()
      open.push(node)
      // A reply queue bound as Python's client binds it, read with basic.get.
      const { c: client } = connect(memory)
      const ch = await client.channel()
      const replyQueue = `${g.reply.routingKey}.reply.celery.pidbox`
      await ch.declareExchange(replyExchange)
      await ch.declareQueue(new Queue(replyQueue, { durable: false }))
      await ch.bindQueue(replyQueue, replyExchange.name, g.reply.routingKey)
      // Python's request, byte for byte.
      await new Producer(client).publish(g.request.bodyRaw, {
        exchange: requestExchange,
        routingKey: g.request.routingKey,
        contentType: g.request.contentType,
        contentEncoding: 'utf-8',
        headers: { ...g.request.headers },
        deliveryMode: 2,
      })
      const d = await vi.waitFor(async () => {
        const got = await ch.get(replyQueue, { noAck: true })
        if (!got) throw new Error('no reply yet')
        return got
      })
      expect(d.deliveryInfo).toMatchObject({ exchange: g.reply.exchange, routingKey: g.reply.routingKey })
      expect(d.properties.deliveryMode).toBe(g.reply.deliveryMode)
      expect(d.contentType).toBe('application/json')
      // A fresh clock adjusted by the request's clock replies with the clock Python replied with.
      expect(d.headers).toEqual(g.reply.headers)
      expect(JSON.parse(d.body.toString())).toEqual(g.reply.body)
    })
  }

  it("collects Python's reply bytes", async () => {
    const g = PIDBOX_GOLDEN.ping
    const { c, memory } = connect()
    const { c: python } = connect(memory)
    // A stand-in for the Python worker: answers with the captured reply bytes and our ticket.
    const pch = await python.channel()
    await pch.declareExchange(requestExchange)
    await pch.declareQueue(new Queue('capture@golden.celery.pidbox', { durable: false }))
    await pch.bindQueue('capture@golden.celery.pidbox', 'celery.pidbox', '')
    await pch.consume(
      'capture@golden.celery.pidbox',
      (d) => {
        const req = JSON.parse(d.body.toString()) as PidboxRequest
        void new Producer(python).publish(g.reply.bodyRaw, {
          exchange: replyExchange,
          routingKey: req.reply_to!.routing_key,
          contentType: 'application/json',
          contentEncoding: 'utf-8',
          headers: { ...g.reply.headers, ticket: req.ticket },
          deliveryMode: 1,
        })
      },
      { noAck: true },
    )
    const mb = new Mailbox(c)
    expect(await mb.call(['capture@golden'], 'ping', {}, { timeout: 2000 })).toEqual([g.reply.body])
    expect(mb.clock.value).toBe(g.reply.headers.clock + 1)
  })

  it('writes the request body with the keys in Python order', () => {
    const g = PIDBOX_GOLDEN.ping
    expect(Object.keys(g.request.body)).toEqual([
      'method',
      'arguments',
      'destination',
      'pattern',
      'matcher',
      'ticket',
      'reply_to',
    ])
  })
})
