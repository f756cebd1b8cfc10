/**
 * The default logger: console, filtered by level. `Q_LOG_LEVEL` (debug, info, warn, error,
 * silent) sets the level when the caller gives none; the default is `warn`.
 */
import type { Logger } from './types.js'

const LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const

/** A log level name. */
export type LogLevel = (typeof LEVELS)[number]

/** A console logger printing `level` and above, each line prefixed with `[q]` and the name. */
export function consoleLogger(level?: LogLevel, name = 'kombu'): Logger {
  const env = process.env.Q_LOG_LEVEL as LogLevel | undefined
  const min = LEVELS.indexOf(level ?? (env && LEVELS.includes(env) ? env : 'warn'))
  const at = (l: LogLevel, fn: (...a: unknown[]) => void) =>
    LEVELS.indexOf(l) >= min
      ? (msg: string, ...args: unknown[]) => fn(`[q:${name}] ${msg}`, ...args)
      : () => {}
  return {
    debug: at('debug', console.debug),
    info: at('info', console.info),
    warn: at('warn', console.warn),
    error: at('error', console.error),
  }
}
