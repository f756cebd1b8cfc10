/**
 * Checks Connection options at construction, so a typo or a wrong type fails right away with a
 * message that says what to fix, not later as a confusing broker error.
 */
import { InvalidOptionError } from './errors.js'
import { didYouMean } from './util.js'

type Check = (value: unknown) => string | undefined

const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v)
const nonNegative: Check = (v) =>
  typeof v === 'number' && v >= 0 && !Number.isNaN(v) ? undefined : 'a number >= 0'
const object: Check = (v) => (isObject(v) ? undefined : 'an object')
const boolOrObject: Check = (v) =>
  typeof v === 'boolean' || isObject(v) ? undefined : 'true, false or an object'

const CHECKS: Record<string, Check> = {
  transport: (v) =>
    isObject(v) && typeof (v as { connect?: unknown }).connect === 'function'
      ? undefined
      : 'a TransportDriver',
  transportOptions: object,
  connectTimeout: nonNegative,
  heartbeat: nonNegative,
  ssl: boolOrObject,
  failoverStrategy: (v) =>
    v === 'round-robin' || v === 'shuffle' ? undefined : "'round-robin' or 'shuffle'",
  retryPolicy: object,
  reconnect: boolOrObject,
  serializers: object,
  compressors: object,
  logger: (v) =>
    isObject(v) &&
    ['debug', 'info', 'warn', 'error'].every((m) => typeof (v as Record<string, unknown>)[m] === 'function')
      ? undefined
      : 'an object with debug, info, warn and error methods',
}

/** Throws InvalidOptionError for an unknown option or a value of the wrong kind. */
export function validateConnectionOptions(options: object): void {
  if (!isObject(options)) throw new InvalidOptionError('Connection options must be an object')
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue
    const check = CHECKS[key]
    if (!check) {
      const guess = didYouMean(key, Object.keys(CHECKS))
      throw new InvalidOptionError(
        `Unknown Connection option '${key}'${guess ? `: did you mean '${guess}'?` : ''}`,
      )
    }
    const expected = check(value)
    if (expected)
      throw new InvalidOptionError(
        `Connection option '${key}' must be ${expected}, got ${JSON.stringify(value)}`,
      )
  }
}
