/**
 * The base of key-value result backends (memory, Redis, ...), after Celery's
 * BaseKeyValueStoreBackend: all the result logic lives here, a store implements a handful of
 * primitives. Waiting is pushed through `subscribe` where the store has it, polled otherwise.
 */
import type { SerializerRegistry } from '@q/kombu'
import { CeleryError, TimeoutError } from '../errors.js'
import { isoformatNaive } from '../protocol/time.js'
import { READY_STATES, states, type TaskState } from '../states.js'
import { EarlyWatches } from './early-results.js'
import type { ResultBackend, StoreRequest, TaskMeta, WaitOptions } from './types.js'

/** The primitives of a key-value store. */
export interface KeyValueStore {
  get(key: string): Promise<Buffer | null>
  mget(keys: readonly string[]): Promise<Array<Buffer | null>>
  /** Sets a value, expiring after `expiresSeconds` when given; also notifies subscribers. */
  set(key: string, value: Buffer, expiresSeconds: number | null): Promise<void>
  delete(key: string): Promise<void>
  incr(key: string): Promise<number>
  expire(key: string, seconds: number): Promise<void>
  /**
   * Sets a value (as `set`) unless the key holds a JSON meta whose status is SUCCESS, in one step:
   * Celery's read-before-write without its extra round trip. Optional; JSON metas only.
   */
  setUnlessSucceeded?(key: string, value: Buffer, expiresSeconds: number | null): Promise<void>
  /** Calls `listener` with every value set on `key`; returns the unsubscribe function. */
  subscribe?(key: string, listener: (value: Buffer) => void): Promise<() => Promise<void> | void>
  /**
   * Subscribes as `subscribe`, for a task about to be sent, without waiting for the server (the
   * task is sent meanwhile). Optional: stores that have it are subscribed in `onTaskCall`, as
   * Celery's ResultConsumer does, so the result is pushed without a read.
   */
  watch?(key: string, listener: (value: Buffer) => void): StoreWatch
  /** Revocation storage (a sorted set in Redis): add ids expiring at a unix time; list live ones. */
  addRevoked?(ids: readonly string[], expiresAtSeconds: number): Promise<void>
  listRevoked?(nowSeconds: number): Promise<string[]>
  close(): Promise<void>
}

/** A subscription made by `KeyValueStore.watch`. */
export interface StoreWatch {
  /**
   * True when the subscription covers everything published after `watch` returned (the
   * SUBSCRIBE left before the task can): no read is needed to catch up.
   */
  readonly inPlace: boolean
  /** Resolves once the subscription is confirmed, with the unsubscribe function. */
  readonly subscribed: Promise<() => Promise<void> | void>
}

/** Options of a KeyValueBackend. */
export interface KeyValueBackendOptions {
  url: string
  store: KeyValueStore
  serializers: SerializerRegistry
  /** Serializer name of stored metas; default json. */
  serializer?: string
  /** Content types accepted when reading; default: the serializer's. */
  accept?: ReadonlySet<string>
  /** Seconds results are kept; null keeps them for ever. */
  expires?: number | null
  /** Store name, args, kwargs, worker, retries and queue too. */
  extended?: boolean
}

const KEY_PREFIX = 'celery-task-meta-'
/** Most early subscriptions and unclaimed results a backend keeps (Celery's MESSAGE_BUFFER_MAX). */
const EARLY_MAX = 8192
/**
 * How long a waiter subscribed before its task was sent waits for a push before it reads the key
 * anyway, ms: a result stored before the task was sent (a task id used twice, with no worker to
 * run it again) is never published.
 */
const CATCH_UP_MS = 250

/** Result logic over a key-value store. */
export class KeyValueBackend implements ResultBackend {
  readonly url: string
  protected readonly store: KeyValueStore
  private readonly o: KeyValueBackendOptions
  /** Pending waits, so that close() can end them. */
  private readonly waiting = new Set<(err: Error | null, meta?: TaskMeta) => void>()
  private readonly early: EarlyWatches
  /** Whether anyone waited for a result here yet (see onTaskCall). */
  private waited = false

  constructor(options: KeyValueBackendOptions) {
    this.url = options.url
    this.store = options.store
    this.o = options
    this.early = new EarlyWatches(EARLY_MAX, (value) => {
      try {
        return READY_STATES.has(this.decode(value).status)
      } catch {
        return true // unreadable: the waiter will say so; nothing better will come
      }
    })
  }

  /**
   * A task is about to be sent: with a store that can `watch`, its result channel is subscribed
   * now, ahead of the task message (the subscription is not awaited), so `waitForReady` gets the
   * result pushed with no read. Only once this backend has waited for a result: a process that
   * never waits (a worker sending the next step of a chain, a fire-and-forget producer) does not
   * subscribe to every task it sends (Celery skips it inside tasks, `task_join_will_block`).
   * Other stores: nothing to do.
   */
  onTaskCall(taskId: string): void {
    const store = this.store
    if (!store.watch || !this.waited) return
    try {
      this.early.start(this.key(taskId), (key, listener) => store.watch!(key, listener))
    } catch {
      // No subscription (a closed store): sending the task must not fail for it; a waiter
      // subscribes and reads as without one, and reports the store's error itself.
    }
  }

  /** The key of a task's meta: `celery-task-meta-<id>`. */
  key(taskId: string): string {
    return `${KEY_PREFIX}${taskId}`
  }

  async storeResult(
    taskId: string,
    result: unknown,
    state: TaskState,
    options: { traceback?: string | null; request?: StoreRequest; children?: unknown[] } = {},
  ): Promise<void> {
    const meta = this.buildMeta(taskId, result, state, options)
    const key = this.key(taskId)
    if (this.store.setUnlessSucceeded && (this.o.serializer ?? 'json') === 'json') {
      await this.store.setUnlessSucceeded(key, this.encode(meta), this.o.expires ?? null)
      return
    }
    // As Celery: a stored SUCCESS is final, even for another SUCCESS (a redelivered duplicate).
    if ((await this.getTaskMeta(taskId)).status === states.SUCCESS) return
    await this.store.set(key, this.encode(meta), this.o.expires ?? null)
  }

  async getTaskMeta(taskId: string): Promise<TaskMeta> {
    const raw = await this.store.get(this.key(taskId))
    return raw ? this.decode(raw) : pending(taskId)
  }

  async waitForReady(taskId: string, options: WaitOptions = {}): Promise<TaskMeta> {
    const { timeout, signal, onUpdate } = options
    const key = this.key(taskId)
    this.waited = true
    return new Promise<TaskMeta>((resolve, reject) => {
      let done = false
      let unsubscribe: (() => unknown) | undefined
      let poll: NodeJS.Timeout | undefined
      const early = this.early.take(key)
      const finish = (err: Error | null, meta?: TaskMeta) => {
        if (done) return
        done = true
        this.waiting.delete(finish)
        clearTimeout(timer)
        clearTimeout(poll)
        signal?.removeEventListener('abort', onAbort)
        void unsubscribe?.()
        err ? reject(err) : resolve(meta!)
      }
      this.waiting.add(finish)
      let last: string | undefined
      const seen = (meta: TaskMeta) => {
        if (READY_STATES.has(meta.status)) return finish(null, meta)
        // The read after subscribing may see the meta a push already brought: report it once.
        const json = JSON.stringify(meta)
        if (meta.status !== states.PENDING && json !== last) onUpdate?.(meta)
        last = json
      }
      const timer =
        timeout === undefined
          ? undefined
          : setTimeout(
              () =>
                finish(
                  new TimeoutError(
                    `The operation timed out: no result for task ${taskId} within ${timeout} ms`,
                  ),
                ),
              timeout,
            )
      const onAbort = () =>
        finish(signal?.reason instanceof Error ? signal.reason : new TimeoutError('aborted'))
      signal?.addEventListener('abort', onAbort, { once: true })
      const check = () => this.getTaskMeta(taskId).then(seen, (e: Error) => finish(e))
      const pushed = (v: Buffer) => {
        try {
          seen(this.decode(v))
        } catch (e) {
          finish(e as Error)
        }
      }
      const start = async () => {
        if (early) {
          // Subscribed when the task was sent: what was pushed since is here, the rest will be.
          early.listener = pushed
          if (early.last) pushed(early.last)
          const u = await early.subscribed.catch(() => undefined)
          if (u) {
            unsubscribe = u
            if (done) void u()
            // In place before the task left: nothing can have been missed, but a result stored
            // before it (and not published again) is read after a while.
            else if (early.inPlace) poll = setTimeout(() => void check(), CATCH_UP_MS)
            else await check()
            return
          }
          if (done) return
        }
        if (this.store.subscribe) {
          // Subscribe first, then read: a result stored in between is not missed.
          unsubscribe = await this.store.subscribe(key, pushed)
          if (done) void unsubscribe()
          await check()
        } else {
          const tick = async () => {
            await check()
            if (!done) poll = setTimeout(tick, options.interval ?? 500)
          }
          await tick()
        }
      }
      start().catch((e: Error) => finish(e))
    })
  }

  async forget(taskId: string): Promise<void> {
    this.early.drop(this.key(taskId))
    await this.store.delete(this.key(taskId))
  }

  async saveRevoked(ids: readonly string[], expiresSeconds: number): Promise<void> {
    await this.store.addRevoked?.(ids, Date.now() / 1000 + expiresSeconds)
  }

  async loadRevoked(): Promise<string[]> {
    return (await this.store.listRevoked?.(Date.now() / 1000)) ?? []
  }

  /** Closes the store; waiters still pending fail with ClosedError rather than hang. */
  close(): Promise<void> {
    for (const finish of [...this.waiting])
      finish(new CeleryError('The result backend was closed while waiting'))
    this.early.clear()
    return this.store.close()
  }

  /** Celery's meta, keys in its order; extended fields before task_id. */
  protected buildMeta(
    taskId: string,
    result: unknown,
    state: TaskState,
    options: { traceback?: string | null; request?: StoreRequest; children?: unknown[] },
  ): TaskMeta {
    const r = options.request
    const meta: Record<string, unknown> = {
      status: state,
      result,
      traceback: options.traceback ?? null,
      children: options.children ?? [],
      date_done: READY_STATES.has(state) ? isoformatNaive(new Date()) : null,
    }
    if (r?.group) meta.group_id = r.group
    if (r?.parentId) meta.parent_id = r.parentId
    if (this.o.extended && r) {
      meta.name = r.task ?? null
      meta.args = r.args ?? null
      meta.kwargs = r.kwargs ?? null
      meta.worker = r.hostname ?? null
      meta.retries = r.retries ?? 0
      meta.queue = r.routingKey ?? null
    }
    meta.task_id = taskId
    return meta as unknown as TaskMeta
  }

  protected encode(meta: TaskMeta): Buffer {
    return this.o.serializers.encode(meta, this.o.serializer ?? 'json').body
  }

  protected decode(raw: Buffer): TaskMeta {
    const s = this.o.serializers.get(this.o.serializer ?? 'json')!
    return this.o.serializers.decode(raw, s.contentType, s.contentEncoding, this.o.accept) as TaskMeta
  }
}

/** The meta of an id the backend knows nothing about. */
export function pending(taskId: string): TaskMeta {
  return {
    status: states.PENDING,
    result: null,
    traceback: null,
    children: [],
    date_done: null,
    task_id: taskId,
  }
}
