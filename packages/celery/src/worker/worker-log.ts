/**
 * Worker log lines, in Celery's familiar format
 * (`[2026-11-22 10:00:00,123: INFO/MainProcess] Task tasks.add[...] succeeded in 0.001s: 5`)
 * or as JSON lines for log pipelines.
 */
/** Log levels, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
/** `text` (Celery's format) or `json` (one object per line). */
export type LogFormat = 'text' | 'json'

const ORDER: LogLevel[] = ['debug', 'info', 'warn', 'error']
const CELERY_LEVEL: Record<LogLevel, string> = {
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
}

function stamp(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())},${p(d.getMilliseconds(), 3)}`
}

/** Writes worker log lines at or above a level. */
export class WorkerLog {
  constructor(
    private readonly level: LogLevel,
    private readonly format: LogFormat,
    private readonly hostname: string,
    private readonly write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  ) {}

  /** True when lines at `level` are written. */
  enabled(level: LogLevel): boolean {
    return ORDER.indexOf(level) >= ORDER.indexOf(this.level)
  }

  log(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
    if (!this.enabled(level)) return
    const now = new Date()
    if (this.format === 'json') {
      this.write(
        JSON.stringify({ time: now.toISOString(), level, hostname: this.hostname, message, ...fields }),
      )
    } else {
      this.write(`[${stamp(now)}: ${CELERY_LEVEL[level]}/MainProcess] ${message}`)
    }
  }
}
