/**
 * Resolving an app's configuration: Celery's defaults, then `CELERY_*` environment variables,
 * then what the code passed (camelCase or Celery's snake_case). An unknown name is an error
 * with a suggestion, not a silently ignored typo.
 */
import type { Queue } from '@q/kombu'
import { ConfigurationError } from '../errors.js'
import { SETTINGS, type SettingName, toCamel, toEnv } from './settings.js'

/** Where a task goes: a queue name, or routing options. */
export interface RouteOptions {
  queue?: string
  exchange?: string
  routingKey?: string
  priority?: number
}

/** A router function, as Celery's: return a route, or undefined to let the next router decide. */
export type RouterFunction = (
  name: string,
  args: unknown[],
  kwargs: Record<string, unknown>,
  options: Record<string, unknown>,
) => RouteOptions | string | undefined | null

/** `taskRoutes`: a map of glob patterns (`tasks.*`) to routes, router functions, or a list of both. */
export type TaskRoutes =
  | Record<string, RouteOptions | string>
  | RouterFunction
  | ReadonlyArray<Record<string, RouteOptions | string> | RouterFunction>

/** The resolved configuration of an app. Durations are seconds, as in Celery. */
export interface CeleryConfig {
  brokerUrl: string
  brokerTransportOptions: Record<string, unknown>
  brokerConnectionTimeout: number
  brokerConnectionRetry: boolean
  brokerConnectionMaxRetries: number
  brokerHeartbeat: number
  brokerFailoverStrategy: 'round-robin' | 'shuffle'
  resultBackend: string | null
  resultExpires: number | null
  resultExtended: boolean
  resultSerializer: string
  resultAcceptContent: string[] | null
  resultCompression: string | null
  resultPersistent: boolean
  resultBackendTransportOptions: Record<string, unknown>
  taskSerializer: string
  taskCompression: string | null
  acceptContent: string[]
  taskDefaultQueue: string
  taskDefaultExchange: string | null
  taskDefaultExchangeType: 'direct' | 'topic' | 'fanout' | 'headers'
  taskDefaultRoutingKey: string | null
  taskDefaultDeliveryMode: 'persistent' | 'transient'
  taskDefaultPriority: number | null
  taskDefaultRateLimit: string | null
  taskQueueMaxPriority: number | null
  taskQueues: ReadonlyArray<Queue | string> | null
  taskRoutes: TaskRoutes | null
  taskCreateMissingQueues: boolean
  taskAcksLate: boolean
  taskAcksOnFailureOrTimeout: boolean
  taskRejectOnWorkerLost: boolean
  taskTrackStarted: boolean
  taskIgnoreResult: boolean
  taskStoreErrorsEvenIfIgnored: boolean
  taskTimeLimit: number | null
  taskSoftTimeLimit: number | null
  taskAlwaysEager: boolean
  taskEagerPropagates: boolean
  taskPublishRetry: boolean
  taskPublishRetryPolicy: Record<string, number>
  taskSendSentEvent: boolean
  workerConcurrency: number
  workerPrefetchMultiplier: number
  workerSendTaskEvents: boolean
  workerDisableRateLimits: boolean
  workerShutdownTimeout: number
  workerRevokedExpires: number
  timezone: string
  enableUtc: boolean
  controlExchange: string
  controlQueueTtl: number
  controlQueueExpires: number
  eventExchange: string
  eventQueueTtl: number
  eventQueueExpires: number
}

/** Settings as given by code: camelCase or snake_case names, any subset. */
export type ConfigInput = Partial<CeleryConfig> & Record<string, unknown>

const NAMES = Object.keys(SETTINGS) as SettingName[]
const SHORTHANDS: Record<string, SettingName> = { broker: 'brokerUrl', backend: 'resultBackend' }

function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++)
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    row = next
  }
  return row[b.length]!
}

function suggest(name: string): string {
  const lower = name.toLowerCase().replace(/_/g, '')
  // The closest name within a few typos (worker_concurency), else one containing the other.
  const [best] = NAMES.map((n) => [n, distance(lower, n.toLowerCase())] as const).sort((x, y) => x[1] - y[1])
  const hit =
    best && best[1] <= Math.max(2, Math.floor(lower.length / 4))
      ? best[0]
      : NAMES.find((n) => n.toLowerCase().includes(lower) || lower.includes(n.toLowerCase()))
  return hit ? `: did you mean '${hit}'?` : ''
}

function fromEnv(name: SettingName, raw: string): unknown {
  const kind = SETTINGS[name].kind
  if (kind === 'string') return raw
  if (kind === 'number') {
    const n = Number(raw)
    if (Number.isNaN(n)) throw new ConfigurationError(`${toEnv(name)}=${raw} is not a number`)
    return n
  }
  if (kind === 'boolean') return /^(1|true|yes|on)$/i.test(raw)
  if (kind === 'list' && !raw.trim().startsWith('[')) return raw.split(',').map((x) => x.trim())
  try {
    return JSON.parse(raw)
  } catch (cause) {
    throw new ConfigurationError(`${toEnv(name)} must be JSON, got ${raw}`, { cause })
  }
}

/** Maps a camelCase, snake_case or shorthand name to its setting, or throws with a suggestion. */
export function settingName(key: string): SettingName {
  if (key in SETTINGS) return key as SettingName
  if (key in SHORTHANDS) return SHORTHANDS[key]!
  const camel = toCamel(key)
  if (camel in SETTINGS) return camel as SettingName
  throw new ConfigurationError(`Unknown Celery setting '${key}'${suggest(key)}`)
}

/** Defaults, then `CELERY_*` variables from `env`, then `input`. */
export function resolveConfig(
  input: Record<string, unknown> = {},
  env: NodeJS.ProcessEnv = process.env,
): CeleryConfig {
  const config: Record<string, unknown> = {}
  for (const name of NAMES) {
    const d = SETTINGS[name].default
    config[name] = d && typeof d === 'object' ? structuredClone(d) : d
    const raw = env[toEnv(name)]
    if (raw !== undefined && raw !== '') config[name] = fromEnv(name, raw)
  }
  for (const [key, value] of Object.entries(input)) {
    if (value !== undefined) config[settingName(key)] = value
  }
  const c = config as unknown as CeleryConfig
  if (!Number.isInteger(c.workerConcurrency) || c.workerConcurrency < 1) {
    throw new ConfigurationError(`workerConcurrency must be an integer >= 1, got ${c.workerConcurrency}`)
  }
  if (!(c.workerPrefetchMultiplier >= 0)) {
    throw new ConfigurationError(`workerPrefetchMultiplier must be >= 0, got ${c.workerPrefetchMultiplier}`)
  }
  return c
}
