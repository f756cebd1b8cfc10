/**
 * Configuration: Celery's defaults (checked against celery/app/defaults.py of Celery 5.2.6),
 * snake_case and CELERY_* environment input, and errors for unknown names.
 */
import { describe, expect, expectTypeOf, it } from 'vitest'
import { Celery } from '../app.js'
import { ConfigurationError } from '../errors.js'
import { type CeleryConfig, resolveConfig, settingName } from './config.js'
import { SETTINGS, type SettingName, toCamel, toEnv, toSnake } from './settings.js'

/** Celery 5.2.6 defaults (python3 -c 'from celery.app.defaults import ...'), where Celery has one. */
const CELERY_DEFAULTS: Partial<Record<SettingName, unknown>> = {
  brokerTransportOptions: {},
  brokerConnectionTimeout: 4,
  brokerConnectionRetry: true,
  brokerConnectionMaxRetries: 100,
  brokerHeartbeat: 120,
  resultBackend: null,
  resultExpires: 86400, // timedelta(days=1)
  resultExtended: false,
  resultSerializer: 'json',
  resultAcceptContent: null,
  resultCompression: null,
  resultBackendTransportOptions: {},
  taskSerializer: 'json',
  taskCompression: null,
  acceptContent: ['json'],
  taskDefaultQueue: 'celery',
  taskDefaultExchange: null,
  taskDefaultExchangeType: 'direct',
  taskDefaultRoutingKey: null,
  taskDefaultPriority: null,
  taskDefaultRateLimit: null,
  taskQueueMaxPriority: null,
  taskQueues: null,
  taskRoutes: null,
  taskCreateMissingQueues: true,
  taskAcksLate: false,
  taskAcksOnFailureOrTimeout: true,
  taskTrackStarted: false,
  taskIgnoreResult: false,
  taskStoreErrorsEvenIfIgnored: false,
  taskTimeLimit: null,
  taskSoftTimeLimit: null,
  taskAlwaysEager: false,
  taskEagerPropagates: false,
  taskPublishRetry: true,
  taskPublishRetryPolicy: { max_retries: 3, interval_start: 0, interval_max: 1, interval_step: 0.2 },
  taskSendSentEvent: false,
  workerPrefetchMultiplier: 4,
  workerSendTaskEvents: false,
  workerDisableRateLimits: false,
  enableUtc: true,
  controlExchange: 'celery',
  controlQueueTtl: 300,
  controlQueueExpires: 10,
  eventExchange: 'celeryev',
  eventQueueTtl: 5,
  eventQueueExpires: 60,
}

describe('defaults', () => {
  const conf = resolveConfig({}, {})

  it.each(Object.entries(CELERY_DEFAULTS))('%s is Celery’s default', (name, value) => {
    expect(conf[name as SettingName]).toEqual(value)
  })

  it('fills in the defaults Celery leaves to the transport or the machine', () => {
    expect(conf.brokerUrl).toBe('amqp://guest:guest@localhost:5672//') // kombu's amqp default
    expect(conf.brokerFailoverStrategy).toBe('round-robin') // kombu's default strategy
    expect(conf.taskDefaultDeliveryMode).toBe('persistent') // Celery: 2
    expect(conf.taskRejectOnWorkerLost).toBe(false) // Celery: None (falsy)
    expect(conf.resultPersistent).toBe(false) // Celery: None (falsy)
    expect(conf.workerRevokedExpires).toBe(10800) // worker/state.py REVOKES_MAX_AGE (3 h)
    expect(conf.timezone).toBe('UTC')
    expect(Number.isInteger(conf.workerConcurrency) && conf.workerConcurrency >= 1).toBe(true)
  })

  it('has a value for every setting and nothing else', () => {
    expect(Object.keys(conf).sort()).toEqual(Object.keys(SETTINGS).sort())
  })

  it('gives each resolution its own copy of object defaults', () => {
    const a = resolveConfig({}, {})
    a.brokerTransportOptions.x = 1
    expect(resolveConfig({}, {}).brokerTransportOptions).toEqual({})
  })

  it('types every SETTINGS key as a key of CeleryConfig, and the reverse', () => {
    expectTypeOf<SettingName>().toEqualTypeOf<keyof CeleryConfig>()
    for (const name of Object.keys(SETTINGS)) expect(name in conf).toBe(true)
  })
})

describe('names', () => {
  it('converts between camelCase, snake_case and environment names', () => {
    expect(toSnake('taskAcksLate')).toBe('task_acks_late')
    expect(toCamel('task_acks_late')).toBe('taskAcksLate')
    expect(toCamel('TASK_ACKS_LATE')).toBe('taskAcksLate')
    expect(toEnv('brokerUrl')).toBe('CELERY_BROKER_URL')
    for (const name of Object.keys(SETTINGS)) expect(toCamel(toSnake(name))).toBe(name)
  })

  it('maps snake_case, camelCase and the broker/backend shorthands', () => {
    expect(settingName('task_acks_late')).toBe('taskAcksLate')
    expect(settingName('taskAcksLate')).toBe('taskAcksLate')
    expect(settingName('broker')).toBe('brokerUrl')
    expect(settingName('backend')).toBe('resultBackend')
  })
})

describe('input', () => {
  it('takes snake_case settings as Celery users write them', () => {
    const conf = resolveConfig(
      { task_acks_late: true, worker_prefetch_multiplier: 1, task_routes: { a: 'q' } },
      {},
    )
    expect(conf.taskAcksLate).toBe(true)
    expect(conf.workerPrefetchMultiplier).toBe(1)
    expect(conf.taskRoutes).toEqual({ a: 'q' })
  })

  it('reads CELERY_* variables of every kind from the env option', () => {
    const conf = resolveConfig(
      {},
      {
        CELERY_BROKER_URL: 'memory://env',
        CELERY_TASK_ACKS_LATE: 'true',
        CELERY_TASK_TRACK_STARTED: '0',
        CELERY_WORKER_CONCURRENCY: '3',
        CELERY_ACCEPT_CONTENT: 'json, msgpack',
        CELERY_RESULT_ACCEPT_CONTENT: '["json"]',
        CELERY_BROKER_TRANSPORT_OPTIONS: '{"visibility_timeout": 60}',
        CELERY_TASK_DEFAULT_QUEUE: '',
      },
    )
    expect(conf.brokerUrl).toBe('memory://env')
    expect(conf.taskAcksLate).toBe(true)
    expect(conf.taskTrackStarted).toBe(false)
    expect(conf.workerConcurrency).toBe(3)
    expect(conf.acceptContent).toEqual(['json', 'msgpack'])
    expect(conf.resultAcceptContent).toEqual(['json'])
    expect(conf.brokerTransportOptions).toEqual({ visibility_timeout: 60 })
    expect(conf.taskDefaultQueue).toBe('celery') // empty means unset
  })

  it('lets code win over the environment', () => {
    const conf = resolveConfig({ workerConcurrency: 2 }, { CELERY_WORKER_CONCURRENCY: '7' })
    expect(conf.workerConcurrency).toBe(2)
  })

  it('ignores undefined values', () => {
    expect(resolveConfig({ taskAcksLate: undefined }, {}).taskAcksLate).toBe(false)
  })

  it('rejects malformed environment values', () => {
    expect(() => resolveConfig({}, { CELERY_WORKER_CONCURRENCY: 'many' })).toThrow(ConfigurationError)
    expect(() => resolveConfig({}, { CELERY_TASK_ROUTES: '{oops' })).toThrow(
      /CELERY_TASK_ROUTES must be JSON/,
    )
  })

  it('rejects bad concurrency and prefetch multipliers', () => {
    expect(() => resolveConfig({ workerConcurrency: 0 }, {})).toThrow(ConfigurationError)
    expect(() => resolveConfig({ workerConcurrency: 1.5 }, {})).toThrow(ConfigurationError)
    expect(() => resolveConfig({ workerPrefetchMultiplier: -1 }, {})).toThrow(ConfigurationError)
  })

  it.each([
    ['task_acks_lat', 'taskAcksLate'],
    ['taskAckLate', 'taskAcksLate'],
    ['worker_concurency', 'workerConcurrency'],
    ['resultBackends', 'resultBackend'],
  ])('rejects the unknown setting %s, suggesting %s', (typo, hit) => {
    expect(() => resolveConfig({ [typo]: 1 }, {})).toThrow(ConfigurationError)
    expect(() => resolveConfig({ [typo]: 1 }, {})).toThrow(
      `Unknown Celery setting '${typo}': did you mean '${hit}'?`,
    )
  })

  it('rejects an unknown setting without a close match, without a suggestion', () => {
    expect(() => resolveConfig({ zzzzzzzzzzzzzz: 1 }, {})).toThrow(
      /^Unknown Celery setting 'zzzzzzzzzzzzzz'$/,
    )
  })

  it('is what an app exposes, frozen, with its env option and shorthands', async () => {
    const app = new Celery('cfg', {
      broker: 'memory://cfg-app',
      backend: 'memory://cfg-app',
      task_default_queue: 'work',
      env: { CELERY_TASK_ACKS_LATE: 'yes' },
    })
    expect(app.conf.brokerUrl).toBe('memory://cfg-app')
    expect(app.conf.resultBackend).toBe('memory://cfg-app')
    expect(app.conf.taskDefaultQueue).toBe('work')
    expect(app.conf.taskAcksLate).toBe(true)
    expect(Object.isFrozen(app.conf)).toBe(true)
    expect(() => new Celery('bad', { brokerUlr: 'memory://x', env: {} })).toThrow(/did you mean 'brokerUrl'/)
    await app.close()
  })
})
