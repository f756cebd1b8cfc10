import { consoleLogger, InvalidOptionError } from '@q/kombu'
import type { TransportContext } from '@q/kombu/internal'
import { parseUrl } from '@q/kombu/internal'
import { describe, expect, it } from 'vitest'
import { connectArgs } from './connect-options.js'

const context = (over: Partial<TransportContext> = {}): TransportContext => ({
  transportOptions: {},
  connectTimeout: 4000,
  heartbeat: 0,
  ssl: false,
  logger: consoleLogger('silent'),
  ...over,
})

describe('connectArgs', () => {
  it('reads a URL as Kombu does: credentials, port, the // vhost', () => {
    const { connect, socket, where } = connectArgs(parseUrl('amqp://user:p%40ss@rabbit:5673//'), context())
    expect(connect).toMatchObject({
      protocol: 'amqp',
      hostname: 'rabbit',
      port: 5673,
      username: 'user',
      password: 'p@ss',
      vhost: '%2F',
    })
    expect(socket).toMatchObject({ timeout: 4000, noDelay: true, keepAlive: true })
    expect(where).toBe('rabbit:5673/')
  })

  it('defaults: localhost, 5672, vhost /, guest credentials left to amqplib, heartbeats off', () => {
    const { connect } = connectArgs(parseUrl('pyamqp://'), context())
    expect(connect).toEqual({
      protocol: 'amqp',
      hostname: 'localhost',
      port: 5672,
      vhost: '%2F',
      heartbeat: 0,
    })
  })

  it('escapes a vhost name, since amqplib unescapes it', () => {
    expect(connectArgs(parseUrl('amqp://h/a%25b'), context()).connect.vhost).toBe('a%25b')
  })

  it('amqps:// or ssl options mean TLS on 5671, with the options passed to tls.connect', () => {
    const ca = Buffer.from('ca')
    const tls = connectArgs(parseUrl('amqps://h'), context({ ssl: true }))
    expect(tls.connect).toMatchObject({ protocol: 'amqps', port: 5671 })
    const withOptions = connectArgs(
      parseUrl('amqp://h'),
      context({ ssl: { ca, servername: 'broker.example' } }),
    )
    expect(withOptions.connect.protocol).toBe('amqps')
    expect(withOptions.socket).toMatchObject({ ca, servername: 'broker.example' })
  })

  it('takes the heartbeat from the Connection, else from the transport options', () => {
    expect(connectArgs(parseUrl('amqp://h'), context({ heartbeat: 60 })).connect.heartbeat).toBe(60)
    expect(
      connectArgs(parseUrl('amqp://h'), context({ transportOptions: { heartbeat: 30 } })).connect.heartbeat,
    ).toBe(30)
  })

  it('transport options: frame and channel limits, a connection name, socket options', () => {
    const { connect, socket } = connectArgs(
      parseUrl('amqp://h'),
      context({
        transportOptions: {
          frameMax: 8192,
          channelMax: 16,
          connectionName: 'worker-1',
          noDelay: false,
          socketOptions: { family: 4 },
        },
      }),
    )
    expect(connect).toMatchObject({ frameMax: 8192, channelMax: 16 })
    expect(socket).toMatchObject({
      noDelay: false,
      family: 4,
      clientProperties: { connection_name: 'worker-1' },
    })
    expect(() =>
      connectArgs(parseUrl('amqp://h'), context({ transportOptions: { frameMax: 'big' } })),
    ).toThrow(InvalidOptionError)
  })
})
