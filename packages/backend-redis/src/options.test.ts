import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigurationError } from '@q/celery'
import { describe, expect, it } from 'vitest'
import { resolveBackendOptions } from './options.js'

describe('resolveBackendOptions', () => {
  it('gives ioredis the server, db and credentials, connecting lazily', () => {
    const { client, revokedKey } = resolveBackendOptions('redis://app:pw@h:6380/5')
    expect(client).toMatchObject({ host: 'h', port: 6380, db: 5, username: 'app', password: 'pw' })
    expect(client.lazyConnect).toBe(true)
    expect(client.tls).toBeUndefined()
    expect(revokedKey).toBe('q-revoked')
  })

  it('reads options in camelCase or snake_case, the URL query winning', () => {
    const { client, revokedKey } = resolveBackendOptions('redis://h/0?socket_timeout=2.5', {
      socketTimeout: 9,
      socket_connect_timeout: 3,
      revoked_key: 'my-revoked',
      connectionName: 'api',
    })
    expect(client).toMatchObject({ socketTimeout: 2500, connectTimeout: 3000, connectionName: 'api' })
    expect(revokedKey).toBe('my-revoked')
  })

  it('passes redisOptions to ioredis last', () => {
    const retryStrategy = () => 100
    const { client } = resolveBackendOptions('redis://h/0', { redisOptions: { retryStrategy, db: 7 } })
    expect(client.retryStrategy).toBe(retryStrategy)
    expect(client.db).toBe(7)
  })

  it('turns rediss:// into TLS, verifying unless ssl_cert_reqs=CERT_NONE', () => {
    expect(resolveBackendOptions('rediss://h/0').client.tls).toEqual({ rejectUnauthorized: true })
    expect(resolveBackendOptions('rediss://h/0?ssl_cert_reqs=CERT_OPTIONAL').client.tls).toEqual({
      rejectUnauthorized: true,
    })
    expect(resolveBackendOptions('rediss://h/0?ssl_cert_reqs=none').client.tls).toEqual({
      rejectUnauthorized: false,
    })
  })

  it('reads the CA, certificate and key files of rediss://', () => {
    const dir = mkdtempSync(join(tmpdir(), 'q-backend-redis-'))
    try {
      for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), f)
      const q = `ssl_ca_certs=${dir}/ca.pem&ssl_certfile=${dir}/cert.pem&ssl_keyfile=${dir}/key.pem`
      const tls = resolveBackendOptions(`rediss://h/0?${q}`).client.tls as Record<string, Buffer>
      expect([tls.ca, tls.cert, tls.key].map(String)).toEqual(['ca.pem', 'cert.pem', 'key.pem'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('builds a sentinel client from every sentinel and the master name', () => {
    const { client } = resolveBackendOptions('sentinel://:pw@s1:26379/2;sentinel://s2:26380/2', {
      master_name: 'mymaster',
      sentinel_kwargs: { password: 'sentinel-pw' },
    })
    expect(client).toMatchObject({
      name: 'mymaster',
      db: 2,
      password: 'pw',
      sentinelPassword: 'sentinel-pw',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
      ],
    })
    expect(client.host).toBeUndefined()
    expect(resolveBackendOptions('sentinel://s1?master_name=m').client.name).toBe('m')
  })

  it('refuses bad values with a message that says what to do', () => {
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['sentinel://s1', {}, /masterName: 'mymaster'/],
      ['redis://h/0?ssl_cert_reqs=CERT_NONE', {}, /need a rediss:\/\/ URL/],
      ['rediss://h/0?ssl_cert_reqs=maybe', {}, /CERT_REQUIRED, CERT_OPTIONAL or CERT_NONE/],
      ['redis://h/0', { socketTimeout: -1 }, /'socketTimeout' must be a number of seconds > 0/],
      ['redis://h/0', { revokedKey: 3 }, /'revokedKey' must be a non-empty string/],
    ]
    for (const [url, options, message] of cases) {
      expect(() => resolveBackendOptions(url, options), url).toThrow(ConfigurationError)
      expect(() => resolveBackendOptions(url, options), url).toThrow(message)
    }
  })
})
