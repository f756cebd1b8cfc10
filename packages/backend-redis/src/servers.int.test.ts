/**
 * URL forms against servers of the test's own: a password, an ACL user, TLS (verified against
 * a CA file, or not at all), and Sentinel with a dead sentinel listed first.
 */
import { randomUUID } from 'node:crypto'
import { KeyValueBackend } from '@q/celery'
import { SerializerRegistry } from '@q/kombu'
import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { startRedis, startSentinel, startTlsRedis } from '../test/servers.js'
import { createRedisStore } from './driver.js'

/** A backend on `url`; stores and waits for one result through it; returns what was read back. */
async function roundTrip(url: string, transportOptions: Record<string, unknown> = {}): Promise<unknown> {
  const store = createRedisStore(url, {
    redisOptions: { maxRetriesPerRequest: 1, retryStrategy: () => null },
    ...transportOptions,
  })
  const backend = new KeyValueBackend({ url, store, serializers: new SerializerRegistry(), expires: 60 })
  const abort = new AbortController()
  try {
    const id = randomUUID()
    const [meta] = await Promise.all([
      backend.waitForReady(id, { timeout: 5000, signal: abort.signal }),
      backend.storeResult(id, { via: url.split(':')[0] }, 'SUCCESS'),
    ])
    return meta.result
  } finally {
    abort.abort()
    await backend.close()
  }
}

describe('connecting', () => {
  it('with a password, and with an ACL user', async () => {
    await using server = await startRedis('s3cret')
    expect(await roundTrip(`redis://:s3cret@127.0.0.1:${server.port}/2`)).toEqual({ via: 'redis' })
    expect(await roundTrip(`redis://app:app-pw@127.0.0.1:${server.port}/3`)).toEqual({ via: 'redis' })
    await expect(roundTrip(`redis://app:wrong@127.0.0.1:${server.port}/3`)).rejects.toThrow(
      /WRONGPASS|invalid/i,
    )
    const raw = new Redis({ port: server.port, password: 's3cret', db: 3 })
    try {
      expect(await raw.keys('celery-task-meta-*')).toHaveLength(1) // the wrong password stored nothing
    } finally {
      raw.disconnect()
    }
  })

  it('over TLS: verified with ssl_ca_certs, unverified with CERT_NONE, refused otherwise', async () => {
    await using server = await startTlsRedis()
    const base = `rediss://localhost:${server.port}/0`
    expect(await roundTrip(`${base}?ssl_ca_certs=${encodeURIComponent(server.ca)}`)).toEqual({
      via: 'rediss',
    })
    expect(await roundTrip(`${base}?ssl_cert_reqs=CERT_NONE`)).toEqual({ via: 'rediss' })
    expect(await roundTrip(base, { sslCertReqs: 'CERT_NONE' })).toEqual({ via: 'rediss' })
    const errors: Error[] = []
    await expect(roundTrip(base, { onError: (e: Error) => errors.push(e) })).rejects.toThrow()
    expect(errors.map((e) => e.message).join('\n')).toMatch(/self.signed|certificate/i)
  })

  it('through Sentinel, skipping a dead sentinel', async () => {
    await using master = await startRedis('m-pw')
    await using sentinel = await startSentinel(master, 'm-pw')
    const url = `sentinel://:m-pw@127.0.0.1:1/4;sentinel://:m-pw@127.0.0.1:${sentinel.port}/4`
    expect(await roundTrip(url, { master_name: 'mymaster' })).toEqual({ via: 'sentinel' })
    const raw = new Redis({ port: master.port, password: 'm-pw', db: 4 })
    try {
      expect(await raw.keys('celery-task-meta-*')).toHaveLength(1)
    } finally {
      raw.disconnect()
    }
  })
})
