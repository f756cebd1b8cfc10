import { describe, expect, it } from 'vitest'
import { InvalidOptionError } from './errors.js'
import { Binding, Exchange } from './exchange.js'
import { Queue } from './queue.js'
import type { ExchangeType } from './types.js'

describe('Exchange', () => {
  it('defaults to a durable, non-auto-delete direct exchange', () => {
    const ex = new Exchange('tasks')
    expect(ex.name).toBe('tasks')
    expect(ex.type).toBe('direct')
    expect(ex.durable).toBe(true)
    expect(ex.autoDelete).toBe(false)
    expect(ex.arguments).toEqual({})
    expect(ex.deliveryMode).toBeUndefined()
  })

  it("is the default exchange with no name ('')", () => {
    expect(new Exchange().name).toBe('')
    expect(String(new Exchange())).toBe("<Exchange ''(direct)>")
    expect(String(new Exchange('logs', { type: 'fanout' }))).toBe('<Exchange logs(fanout)>')
  })

  it.each(['direct', 'topic', 'fanout', 'headers'] as const)('accepts the type %s', (type) => {
    expect(new Exchange('x', { type }).type).toBe(type)
  })

  it('rejects an unknown type, listing the valid ones', () => {
    expect(() => new Exchange('x', { type: 'x-delayed-message' as ExchangeType })).toThrow(InvalidOptionError)
    expect(() => new Exchange('x', { type: 'Topic' as ExchangeType })).toThrow(
      /direct, topic, fanout, headers/,
    )
  })

  it('rejects a name that is not a string', () => {
    expect(() => new Exchange(42 as unknown as string)).toThrow(InvalidOptionError)
  })

  it('is frozen, with frozen arguments copied from the options', () => {
    const args = { 'alternate-exchange': 'ae' }
    const ex = new Exchange('x', { arguments: args })
    expect(Object.isFrozen(ex)).toBe(true)
    expect(Object.isFrozen(ex.arguments)).toBe(true)
    args['alternate-exchange'] = 'changed'
    expect(ex.arguments).toEqual({ 'alternate-exchange': 'ae' })
    expect(() => {
      ;(ex as { durable: boolean }).durable = false
    }).toThrow(TypeError)
  })

  it('with() returns a new exchange and leaves the original alone', () => {
    const ex = new Exchange('x', { type: 'topic', autoDelete: true, deliveryMode: 1, arguments: { a: 1 } })
    const copy = ex.with({ durable: false })
    expect(copy).not.toBe(ex)
    expect(copy).toBeInstanceOf(Exchange)
    expect(copy).toMatchObject({
      name: 'x',
      type: 'topic',
      durable: false,
      autoDelete: true,
      deliveryMode: 1,
    })
    expect(copy.arguments).toEqual({ a: 1 })
    expect(ex.durable).toBe(true)
    expect(() => ex.with({ type: 'nope' as ExchangeType })).toThrow(InvalidOptionError)
  })

  it('options() rebuilds an equal exchange', () => {
    const ex = new Exchange('x', { type: 'headers', durable: false, arguments: { b: 2 } })
    expect(new Exchange(ex.name, ex.options())).toEqual(ex)
    expect(ex.options()).not.toHaveProperty('deliveryMode')
  })

  it('binding() makes a Binding from this exchange', () => {
    const ex = new Exchange('x', { type: 'topic' })
    const b = ex.binding('a.#', { k: 'v' })
    expect(b).toBeInstanceOf(Binding)
    expect(b.exchange).toBe(ex)
    expect(b.routingKey).toBe('a.#')
    expect(b.arguments).toEqual({ k: 'v' })
    expect(ex.binding().routingKey).toBe('')
  })
})

describe('Binding', () => {
  it('takes an exchange name as a direct exchange', () => {
    const b = new Binding('ex', 'rk')
    expect(b.exchange).toBeInstanceOf(Exchange)
    expect(b.exchange.name).toBe('ex')
    expect(b.exchange.type).toBe('direct')
    expect(String(b)).toBe('<Binding ex->rk>')
  })

  it('is frozen and copies its arguments', () => {
    const args: Record<string, unknown> = { 'x-match': 'any' }
    const b = new Binding(new Exchange('h', { type: 'headers' }), '', args)
    args['x-match'] = 'all'
    expect(b.arguments).toEqual({ 'x-match': 'any' })
    expect(Object.isFrozen(b)).toBe(true)
    expect(Object.isFrozen(b.arguments)).toBe(true)
  })
})

describe('Queue', () => {
  it('defaults as Kombu: durable, not exclusive, not auto-delete, default exchange, empty key', () => {
    const q = new Queue('tasks')
    expect(q.name).toBe('tasks')
    expect(q.durable).toBe(true)
    expect(q.exclusive).toBe(false)
    expect(q.autoDelete).toBe(false)
    expect(q.noAck).toBe(false)
    expect(q.exchange.name).toBe('')
    expect(q.routingKey).toBe('')
    expect(q.arguments).toEqual({})
    expect(q.bindings).toEqual([])
    expect(new Queue().name).toBe('')
  })

  it('maps its options to AMQP x-arguments', () => {
    const q = new Queue('q', {
      maxPriority: 10,
      messageTtl: 60_000,
      expires: 1_800_000,
      maxLength: 1000,
      maxLengthBytes: 1_048_576,
      deadLetterExchange: 'dlx',
      deadLetterRoutingKey: 'dead',
    })
    expect(q.arguments).toEqual({
      'x-max-priority': 10,
      'x-message-ttl': 60_000,
      'x-expires': 1_800_000,
      'x-max-length': 1000,
      'x-max-length-bytes': 1_048_576,
      'x-dead-letter-exchange': 'dlx',
      'x-dead-letter-routing-key': 'dead',
    })
    expect(q.maxPriority).toBe(10)
    expect(q.messageTtl).toBe(60_000)
    expect(q.expires).toBe(1_800_000)
  })

  it('rounds durations to whole milliseconds, and keeps 0', () => {
    const q = new Queue('q', { messageTtl: 1.6, expires: 0, maxPriority: 0 })
    expect(q.arguments).toEqual({ 'x-message-ttl': 2, 'x-expires': 0, 'x-max-priority': 0 })
  })

  it('merges `arguments` over the derived ones', () => {
    const q = new Queue('q', { maxPriority: 5, arguments: { 'x-max-priority': 9, 'x-queue-type': 'quorum' } })
    expect(q.arguments).toEqual({ 'x-max-priority': 9, 'x-queue-type': 'quorum' })
  })

  it.each([-1, 256, 1.5, Number.NaN])('rejects maxPriority %s', (maxPriority) => {
    expect(() => new Queue('q', { maxPriority })).toThrow(InvalidOptionError)
    expect(() => new Queue('q', { maxPriority })).toThrow(/maxPriority/)
  })

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY])('rejects messageTtl and expires of %s', (ms) => {
    expect(() => new Queue('q', { messageTtl: ms })).toThrow(InvalidOptionError)
    expect(() => new Queue('q', { messageTtl: ms })).toThrow(/messageTtl/)
    expect(() => new Queue('q', { expires: ms })).toThrow(/expires/)
  })

  it('rejects a name that is not a string', () => {
    expect(() => new Queue(null as unknown as string)).toThrow(InvalidOptionError)
  })

  it('binds to its exchange with its routing key, then the extra bindings', () => {
    const ex = new Exchange('media', { type: 'topic' })
    const extra = new Binding('other', 'k2')
    const q = new Queue('video', { exchange: ex, routingKey: 'video.#', bindings: [extra] })
    expect(q.exchange).toBe(ex)
    expect(q.bindings).toHaveLength(2)
    expect(q.bindings[0]!.exchange).toBe(ex)
    expect(q.bindings[0]!.routingKey).toBe('video.#')
    expect(q.bindings[1]).toBe(extra)
  })

  it('takes an exchange name, binding with the empty key when none is given', () => {
    const q = new Queue('q', { exchange: 'ex' })
    expect(q.exchange.name).toBe('ex')
    expect(q.exchange.type).toBe('direct')
    expect(q.bindings.map((b) => [b.exchange.name, b.routingKey])).toEqual([['ex', '']])
  })

  it('has no primary binding on the default exchange, only the extra ones', () => {
    const extra = new Binding('ex', 'k')
    expect(new Queue('q', { routingKey: 'q' }).bindings).toEqual([])
    expect(new Queue('q', { bindings: [extra] }).bindings).toEqual([extra])
  })

  it('is frozen, down to its bindings and arguments', () => {
    const q = new Queue('q', { exchange: 'ex', maxPriority: 3 })
    expect(Object.isFrozen(q)).toBe(true)
    expect(Object.isFrozen(q.bindings)).toBe(true)
    expect(Object.isFrozen(q.arguments)).toBe(true)
    expect(() => {
      ;(q as { name: string }).name = 'other'
    }).toThrow(TypeError)
  })

  it('does not see later changes to the options object', () => {
    const options = { maxPriority: 3, arguments: { 'x-a': 1 } as Record<string, unknown> }
    const q = new Queue('q', options)
    options.maxPriority = 9
    options.arguments['x-a'] = 2
    expect(q.arguments).toEqual({ 'x-max-priority': 3, 'x-a': 1 })
    expect(q.with({}).arguments).toEqual({ 'x-max-priority': 3, 'x-a': 1 })
  })

  it('with() returns a new queue with the changes and leaves the original alone', () => {
    const q = new Queue('q', { exchange: 'ex', routingKey: 'k', maxPriority: 3 })
    const copy = q.with({ messageTtl: 1000, durable: false })
    expect(copy).not.toBe(q)
    expect(copy).toBeInstanceOf(Queue)
    expect(copy).toMatchObject({
      name: 'q',
      routingKey: 'k',
      durable: false,
      maxPriority: 3,
      messageTtl: 1000,
    })
    expect(copy.arguments).toEqual({ 'x-max-priority': 3, 'x-message-ttl': 1000 })
    expect(q.messageTtl).toBeUndefined()
    expect(q.durable).toBe(true)
    expect(() => q.with({ maxPriority: 300 })).toThrow(InvalidOptionError)
  })

  it('named() copies it under another name', () => {
    const q = new Queue('', { exclusive: true, maxPriority: 2 })
    const named = q.named('amq.gen-1')
    expect(named.name).toBe('amq.gen-1')
    expect(named.exclusive).toBe(true)
    expect(named.arguments).toEqual({ 'x-max-priority': 2 })
    expect(q.name).toBe('')
  })

  it('describes itself', () => {
    expect(String(new Queue('q', { exchange: 'ex', routingKey: 'k' }))).toBe('<Queue q -> ex/k>')
    expect(String(new Queue('q'))).toBe("<Queue q -> ''/>")
  })
})
