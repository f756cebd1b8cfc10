/**
 * The memory result backend: results kept in the process, for tests and single-process apps.
 * Scoped by URL host (`memory://<name>`) inside the backend factory, never module-global.
 */
import type { SerializerRegistry } from '@q/kombu'
import { KeyValueBackend, type KeyValueStore } from './key-value.js'

/** A KeyValueStore in process memory, with expiry and subscriptions. */
export class MemoryStore implements KeyValueStore {
  private readonly data = new Map<string, { value: Buffer; expiresAt: number }>()
  private readonly listeners = new Map<string, Set<(v: Buffer) => void>>()
  private readonly revoked = new Map<string, number>()

  async get(key: string): Promise<Buffer | null> {
    const e = this.data.get(key)
    if (!e) return null
    if (e.expiresAt <= Date.now()) {
      this.data.delete(key)
      return null
    }
    return e.value
  }

  async mget(keys: readonly string[]): Promise<Array<Buffer | null>> {
    return Promise.all(keys.map((k) => this.get(k)))
  }

  async set(key: string, value: Buffer, expiresSeconds: number | null): Promise<void> {
    const expiresAt = expiresSeconds ? Date.now() + expiresSeconds * 1000 : Number.POSITIVE_INFINITY
    this.data.set(key, { value, expiresAt })
    for (const l of this.listeners.get(key) ?? []) l(value)
  }

  async delete(key: string): Promise<void> {
    this.data.delete(key)
  }

  async incr(key: string): Promise<number> {
    const n = Number((await this.get(key))?.toString() ?? 0) + 1
    const e = this.data.get(key)
    this.data.set(key, { value: Buffer.from(String(n)), expiresAt: e?.expiresAt ?? Number.POSITIVE_INFINITY })
    return n
  }

  async expire(key: string, seconds: number): Promise<void> {
    const e = this.data.get(key)
    if (e) e.expiresAt = Date.now() + seconds * 1000
  }

  async subscribe(key: string, listener: (v: Buffer) => void): Promise<() => void> {
    let set = this.listeners.get(key)
    if (!set) {
      set = new Set()
      this.listeners.set(key, set)
    }
    set.add(listener)
    return () => {
      set.delete(listener)
      if (set.size === 0) this.listeners.delete(key)
    }
  }

  async addRevoked(ids: readonly string[], expiresAtSeconds: number): Promise<void> {
    for (const id of ids) this.revoked.set(id, expiresAtSeconds)
  }

  async listRevoked(nowSeconds: number): Promise<string[]> {
    return [...this.revoked].filter(([, at]) => at > nowSeconds).map(([id]) => id)
  }

  async close(): Promise<void> {}
}

/** Stores of `memory://<name>` backends, owned by whoever creates the factory. */
export class MemoryBackendFactory {
  private readonly stores = new Map<string, MemoryStore>()

  /** A backend over the store named by the URL host. */
  create(
    url: string,
    name: string,
    serializers: SerializerRegistry,
    options: { expires?: number | null; extended?: boolean } = {},
  ): KeyValueBackend {
    let store = this.stores.get(name)
    if (!store) {
      store = new MemoryStore()
      this.stores.set(name, store)
    }
    return new KeyValueBackend({ url, store, serializers, ...options })
  }
}
