import { EventEmitter } from 'node:events'
import { ChannelError, Connection, ConnectionError, consoleLogger } from '@q/kombu'
import type { ChannelModel } from 'amqplib'
import { describe, expect, it } from 'vitest'
import { amqpCapabilities } from './capabilities.js'
import { AmqpConnection } from './connection.js'
import { classifyError } from './errors.js'

/** An amqplib ChannelModel that opens confirm channels the test can close. */
class FakeModel extends EventEmitter {
  readonly channels: EventEmitter[] = []
  closed = false
  async createConfirmChannel() {
    const ch = Object.assign(new EventEmitter(), {
      close: async () => void ch.emit('close'),
      prefetch: async () => ({}),
    })
    this.channels.push(ch)
    return ch
  }
  async close() {
    this.closed = true
    this.emit('close')
  }
  /** What amqplib does when the socket or the broker ends the connection. */
  lose(error: Error) {
    for (const ch of this.channels) ch.emit('close')
    this.emit('close', error)
  }
}

const logger = consoleLogger('silent')
const forced = () =>
  Object.assign(
    new Error(
      'Connection closed: 320 (CONNECTION-FORCED) with message "CONNECTION_FORCED - broker forced connection closure"',
    ),
    { code: 320 },
  )

describe('AmqpConnection', () => {
  it('closed() resolves with a ConnectionError when the broker closes the connection; its channels close with it', async () => {
    const model = new FakeModel()
    const conn = new AmqpConnection(model as unknown as ChannelModel, new Map(), logger)
    const channel = await conn.createChannel()
    model.lose(forced())
    const err = await conn.closed()
    expect(err).toBeInstanceOf(ConnectionError)
    expect(err?.message).toMatch(/CONNECTION_FORCED/)
    expect(await channel.closed()).toBe(err)
    expect(channel.isOpen).toBe(false)
    await expect(channel.purgeQueue('q')).rejects.toBeInstanceOf(ConnectionError)
    await expect(conn.createChannel()).rejects.toBeInstanceOf(ConnectionError)
  })

  it('closed() resolves with undefined when we close it', async () => {
    const model = new FakeModel()
    const conn = new AmqpConnection(model as unknown as ChannelModel, new Map(), logger)
    const channel = await conn.createChannel()
    await conn.close()
    expect(await conn.closed()).toBeUndefined()
    expect(await channel.closed()).toBeUndefined()
    expect(model.closed).toBe(true)
    await conn.close() // idempotent
  })

  it('an ack on a closed channel is a ChannelError, never a write', async () => {
    const model = new FakeModel()
    const conn = new AmqpConnection(model as unknown as ChannelModel, new Map(), logger)
    const channel = await conn.createChannel()
    await channel.close()
    await expect(channel.ack(1)).rejects.toBeInstanceOf(ChannelError)
  })

  it('remembers a queue that refused a global prefetch (540), for the next connection', async () => {
    const types = new Map<string, string>()
    const model = new FakeModel()
    new AmqpConnection(model as unknown as ChannelModel, types, logger)
    model.lose(
      Object.assign(
        new Error(
          `Connection closed: 540 (NOT-IMPLEMENTED) with message "NOT_IMPLEMENTED - queue 'tasks' in vhost '/' does not support global qos"`,
        ),
        { code: 540 },
      ),
    )
    expect(types.get('tasks')).toBe('quorum')
  })

  it("@q/kombu's Connection reports blocked, unblocked, disconnected and reconnected", async () => {
    const models: FakeModel[] = []
    const driver = {
      name: 'amqp',
      capabilities: amqpCapabilities,
      classifyError,
      async connect() {
        const model = new FakeModel()
        models.push(model)
        return new AmqpConnection(model as unknown as ChannelModel, new Map(), logger)
      },
    }
    const conn = new Connection('amqp://fake', { transport: driver, logger, reconnect: { intervalStep: 1 } })
    const events: string[] = []
    conn.on('blocked', ({ reason }) => events.push(`blocked: ${reason}`))
    conn.on('unblocked', () => events.push('unblocked'))
    conn.on('disconnected', ({ error }) => events.push(`disconnected: ${error?.name}`))
    conn.on('connected', ({ reconnected }) => events.push(reconnected ? 'reconnected' : 'connected'))
    conn.on('error', () => {})
    await conn.connect()
    models[0]!.emit('blocked', 'low on memory')
    models[0]!.emit('unblocked')
    const back = new Promise((r) => conn.once('connected', r))
    models[0]!.lose(forced())
    await back
    expect(events).toEqual([
      'connected',
      'blocked: low on memory',
      'unblocked',
      'disconnected: ConnectionError',
      'reconnected',
    ])
    await conn.close()
  })
})
