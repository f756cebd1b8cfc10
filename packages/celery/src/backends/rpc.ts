/**
 * The rpc:// result backend, as Celery's: results travel back as messages to the caller's own
 * reply queue (named by its oid, the `reply_to` of every task it sends), through the default
 * exchange, with the task id as `correlation_id`. Only the caller that sent a task sees its
 * result; nothing is stored anywhere.
 */
import { Consumer, Producer, Queue } from '@q/kombu'
import { TimeoutError } from '../errors.js'
import { READY_STATES, type TaskState } from '../states.js'
import { pending } from './key-value.js'
import type { BackendContext } from './registry.js'
import type { ResultBackend, StoreRequest, TaskMeta, WaitOptions } from './types.js'

/** Results as messages to the caller's reply queue. */
export class RpcBackend implements ResultBackend {
  private readonly latest = new Map<string, TaskMeta>()
  private readonly waiters = new Map<string, Set<(meta: TaskMeta) => void>>()
  private consumer: Promise<Consumer<TaskMeta>> | undefined
  private producer: Producer | undefined

  constructor(
    readonly url: string,
    private readonly ctx: BackendContext,
  ) {}

  /** The caller's reply queue, declared as Celery declares it. */
  replyQueue(): Queue {
    return new Queue(this.ctx.oid, {
      durable: false,
      autoDelete: true,
      ...(this.ctx.expires ? { expires: this.ctx.expires * 1000 } : {}),
    })
  }

  async onTaskCall(): Promise<void> {
    await this.listen()
  }

  async storeResult(
    taskId: string,
    result: unknown,
    state: TaskState,
    options: { traceback?: string | null; request?: StoreRequest; children?: unknown[] } = {},
  ): Promise<void> {
    const replyTo = options.request?.replyTo
    if (!replyTo) return
    this.producer ??= new Producer(this.ctx.connection())
    const meta = {
      task_id: taskId,
      status: state,
      result,
      traceback: options.traceback ?? null,
      children: options.children ?? [],
    }
    await this.producer.publish(meta, {
      exchange: '',
      routingKey: replyTo,
      serializer: this.ctx.serializer,
      correlationId: options.request?.correlationId ?? taskId,
      deliveryMode: this.ctx.persistent ? 'persistent' : 'transient',
      retry: true,
    })
  }

  async getTaskMeta(taskId: string): Promise<TaskMeta> {
    return this.latest.get(taskId) ?? pending(taskId)
  }

  async waitForReady(taskId: string, options: WaitOptions = {}): Promise<TaskMeta> {
    await this.listen()
    const known = this.latest.get(taskId)
    if (known && READY_STATES.has(known.status)) return known
    return new Promise<TaskMeta>((resolve, reject) => {
      const set = this.waiters.get(taskId) ?? new Set()
      this.waiters.set(taskId, set)
      const timer =
        options.timeout === undefined
          ? undefined
          : setTimeout(
              () =>
                done(
                  new TimeoutError(
                    `The operation timed out: no result for task ${taskId} within ${options.timeout} ms`,
                  ),
                ),
              options.timeout,
            )
      const onAbort = () => done(new TimeoutError('aborted'))
      const listener = (meta: TaskMeta) => {
        if (READY_STATES.has(meta.status)) done(null, meta)
        else options.onUpdate?.(meta)
      }
      const done = (err: Error | null, meta?: TaskMeta) => {
        clearTimeout(timer)
        set.delete(listener)
        if (set.size === 0) this.waiters.delete(taskId)
        options.signal?.removeEventListener('abort', onAbort)
        err ? reject(err) : resolve(meta!)
      }
      options.signal?.addEventListener('abort', onAbort, { once: true })
      set.add(listener)
    })
  }

  async forget(taskId: string): Promise<void> {
    this.latest.delete(taskId)
  }

  async close(): Promise<void> {
    const c = await this.consumer?.catch(() => undefined)
    await c?.close()
  }

  private listen(): Promise<Consumer<TaskMeta>> {
    this.consumer ??= new Consumer<TaskMeta>(this.ctx.connection(), {
      queues: [this.replyQueue()],
      noAck: true,
      accept: this.ctx.accept,
      onMessage: (meta, message) => {
        const id = meta?.task_id ?? message.properties.correlationId
        if (typeof id !== 'string') return
        this.latest.set(id, meta)
        for (const l of [...(this.waiters.get(id) ?? [])]) l(meta)
      },
    }).consume()
    return this.consumer
  }
}
