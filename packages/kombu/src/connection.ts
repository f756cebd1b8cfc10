/**
 * Connection: a broker chosen by URL, with failover alternates, retries, automatic reconnection
 * and connection-state events. Producers and Consumers open their channels through it and are
 * told when it comes back after a loss, so they can declare and consume again by themselves.
 */
import { CompressionRegistry } from './compression/index.js'
import { validateConnectionOptions } from './connection-options.js'
import { Emitter } from './emitter.js'
import { ClosedError, ConnectionError, type ErrorClass, InvalidUrlError, QError, toQError } from './errors.js'
import { consoleLogger } from './logger.js'
import {
  DEFAULT_RETRY_POLICY,
  type ResolvedRetryPolicy,
  type RetryPolicy,
  resolveRetryPolicy,
  retryDelay,
} from './retry.js'
import { SerializerRegistry } from './serialization/index.js'
import { loadTransport, transportAlias } from './transport-registry.js'
import type {
  BrokerUrl,
  Channel,
  Logger,
  TransportCapabilities,
  TransportConnection,
  TransportDriver,
} from './types.js'
import { maskUrl, parseUrl, queryToOptions, splitUrls } from './url.js'
import { sleep } from './util.js'

/** Options of a {@link Connection}. */
export interface ConnectionOptions {
  /** The transport to use instead of the one the URL scheme names (bundlers, tests). */
  transport?: TransportDriver
  /** Transport-specific options, merged over the URL's query string. */
  transportOptions?: Record<string, unknown>
  /** Milliseconds to wait for the broker when connecting. Default 4000. */
  connectTimeout?: number
  /** Heartbeat interval in seconds (0 = off), where the transport has heartbeats. Default 0. */
  heartbeat?: number
  /** TLS: true, or options for `tls.connect` (ca, cert, key, servername...). */
  ssl?: boolean | Record<string, unknown>
  /** How to go through alternate URLs: in order, or shuffled once. Default 'round-robin'. */
  failoverStrategy?: 'round-robin' | 'shuffle'
  /** Policy for `connect()` and the default of `ensure()`. */
  retryPolicy?: RetryPolicy
  /** Reconnect by itself after the connection is lost. Default true, retrying for ever. */
  reconnect?: boolean | RetryPolicy
  /** Serializers for Producers and Consumers of this connection. Default: the built-in set. */
  serializers?: SerializerRegistry
  /** Compressors for Producers and Consumers of this connection. Default: the built-in set. */
  compressors?: CompressionRegistry
  logger?: Logger
}

/** Connection states. */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'reconnecting' | 'closed'

/** Events of a Connection. */
export interface ConnectionEvents {
  [event: string]: unknown
  connected: { url: string; reconnected: boolean }
  disconnected: { error: Error | undefined }
  reconnecting: { attempt: number; delay: number; error: Error | undefined }
  blocked: { reason: string | undefined }
  unblocked: Record<string, never>
  error: Error
  closed: Record<string, never>
}

/** Something that lives on a connection and must be closed or drained with it. */
export interface ConnectionResource {
  close(): Promise<void>
  drain?(): Promise<void>
}

/** A connection to a broker, chosen by URL. */
export class Connection extends Emitter<ConnectionEvents> implements AsyncDisposable {
  /** The alternates, in the order they are tried. */
  readonly urls: readonly BrokerUrl[]
  readonly serializers: SerializerRegistry
  readonly compressors: CompressionRegistry
  readonly logger: Logger
  private readonly options: ConnectionOptions
  private readonly retryPolicy: ResolvedRetryPolicy
  private readonly resolvedPolicies = new WeakMap<RetryPolicy, ResolvedRetryPolicy>()
  private readonly reconnectPolicy: ResolvedRetryPolicy | undefined
  private driver: TransportDriver | undefined
  private conn: TransportConnection | undefined
  private connecting: Promise<TransportConnection> | undefined
  private defaultChan: Promise<Channel> | undefined
  private defaultChanValue: Channel | undefined
  private closing: Promise<void> | undefined
  private urlIndex = 0
  private _state: ConnectionState = 'idle'
  private readonly resources = new Set<ConnectionResource>()
  /** Aborted by close(), so a reconnection backoff does not hold it up. */
  private readonly stopping = new AbortController()
  /** Entities declared on this connection, so they are declared once (Kombu's declared_entities). */
  readonly declared = new Set<string>()
  private resolveClosed!: () => void
  private readonly closedPromise = new Promise<void>((r) => {
    this.resolveClosed = r
  })

  /**
   * @param url one URL, several separated by `;`, or an array: failover alternates.
   * Default `memory://`.
   */
  constructor(url: string | readonly string[] = 'memory://', options: ConnectionOptions = {}) {
    super()
    validateConnectionOptions(options)
    const urls = splitUrls(url).map(parseUrl)
    if (urls.length === 0) throw new InvalidUrlError('no broker URL: expected e.g. amqp://host//')
    if (!options.transport) {
      // Alternates fail over between brokers of one kind: one driver serves them all.
      const kinds = new Set(urls.map((u) => transportAlias(u.scheme).transport))
      if (kinds.size > 1) {
        throw new InvalidUrlError(`Failover URLs must use one transport, got ${[...kinds].join(' and ')}`)
      }
    }
    if (options.failoverStrategy === 'shuffle') urls.sort(() => Math.random() - 0.5)
    this.urls = Object.freeze(urls)
    this.options = options
    this.driver = options.transport
    this.serializers = options.serializers ?? new SerializerRegistry()
    this.compressors = options.compressors ?? new CompressionRegistry()
    this.logger = options.logger ?? consoleLogger()
    this.retryPolicy = resolveRetryPolicy(options.retryPolicy)
    const rc = options.reconnect ?? true
    this.reconnectPolicy =
      rc === false
        ? undefined
        : resolveRetryPolicy(rc === true ? {} : rc, {
            ...DEFAULT_RETRY_POLICY,
            maxRetries: Number.POSITIVE_INFINITY,
          })
  }

  /** Current state. */
  get state(): ConnectionState {
    return this._state
  }

  /** True while connected. */
  get connected(): boolean {
    return this._state === 'connected'
  }

  /** Canonical name of the transport (`memory`, `amqp`, `redis`, `sqs`). */
  get transportName(): string {
    return this.driver?.name ?? transportAlias(this.currentUrl.scheme).transport
  }

  /** The URL in use (or to be tried next), password masked. */
  get url(): string {
    return maskUrl(this.currentUrl.href)
  }

  /** The transport's capabilities; known once connected (or with an explicit transport). */
  get capabilities(): TransportCapabilities {
    if (!this.driver)
      throw new QError('capabilities are known once connected: await connection.connect() first')
    return this.driver.capabilities
  }

  private get currentUrl(): BrokerUrl {
    return this.urls[this.urlIndex % this.urls.length]!
  }

  /** Connects (if not yet), trying alternates and retrying per `retryPolicy`. */
  async connect(): Promise<this> {
    await this.transportConnection()
    return this
  }

  /** Opens a new channel, connecting first if needed. */
  async channel(): Promise<Channel> {
    const conn = await this.transportConnection()
    try {
      return await conn.createChannel()
    } catch (err) {
      throw this.wrap(err)
    }
  }

  /** A channel shared by producers of this connection (Kombu's `default_channel`). */
  defaultChannel(): Promise<Channel> {
    // After close() the cached channel is closed too: say so rather than fail on the channel.
    if (this.closing) return Promise.reject(new ClosedError('Connection is closed'))
    // A channel the broker closed (AMQP 404/406 on one publish) is replaced, not reused.
    if (this.defaultChanValue && !this.defaultChanValue.isOpen) this.defaultChan = undefined
    this.defaultChan ??= this.channel().then(
      (ch) => {
        this.defaultChanValue = ch
        return ch
      },
      (err) => {
        this.defaultChan = undefined
        throw err
      },
    )
    return this.defaultChan
  }

  /**
   * Runs `fn`, retrying it on connection errors with backoff; the connection is re-established
   * between attempts. Channel errors and other errors are thrown at once.
   */
  async ensure<T>(fn: () => Promise<T>, policy?: RetryPolicy): Promise<T> {
    let p = this.retryPolicy
    if (policy) {
      // Callers pass the same policy object on every publish: resolve it once.
      p = this.resolvedPolicies.get(policy) ?? resolveRetryPolicy(policy, this.retryPolicy)
      this.resolvedPolicies.set(policy, p)
    }
    for (let retry = 1; ; retry++) {
      try {
        return await fn()
      } catch (err) {
        const e = this.wrap(err)
        if (!(e instanceof ConnectionError) || retry > p.maxRetries || this.closing) throw e
        const delay = retryDelay(p, retry)
        this.logger.warn(`${e.message}; retry ${retry} of ${p.maxRetries} in ${delay} ms`)
        this.emit('reconnecting', { attempt: retry, delay, error: e })
        await sleep(delay)
      }
    }
  }

  /** How a thrown value is classified: by its QError type, else by the transport. */
  classify(err: unknown): ErrorClass {
    if (err instanceof ConnectionError) return 'connection'
    if (err instanceof QError) return err.code === 'ERR_CHANNEL' ? 'channel' : 'fatal'
    return this.driver?.classifyError(err) ?? 'fatal'
  }

  /** Registers a producer/consumer to be closed or drained with this connection. */
  track(resource: ConnectionResource): () => void {
    this.resources.add(resource)
    return () => this.resources.delete(resource)
  }

  /** Closes consumers (their unacked messages go back) and the connection. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown((r) => r.close())
    return this.closing
  }

  /** Lets consumers finish the messages they hold, then closes. */
  drain(): Promise<void> {
    this.closing ??= this.shutdown((r) => (r.drain ? r.drain() : r.close()))
    return this.closing
  }

  /** Resolves once closed. Never rejects. */
  closed(): Promise<void> {
    return this.closedPromise
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.drain()
  }

  private async shutdown(each: (r: ConnectionResource) => Promise<void>): Promise<void> {
    this.stopping.abort()
    const errors: unknown[] = []
    for (const r of [...this.resources]) await each(r).catch((e) => errors.push(e))
    const conn = this.conn ?? (await this.connecting?.catch(() => undefined))
    this.conn = undefined
    await conn?.close().catch((e) => errors.push(e))
    this._state = 'closed'
    this.emit('closed', {})
    this.resolveClosed()
    if (errors.length) this.logger.warn('errors while closing the connection', ...errors)
  }

  private transportConnection(): Promise<TransportConnection> {
    if (this.closing) return Promise.reject(new ClosedError('Connection is closed'))
    if (this.conn) return Promise.resolve(this.conn)
    this.connecting ??= this.establish(this.retryPolicy, false).finally(() => {
      this.connecting = undefined
    })
    return this.connecting
  }

  /** Tries each alternate in turn, with backoff between full rounds. */
  private async establish(policy: ResolvedRetryPolicy, reconnected: boolean): Promise<TransportConnection> {
    this._state = reconnected ? 'reconnecting' : 'connecting'
    let lastError: Error | undefined
    for (let retry = 0; ; retry++) {
      for (let i = 0; i < this.urls.length; i++) {
        if (this.closing) throw new ClosedError('Connection closed while connecting')
        const url = this.currentUrl
        try {
          this.driver ??= await loadTransport(url.scheme)
          const conn = await this.driver.connect(url, this.context(url))
          this.attach(conn, reconnected)
          return conn
        } catch (err) {
          const e = this.wrap(err)
          if (!(e instanceof ConnectionError)) throw e
          lastError = e
          this.logger.warn(`cannot connect to ${maskUrl(url.href)}: ${e.message}`)
          this.urlIndex++
        }
      }
      if (retry >= policy.maxRetries) {
        this._state = 'disconnected'
        throw lastError ?? new ConnectionError('cannot connect')
      }
      const delay = retryDelay(policy, retry + 1)
      this.emit('reconnecting', { attempt: retry + 1, delay, error: lastError })
      await sleep(delay, this.stopping.signal)
    }
  }

  private attach(conn: TransportConnection, reconnected: boolean): void {
    this.conn = conn
    this.declared.clear()
    this._state = 'connected'
    conn.onBlocked?.((blocked, reason) =>
      blocked ? this.emit('blocked', { reason }) : this.emit('unblocked', {}),
    )
    void conn.closed().then((error) => this.onLost(conn, error))
    this.emit('connected', { url: maskUrl(this.currentUrl.href), reconnected })
  }

  /** The transport connection ended: unless we closed it, reconnect in the background. */
  private onLost(conn: TransportConnection, error: Error | undefined): void {
    if (this.conn !== conn || this.closing) return
    this.conn = undefined
    this.defaultChan = undefined
    this._state = 'disconnected'
    this.emit('disconnected', { error })
    if (error) this.emit('error', error)
    if (!this.reconnectPolicy) return
    this.connecting ??= this.establish(this.reconnectPolicy, true).finally(() => {
      this.connecting = undefined
    })
    this.connecting.catch((err) => {
      if (!this.closing) this.emit('error', this.wrap(err)) // not for a close() during the backoff
    })
  }

  private context(url: BrokerUrl) {
    return {
      transportOptions: { ...queryToOptions(url.query), ...this.options.transportOptions },
      connectTimeout: this.options.connectTimeout ?? 4000,
      heartbeat: this.options.heartbeat ?? 0,
      ssl: this.options.ssl ?? (url.scheme === 'amqps' || url.scheme === 'rediss'),
      logger: this.logger,
    }
  }

  private wrap(err: unknown): QError {
    return toQError(err, this.classify(err))
  }
}
