import { parseUrl } from '@q/kombu'
import { describe, expect, it } from 'vitest'
import { clientOptions } from './client.js'

const context = { transportOptions: {}, connectTimeout: 1000, heartbeat: 0, ssl: false, logger: console }

describe('client options', () => {
  it('reads host, port, database, user and password from a redis:// URL', () => {
    const o = clientOptions(parseUrl('redis://app:s%40cret@cache.local:6380/4'), context, {})
    expect(o).toMatchObject({ host: 'cache.local', port: 6380, db: 4, username: 'app', password: 's@cret' })
    expect(o.tls).toBeUndefined()
    // Reconnection belongs to the Connection.
    expect(o.retryStrategy?.(1)).toBeNull()
  })

  it('turns on TLS for rediss://, with ssl_cert_reqs=CERT_NONE turning verification off', () => {
    const o = clientOptions(
      parseUrl('rediss://h'),
      { ...context, ssl: { servername: 'h' } },
      { sslCertReqs: 'CERT_NONE' },
    )
    expect(o.tls).toEqual({ servername: 'h', rejectUnauthorized: false })
    expect(o.port).toBe(6379)
  })

  it('asks sentinels for the master named by masterName', () => {
    const url = parseUrl('sentinel://:pw@s1:26379/2')
    expect(() => clientOptions(url, context, {})).toThrow(/masterName/)
    const o = clientOptions(url, context, {
      masterName: 'mymaster',
      sentinels: ['s2:26380', { host: 's3', port: 26381 }],
    })
    expect(o).toMatchObject({ name: 'mymaster', db: 2, password: 'pw' })
    expect(o.sentinels).toEqual([
      { host: 's1', port: 26379 },
      { host: 's2', port: 26380 },
      { host: 's3', port: 26381 },
    ])
  })
})
