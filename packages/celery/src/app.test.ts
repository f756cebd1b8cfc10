/**
 * The app object: configuration, backends by URL, lifecycle.
 */
import { describe, expect, it } from 'vitest'
import { Celery } from './app.js'
import { ConfigurationError } from './errors.js'

describe('Celery', () => {
  it('is an explicit object with its own oid, origin and signals', () => {
    const a = new Celery('a', { broker: 'memory://app-a', env: {} })
    const b = new Celery('b', { broker: 'memory://app-a', env: {} })
    expect(a.main).toBe('a')
    expect(a.oid).not.toBe(b.oid)
    expect(a.oid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    expect(a.origin).toBe(`gen${process.pid}@${a.hostname}`)
    expect(a.signals).not.toBe(b.signals)
  })

  it('has no backend without resultBackend, and says which backends exist', async () => {
    expect(await new Celery('a', { env: {} }).backend()).toBeUndefined()
    const bad = new Celery('a', { backend: 'mongodb://x', env: {} })
    await expect(bad.backend()).rejects.toThrow(ConfigurationError)
    await expect(bad.backend()).rejects.toThrow(/Unknown result backend 'mongodb:\/\/'/)
  })

  it('shares memory:// backends by name', async () => {
    const a = new Celery('a', { broker: 'memory://app-share', backend: 'memory://app-share', env: {} })
    const b = new Celery('b', { broker: 'memory://app-share', backend: 'memory://app-share', env: {} })
    const c = new Celery('c', { broker: 'memory://app-share', backend: 'memory://app-other', env: {} })
    await (await a.backend())!.storeResult('shared', 1, 'SUCCESS')
    expect(await b.asyncResult('shared').get({ timeout: 100 })).toBe(1)
    expect(await c.asyncResult('shared').state()).toBe('PENDING')
    await Promise.all([a.close(), b.close(), c.close()])
  })

  it('closes once, however often it is asked, and with await using', async () => {
    const app = new Celery('a', { broker: 'memory://app-close', backend: 'memory://app-close', env: {} })
    await app.sendTask('t')
    const first = app.close()
    expect(app.close()).toBe(first)
    await first
    {
      await using disposable = new Celery('d', { broker: 'memory://app-dispose', env: {} })
      await disposable.sendTask('t')
    }
  })
})
