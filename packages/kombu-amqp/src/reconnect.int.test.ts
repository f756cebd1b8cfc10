/**
 * Connection: failover alternates, heartbeats, refused logins, and reconnection after the broker
 * closes the connection (320 CONNECTION_FORCED), with consumers and producers resuming by themselves.
 */
import { randomUUID } from 'node:crypto'
import { ConfigurationError, Connection, Consumer, Producer, Queue } from '@q/kombu'
import { Inbox } from '@q/kombu-testing'
import { afterEach, describe, expect, it } from 'vitest'
import { amqpUrl, amqpVhost, closeAllConnections, hasRabbitmqctl, rabbitmqctl } from '../test/broker.js'
import { transport } from './index.js'

const opened: Connection[] = []
function connection(
  url: string | string[] = amqpUrl(),
  options: ConstructorParameters<typeof Connection>[1] = {},
): Connection {
  const conn = new Connection(url, { transport, ...options })
  opened.push(conn)
  return conn
}
afterEach(async () => {
  for (const c of opened.splice(0)) await c.close()
})
const ctl = hasRabbitmqctl()
const withCtl = ctl ? it : it.skip

describe('connecting', () => {
  it('goes through failover alternates until one answers', async () => {
    const conn = connection(['amqp://guest:guest@127.0.0.1:1//', amqpUrl()], {
      retryPolicy: { maxRetries: 0 },
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    })
    await conn.connect()
    expect(conn.state).toBe('connected')
    expect(conn.url).toBe(amqpUrl().replace(':guest@', ':**@'))
  })

  it('a refused login fails at once with a ConfigurationError, not retried', async () => {
    const conn = connection(amqpUrl().replace('guest:guest', 'guest:wrong'), {
      retryPolicy: { maxRetries: 5, intervalStep: 1000 },
    })
    const started = Date.now()
    await expect(conn.connect()).rejects.toBeInstanceOf(ConfigurationError)
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('an unknown vhost fails with a ConfigurationError', async () => {
    const conn = connection(amqpUrl().replace(/\/[^/]*$/, `/no-such-vhost-${randomUUID()}`), {
      retryPolicy: { maxRetries: 0 },
    })
    await expect(conn.connect()).rejects.toBeInstanceOf(ConfigurationError)
  })

  withCtl('negotiates the heartbeat asked for, and stays up while idle', async () => {
    const conn = await connection(amqpUrl(), { heartbeat: 1 }).connect()
    const listing = await rabbitmqctl('list_connections', '-p', amqpVhost(), 'timeout')
    expect(listing.split('\n').map((l) => l.trim())).toContain('1')
    // Idle for three heartbeat intervals: both sides keep beating, nobody times out.
    await new Promise((r) => setTimeout(r, 3500))
    expect(conn.state).toBe('connected')
    await (await conn.channel()).declareQueue(new Queue('', { exclusive: true }))
  })
})

describe('reconnecting', () => {
  withCtl(
    'after the broker closes the connection, consumers and producers resume by themselves',
    async () => {
      const conn = connection(amqpUrl(), { reconnect: { intervalStep: 50, intervalMax: 500 } })
      const events: string[] = []
      conn.on('connected', ({ reconnected }) => events.push(reconnected ? 'reconnected' : 'connected'))
      conn.on('disconnected', ({ error }) => events.push(`disconnected: ${error?.name}`))
      conn.on('error', () => {})
      await conn.connect()
      const queue = new Queue(`q-reconnect-${randomUUID().slice(0, 8)}`, { autoDelete: true })
      const inbox = new Inbox<number>({ ack: true, timeout: 10_000 })
      await new Consumer(conn, { queues: queue, onMessage: inbox.onMessage }).consume()
      const producer = new Producer(conn)
      await producer.publish(1, { routingKey: queue.name, confirm: true })
      await inbox.collect(1)

      const back = new Promise<void>((resolve) => conn.once('connected', () => resolve()))
      await closeAllConnections('reconnect test')
      await back
      // The consumer declared its queue again (it was auto-delete, so it went) and consumes again.
      await producer.publish(2, { routingKey: queue.name, confirm: true, retry: true, declare: [queue] })
      expect((await inbox.collect(2)).map((m) => m.body)).toEqual([1, 2])
      expect(events).toEqual(['connected', 'disconnected: ConnectionError', 'reconnected'])
    },
  )
})
