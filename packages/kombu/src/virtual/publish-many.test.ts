import { afterEach, describe, expect, it, vi } from 'vitest'
import { NotSupportedError, UnroutableError } from '../errors.js'
import { Exchange } from '../exchange.js'
import { Queue } from '../queue.js'
import { MemoryBroker, memoryCapabilities } from '../transports/memory.js'
import type { OutgoingMessage } from '../types.js'
import { VirtualChannel } from './channel.js'
import type { VirtualPrimitives } from './primitives.js'

const channels: VirtualChannel[] = []
afterEach(async () => {
  await Promise.all(channels.splice(0).map((c) => c.close()))
})

function channelOn(primitives: VirtualPrimitives, broker: MemoryBroker, caps = memoryCapabilities) {
  const ch = new VirtualChannel({
    primitives,
    capabilities: caps,
    exchanges: broker.exchanges,
    bindings: broker.bindings,
  })
  channels.push(ch)
  return ch
}

function msg(text: string, headers: Record<string, unknown> = {}, priority?: number): OutgoingMessage {
  return {
    body: Buffer.from(text),
    contentType: 'text/plain',
    contentEncoding: 'utf-8',
    headers,
    properties: priority === undefined ? {} : { priority },
  }
}

/** Every ready message of a queue, in delivery order. */
function drain(broker: MemoryBroker, queue: string): string[] {
  const out: string[] = []
  for (let d = broker.get(queue, { noAck: true }); d; d = broker.get(queue, { noAck: true }))
    out.push(d.message.body.toString())
  return out
}

describe('VirtualChannel.publishMany', () => {
  it('keeps order, and routes once for the batch to every matching queue (topic)', async () => {
    const broker = new MemoryBroker()
    const putMany = vi.spyOn(broker, 'putMany')
    const ch = channelOn(broker, broker)
    await ch.declareExchange(new Exchange('t', { type: 'topic' }))
    for (const [q, key] of [
      ['all', '#'],
      ['ab', 'a.*'],
      ['none', 'x.y'],
    ] as const) {
      await ch.declareQueue(new Queue(q))
      await ch.bindQueue(q, 't', key)
    }
    await ch.publishMany(
      ['1', '2', '3'].map((t) => msg(t)),
      't',
      'a.b',
    )
    expect(drain(broker, 'all')).toEqual(['1', '2', '3'])
    expect(drain(broker, 'ab')).toEqual(['1', '2', '3'])
    expect(drain(broker, 'none')).toEqual([])
    expect(putMany).toHaveBeenCalledTimes(2) // once per destination queue
  })

  it('goes to the default exchange by queue name, and honours priorities', async () => {
    const broker = new MemoryBroker()
    const ch = channelOn(broker, broker)
    await ch.declareQueue(new Queue('p', { maxPriority: 9 }))
    await ch.publishMany([msg('low', {}, 1), msg('high', {}, 9), msg('low2', {}, 1)], '', 'p')
    expect(drain(broker, 'p')).toEqual(['high', 'low', 'low2'])
  })

  it('falls back to put, one message after another, without putMany', async () => {
    const broker = new MemoryBroker()
    const put = vi.fn(broker.put.bind(broker))
    const prims: VirtualPrimitives = {
      put,
      get: broker.get.bind(broker),
      ack: () => {},
      reject: broker.reject.bind(broker),
      purge: broker.purge.bind(broker),
      size: broker.size.bind(broker),
      declareQueue: broker.declareQueue.bind(broker),
      deleteQueue: broker.deleteQueue.bind(broker),
      hasQueue: broker.hasQueue.bind(broker),
    }
    const ch = channelOn(prims, broker)
    await ch.declareQueue(new Queue('q'))
    await ch.publishMany(
      ['a', 'b', 'c'].map((t) => msg(t)),
      '',
      'q',
    )
    expect(put).toHaveBeenCalledTimes(3)
    expect(drain(broker, 'q')).toEqual(['a', 'b', 'c'])
  })

  it('routes each message on its own headers on a headers exchange', async () => {
    const broker = new MemoryBroker()
    const ch = channelOn(broker, broker)
    await ch.declareExchange(new Exchange('h', { type: 'headers' }))
    await ch.declareQueue(new Queue('red'))
    await ch.bindQueue('red', 'h', '', { color: 'red' })
    await ch.publishMany(
      [msg('1', { color: 'red' }), msg('2', { color: 'blue' }), msg('3', { color: 'red' })],
      'h',
      '',
    )
    expect(drain(broker, 'red')).toEqual(['1', '3'])
  })

  it('with mandatory, fails whole when nothing is routed; without, drops quietly', async () => {
    const broker = new MemoryBroker()
    const ch = channelOn(broker, broker)
    await expect(ch.publishMany([msg('x')], '', 'nowhere', { mandatory: true })).rejects.toBeInstanceOf(
      UnroutableError,
    )
    await expect(ch.publishMany([msg('x')], '', 'nowhere')).resolves.toBeUndefined()
    await expect(ch.publishMany([], '', 'nowhere', { mandatory: true })).resolves.toBeUndefined()
  })

  it('delays the batch like publish, and refuses a delay the transport cannot keep', async () => {
    const broker = new MemoryBroker()
    const ch = channelOn(broker, broker)
    await ch.declareQueue(new Queue('d'))
    await ch.publishMany([msg('a'), msg('b')], '', 'd', { delay: 30 })
    expect(broker.size('d')).toBe(0)
    await new Promise((r) => setTimeout(r, 80))
    expect(drain(broker, 'd')).toEqual(['a', 'b'])
    const noDelay = channelOn(broker, broker, { ...memoryCapabilities, delayedDelivery: false })
    await expect(noDelay.publishMany([msg('a')], '', 'd', { delay: 10 })).rejects.toBeInstanceOf(
      NotSupportedError,
    )
  })

  it('wakes consumers once per batch', async () => {
    const broker = new MemoryBroker()
    const ch = channelOn(broker, broker)
    await ch.declareQueue(new Queue('w'))
    const woken = vi.fn()
    broker.onReady(woken)
    await ch.publishMany(
      ['a', 'b', 'c'].map((t) => msg(t)),
      '',
      'w',
    )
    expect(woken).toHaveBeenCalledTimes(1)
  })
})
