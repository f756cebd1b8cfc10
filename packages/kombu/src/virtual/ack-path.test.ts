/**
 * The virtual channel's ack path, the hot one: a single ack settles locally at once (the window
 * reopens before any broker round trip), errors come back as rejections, never as throws, and
 * a delivery carries its consumer tag without a spread.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { ChannelError } from '../errors.js'
import { Queue } from '../queue.js'
import { MemoryBroker, memoryCapabilities } from '../transports/memory.js'
import type { Delivery, OutgoingMessage } from '../types.js'
import { VirtualChannel } from './channel.js'
import type { VirtualPrimitives } from './primitives.js'

const channels: VirtualChannel[] = []
afterEach(async () => {
  await Promise.all(channels.splice(0).map((c) => c.close()))
})

/** A memory broker whose acks take a while, as a networked broker's do. */
function slowAcks(broker: MemoryBroker): { primitives: VirtualPrimitives; pending: Array<() => void> } {
  const pending: Array<() => void> = []
  const primitives = Object.create(broker) as MemoryBroker & VirtualPrimitives
  primitives.ack = () => new Promise<void>((resolve) => pending.push(resolve))
  return { primitives, pending }
}

function channelOn(broker: MemoryBroker, primitives: VirtualPrimitives = broker): VirtualChannel {
  const ch = new VirtualChannel({
    primitives,
    capabilities: memoryCapabilities,
    exchanges: broker.exchanges,
    bindings: broker.bindings,
  })
  channels.push(ch)
  return ch
}

const msg = (text: string): OutgoingMessage => ({
  body: Buffer.from(text),
  contentType: 'text/plain',
  contentEncoding: 'utf-8',
  headers: {},
  properties: {},
})

describe('VirtualChannel ack path', () => {
  it('rejects (does not throw) an ack of an unknown tag, with PRECONDITION_FAILED', async () => {
    const ch = channelOn(new MemoryBroker())
    let p: Promise<void> | undefined
    expect(() => {
      p = ch.ack(12345)
    }).not.toThrow()
    const err = await p!.catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ChannelError)
    expect((err as ChannelError).replyCode).toBe(406)
  })

  it('reopens the prefetch window before the broker answers the ack', async () => {
    const broker = new MemoryBroker()
    const slow = slowAcks(broker)
    const ch = channelOn(broker, slow.primitives)
    await ch.declareQueue(new Queue('q'))
    for (const t of ['a', 'b']) await ch.publish(msg(t), '', 'q')
    await ch.qos({ prefetchCount: 1 })
    const got: Delivery[] = []
    await ch.consume('q', (d) => got.push(d), { consumerTag: 'ctag' })
    await new Promise((r) => setTimeout(r, 10))
    expect(got.map((d) => d.body.toString())).toEqual(['a'])
    expect(got[0]!.deliveryInfo).toEqual({
      exchange: '',
      routingKey: 'q',
      queue: 'q',
      redelivered: false,
      consumerTag: 'ctag',
    })
    let acked = false
    const ack = ch.ack(got[0]!.deliveryTag).then(() => {
      acked = true
    })
    await new Promise((r) => setTimeout(r, 10))
    // 'b' came while the ack of 'a' is still on its way to the broker.
    expect(got.map((d) => d.body.toString())).toEqual(['a', 'b'])
    expect(acked).toBe(false)
    for (const resolve of slow.pending) resolve()
    await ack
    expect(acked).toBe(true)
  })

  it('acks with multiple, and tag 0 means every outstanding delivery', async () => {
    const ch = channelOn(new MemoryBroker())
    await ch.declareQueue(new Queue('q'))
    for (const t of ['a', 'b', 'c']) await ch.publish(msg(t), '', 'q')
    const tags: number[] = []
    await ch.consume('q', (d) => tags.push(d.deliveryTag))
    await new Promise((r) => setTimeout(r, 10))
    expect(tags).toHaveLength(3)
    await ch.ack(tags[1]!, true)
    await expect(ch.ack(tags[0]!)).rejects.toThrow(ChannelError)
    await ch.ack(0, true)
    await expect(ch.ack(tags[2]!)).rejects.toThrow(ChannelError)
  })
})
