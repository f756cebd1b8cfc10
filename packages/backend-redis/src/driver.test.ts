import { Celery, CeleryError, KeyValueBackend } from '@q/celery'
import { describe, expect, it } from 'vitest'
import { backend, createRedisStore } from './driver.js'

// Port 1 has no Redis: these tests pass only if nothing connects.
describe('the driver', () => {
  it('is what @q/celery loads for redis://, and builds a backend without connecting', async () => {
    await using app = new Celery('t', {
      broker: 'memory://driver-test',
      backend: 'redis://:secret@127.0.0.1:1/4',
    })
    const b = await app.backend()
    expect(b).toBeInstanceOf(KeyValueBackend)
    expect(b?.url).toBe('redis://:**@127.0.0.1:1/4')
    expect(typeof backend.create).toBe('function')
  })

  it('loads for rediss:// and sentinel:// too', async () => {
    for (const url of ['rediss://127.0.0.1:1/0', 'sentinel://127.0.0.1:1/0?master_name=m']) {
      await using app = new Celery('t', { broker: 'memory://driver-test', backend: url })
      expect(await app.backend()).toBeInstanceOf(KeyValueBackend)
    }
  })

  it('closes a store that never connected, twice', async () => {
    const store = createRedisStore('redis://127.0.0.1:1/0')
    expect(store.client.status).toBe('wait')
    await store.close()
    await store.close()
    expect(store.client.status).toBe('end')
    await expect(store.subscribe('k', () => {})).rejects.toBeInstanceOf(CeleryError)
  })
})
