/**
 * The Celery app: an explicit object (never a global) holding configuration, registered tasks,
 * the producer connection, the result backend and signals. Tasks are sent through it, and
 * workers are made from it.
 */
import { randomUUID } from 'node:crypto'
import { hostname as osHostname } from 'node:os'
import {
  Connection,
  type ConnectionOptions,
  consoleLogger,
  type Logger,
  Producer,
  SerializerRegistry,
} from '@q/kombu'
import { createBackend } from './backends/registry.js'
import type { ResultBackend } from './backends/types.js'
import { type CeleryConfig, type ConfigInput, resolveConfig } from './config/config.js'
import { Control } from './control/control.js'
import { EagerRunner } from './eager.js'
import { ConfigurationError, NotRegisteredError } from './errors.js'
import type { TaskFunction } from './execute.js'
import { publishTask } from './publish.js'
import { publishTasks } from './publish-many.js'
import { AsyncResult } from './result/async-result.js'
import { buildQueues, Router } from './routing.js'
import { Signals } from './signals.js'
import { Task } from './task.js'
import type { CallOptions, TaskCall, TaskContext, TaskOptions } from './task-types.js'
import type { Worker, WorkerOptions } from './worker/worker.js'

/** Options of an app: any Celery setting (camelCase or snake_case), plus these. */
export interface CeleryOptions extends ConfigInput {
  /** Broker URL (same as brokerUrl). */
  broker?: string
  /** Result backend URL (same as resultBackend). */
  backend?: string
  /** Connection options for the broker (an explicit transport for bundlers and tests...). */
  connection?: ConnectionOptions
  /** Environment to read CELERY_* settings from; default process.env. */
  env?: NodeJS.ProcessEnv
  logger?: Logger
}

/** Hooks the app gives its revoke/control implementation (see control.ts). */
export interface RevokeHandler {
  revoke(ids: string[], options: { terminate?: boolean; signal?: string }): Promise<void>
}

/** A Celery application. */
export class Celery implements AsyncDisposable {
  readonly main: string
  readonly conf: Readonly<CeleryConfig>
  readonly tasks = new Map<string, Task<never[], unknown>>()
  readonly signals = new Signals()
  readonly serializers = new SerializerRegistry()
  readonly router: Router
  readonly logger: Logger
  /** This client's reply-to id (Celery's `thread_oid`): rpc:// results and pidbox replies come here. */
  readonly oid = randomUUID()
  /** The host name of this process. */
  readonly hostname = osHostname()
  /** `gen<pid>@<host>`: the `origin` of the messages this process sends. */
  readonly origin = `gen${process.pid}@${osHostname()}`
  private readonly connectionOptions: ConnectionOptions
  private producerConnection: Connection | undefined
  private producer: Producer | undefined
  private backendPromise: Promise<ResultBackend | undefined> | undefined
  private revoker: RevokeHandler | undefined
  private controlClient: Control | undefined
  private closing: Promise<void> | undefined
  private eagerRunner: EagerRunner | undefined

  constructor(main = 'q', options: CeleryOptions = {}) {
    const { connection, env, logger, ...settings } = options
    this.main = main
    this.conf = Object.freeze(resolveConfig(settings, env))
    this.logger = logger ?? consoleLogger(undefined, 'celery')
    this.router = new Router(this.conf, buildQueues(this.conf))
    this.connectionOptions = connection ?? {}
    // Revokes are broadcast to the workers through remote control (replaceable with setRevokeHandler).
    this.revoker = { revoke: async (ids, o) => void (await this.control.revoke(ids, o)) }
  }

  /** Remote control of the workers (Celery's `app.control`), on this app's connection. */
  get control(): Control {
    this.controlClient ??= new Control(this)
    return this.controlClient
  }

  /**
   * Registers a task. With `{ bind: true }` the function's first parameter is the task context.
   *
   * @example app.task('tasks.add', (x: number, y: number) => x + y)
   */
  task<A extends unknown[], R>(
    name: string,
    fn: (...args: A) => R,
    options?: TaskOptions & { bind?: false },
  ): Task<A, Awaited<R>>
  task<A extends unknown[], R>(
    name: string,
    fn: (ctx: TaskContext, ...args: A) => R,
    options: TaskOptions & { bind: true },
  ): Task<A, Awaited<R>>
  task(name: string, fn: TaskFunction, options: TaskOptions = {}): Task<unknown[], unknown> {
    if (typeof name !== 'string' || !name)
      throw new ConfigurationError('A task needs a name, e.g. app.task("tasks.add", fn)')
    if (typeof fn !== 'function') throw new ConfigurationError(`Task '${name}' needs a function`)
    const task = new Task<unknown[], unknown>(name, fn, Object.freeze({ ...options }), this)
    this.tasks.set(name, task as unknown as Task<never[], unknown>)
    return task
  }

  /** A registered task by name, or NotRegisteredError. */
  getTask(name: string): Task<never[], unknown> {
    const t = this.tasks.get(name)
    if (!t) throw new NotRegisteredError(`Task of kind '${name}' is not registered`)
    return t
  }

  /** A new connection to the broker, configured from this app's settings. */
  createConnection(): Connection {
    const c = this.conf
    return new Connection(c.brokerUrl, {
      transportOptions: c.brokerTransportOptions,
      connectTimeout: c.brokerConnectionTimeout * 1000,
      heartbeat: c.brokerHeartbeat,
      failoverStrategy: c.brokerFailoverStrategy,
      reconnect: c.brokerConnectionRetry
        ? { maxRetries: c.brokerConnectionMaxRetries || Number.POSITIVE_INFINITY }
        : false,
      serializers: this.serializers,
      logger: this.logger,
      ...this.connectionOptions,
    })
  }

  /** The connection this app publishes on (created on first use). */
  connection(): Connection {
    this.producerConnection ??= this.createConnection()
    return this.producerConnection
  }

  /** The result backend, loaded on first use; undefined when resultBackend is not set. */
  backend(): Promise<ResultBackend | undefined> {
    const url = this.conf.resultBackend
    if (!url) return Promise.resolve(undefined)
    this.backendPromise ??= createBackend(url, {
      serializers: this.serializers,
      serializer: this.conf.resultSerializer,
      accept: this.serializers.resolveAccept(this.conf.resultAcceptContent ?? this.conf.acceptContent),
      expires: this.conf.resultExpires || null,
      extended: this.conf.resultExtended,
      transportOptions: this.conf.resultBackendTransportOptions,
      connection: () => this.connection(),
      oid: this.oid,
      persistent: this.conf.resultPersistent,
    }).catch((err) => {
      this.backendPromise = undefined
      throw err
    })
    return this.backendPromise
  }

  /** A handle on the result of a task by id. */
  asyncResult<T = unknown>(id: string): AsyncResult<T> {
    return new AsyncResult<T>(id, this)
  }

  /** Sends a task by name: one defined here, or elsewhere (in Python, for instance). */
  async sendTask<R = unknown>(
    name: string,
    args: unknown[] = [],
    kwargs: Record<string, unknown> = {},
    options: CallOptions = {},
  ): Promise<AsyncResult<R>> {
    const local = this.conf.taskAlwaysEager ? this.tasks.get(name) : undefined
    if (local) {
      this.eagerRunner ??= new EagerRunner(this.serializers, this.conf.taskEagerPropagates)
      return this.eagerRunner.run<R>(local, args, kwargs, options)
    }
    const id = await publishTask(this, name, args, kwargs, options)
    return new AsyncResult<R>(id, this)
  }

  /**
   * Sends many calls of a task by name in one go; resolves with their results, in order. Each
   * call is an args array or `{ args, kwargs, options }` (its options over `options`). Calls
   * that go to the same queue are published as one batch: one write to Redis for all of them.
   *
   * @example
   * const results = await app.sendTasks('tasks.add', [[1, 2], [3, 4], { args: [5, 6], options: { priority: 9 } }])
   */
  async sendTasks<R = unknown>(
    name: string,
    calls: ReadonlyArray<unknown[] | TaskCall>,
    options: CallOptions = {},
  ): Promise<AsyncResult<R>[]> {
    const local = this.conf.taskAlwaysEager ? this.tasks.get(name) : undefined
    if (local) {
      const results: AsyncResult<R>[] = []
      for (const call of calls) {
        const c: TaskCall = Array.isArray(call) ? { args: call } : call
        results.push(
          await this.sendTask<R>(name, c.args, c.kwargs, c.options ? { ...options, ...c.options } : options),
        )
      }
      return results
    }
    const ids = await publishTasks(this, name, calls, options)
    return ids.map((id) => new AsyncResult<R>(id, this))
  }

  /** Revokes tasks on every worker, and remembers it in the result backend. */
  async revoke(
    taskIds: string | string[],
    options: { terminate?: boolean; signal?: string } = {},
  ): Promise<void> {
    const ids = Array.isArray(taskIds) ? taskIds : [taskIds]
    const backend = await this.backend()
    await backend?.saveRevoked?.(ids, this.conf.workerRevokedExpires)
    await this.revoker?.revoke(ids, options)
  }

  /** Installs how revokes are broadcast (the remote-control layer does this). */
  setRevokeHandler(handler: RevokeHandler): void {
    this.revoker = handler
  }

  /** A worker of this app; call `start()` on it. */
  async worker(options: WorkerOptions = {}): Promise<Worker> {
    const { Worker } = await import('./worker/worker.js')
    return new Worker(this, options)
  }

  /** The producer of this app's connection. */
  getProducer(): Producer {
    this.producer ??= new Producer(this.connection(), { serializer: this.conf.taskSerializer })
    return this.producer
  }

  /** Closes the connection and the backend. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.producerConnection?.close()
      const backend = await this.backendPromise?.catch(() => undefined)
      await backend?.close()
    })()
    return this.closing
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}
