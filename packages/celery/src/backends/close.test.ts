import { SerializerRegistry } from '@q/kombu'
import { describe, expect, it } from 'vitest'
import { CeleryError } from '../errors.js'
import { KeyValueBackend } from './key-value.js'
import { MemoryStore } from './memory.js'

describe('KeyValueBackend.close()', () => {
  it('fails pending waiters instead of leaving them hanging', async () => {
    const backend = new KeyValueBackend({
      url: 'memory://',
      store: new MemoryStore(),
      serializers: new SerializerRegistry(),
    })
    const waiting = backend.waitForReady('never-stored')
    await new Promise((r) => setImmediate(r))
    await backend.close()
    await expect(waiting).rejects.toBeInstanceOf(CeleryError)
    await expect(waiting).rejects.toThrow(/closed while waiting/)
  })
})
