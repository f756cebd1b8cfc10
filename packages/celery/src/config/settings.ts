/**
 * The settings a Celery user relies on, with Celery's defaults. Each is known by three names:
 * camelCase here (`taskAcksLate`), Celery's snake_case (`task_acks_late`) and an environment
 * variable (`CELERY_TASK_ACKS_LATE`), derived mechanically so the table cannot drift.
 * Durations are seconds, as in Celery.
 */

/** How a setting's value is read from an environment variable. */
export type SettingKind = 'string' | 'number' | 'boolean' | 'json' | 'list'

interface SettingSpec {
  readonly default: unknown
  readonly kind: SettingKind
  readonly doc: string
}

const s = (kind: SettingKind, def: unknown, doc: string): SettingSpec => ({ kind, default: def, doc })

/** Every setting: its kind, Celery's default, and what it does. */
export const SETTINGS = {
  brokerUrl: s(
    'string',
    'amqp://guest:guest@localhost:5672//',
    'Broker URL(s); `;` separates failover alternates',
  ),
  brokerTransportOptions: s('json', {}, 'Options passed to the transport (Kombu transport_options)'),
  brokerConnectionTimeout: s('number', 4, 'Seconds to wait when connecting to the broker'),
  brokerConnectionRetry: s('boolean', true, 'Retry connecting (and reconnect after a loss)'),
  brokerConnectionMaxRetries: s('number', 100, 'Connection retries before giving up (0 = for ever)'),
  brokerHeartbeat: s('number', 120, 'AMQP heartbeat, seconds (0 = off)'),
  brokerFailoverStrategy: s('string', 'round-robin', "'round-robin' or 'shuffle'"),
  resultBackend: s('string', null, 'Result backend URL: memory://, rpc://, redis://... (null = no results)'),
  resultExpires: s('number', 86400, 'Seconds results are kept (0/null = for ever)'),
  resultExtended: s('boolean', false, 'Store name, args, kwargs, worker, retries and queue with results'),
  resultSerializer: s('string', 'json', 'Serializer of stored results'),
  resultAcceptContent: s('list', null, 'Content types accepted for results (default: acceptContent)'),
  resultCompression: s('string', null, 'Compression of results'),
  resultPersistent: s('boolean', false, 'rpc:// results survive a broker restart'),
  resultBackendTransportOptions: s('json', {}, 'Options passed to the result backend'),
  taskSerializer: s('string', 'json', 'Serializer of task messages'),
  taskCompression: s('string', null, 'Compression of task messages'),
  acceptContent: s('list', ['json'], 'Content types (or serializer names) a worker accepts'),
  taskDefaultQueue: s('string', 'celery', 'Queue of tasks without a route'),
  taskDefaultExchange: s('string', null, 'Exchange of the default queue (default: the queue name)'),
  taskDefaultExchangeType: s('string', 'direct', 'Type of the default exchange'),
  taskDefaultRoutingKey: s('string', null, 'Routing key of the default queue (default: the queue name)'),
  taskDefaultDeliveryMode: s('string', 'persistent', "'persistent' or 'transient'"),
  taskDefaultPriority: s('number', null, 'Priority of tasks that set none'),
  taskDefaultRateLimit: s('string', null, "Rate limit of tasks that set none, e.g. '10/s'"),
  taskQueueMaxPriority: s('number', null, 'x-max-priority of every declared task queue'),
  taskQueues: s('json', null, 'The queues a worker consumes from, with their exchanges and keys'),
  taskRoutes: s('json', null, 'Routes: task name glob -> queue/options, or router functions'),
  taskCreateMissingQueues: s('boolean', true, 'Declare queues named in routes that are not in taskQueues'),
  taskAcksLate: s('boolean', false, 'Acknowledge after the task ran, not when it starts'),
  taskAcksOnFailureOrTimeout: s('boolean', true, 'With acksLate: ack failed and timed-out tasks too'),
  taskRejectOnWorkerLost: s('boolean', false, 'With acksLate: requeue the tasks of a worker that died'),
  taskTrackStarted: s('boolean', false, 'Store the STARTED state'),
  taskIgnoreResult: s('boolean', false, 'Store no results'),
  taskStoreErrorsEvenIfIgnored: s('boolean', false, 'Store failures of tasks that ignore results'),
  taskTimeLimit: s('number', null, 'Hard time limit, seconds'),
  taskSoftTimeLimit: s('number', null, 'Soft time limit, seconds'),
  taskAlwaysEager: s('boolean', false, 'Run tasks in the caller instead of sending them (tests)'),
  taskEagerPropagates: s('boolean', false, 'With taskAlwaysEager: throw task errors at the caller'),
  taskPublishRetry: s('boolean', true, 'Retry publishing a task on connection errors'),
  taskPublishRetryPolicy: s(
    'json',
    { max_retries: 3, interval_start: 0, interval_step: 0.2, interval_max: 1 },
    'How publishing is retried (seconds, as Celery)',
  ),
  taskSendSentEvent: s('boolean', false, 'Send a task-sent event for every task'),
  workerConcurrency: s('number', 10, 'Tasks in flight at once (async pool)'),
  workerPrefetchMultiplier: s('number', 4, 'Prefetch = concurrency x multiplier'),
  workerSendTaskEvents: s('boolean', false, 'Send task-* events (celery -E)'),
  workerDisableRateLimits: s('boolean', false, 'Ignore every rate limit'),
  workerShutdownTimeout: s('number', 60, 'Seconds a warm shutdown waits for running tasks (q addition)'),
  workerRevokedExpires: s('number', 10800, 'Seconds a revoked id is remembered (Celery: 3 h)'),
  timezone: s('string', 'UTC', 'Time zone of eta/expires given as local times'),
  enableUtc: s('boolean', true, 'Times on the wire are UTC'),
  controlExchange: s('string', 'celery', 'Name prefix of the remote-control exchanges'),
  controlQueueTtl: s('number', 300, 'Seconds a control message waits in a worker queue'),
  controlQueueExpires: s('number', 10, 'Seconds an unused control queue lives'),
  eventExchange: s('string', 'celeryev', 'Exchange of events'),
  eventQueueTtl: s('number', 5, 'Seconds an event waits in a monitor queue'),
  eventQueueExpires: s('number', 60, 'Seconds an unused event queue lives'),
} as const satisfies Record<string, SettingSpec>

/** A setting's camelCase name. */
export type SettingName = keyof typeof SETTINGS

/** `taskAcksLate` -> `task_acks_late`. */
export function toSnake(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)
}

/** `task_acks_late` -> `taskAcksLate`. */
export function toCamel(name: string): string {
  return name.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())
}

/** `taskAcksLate` -> `CELERY_TASK_ACKS_LATE`. */
export function toEnv(name: string): string {
  return `CELERY_${toSnake(name).toUpperCase()}`
}
