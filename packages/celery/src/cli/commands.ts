/**
 * The `q` subcommands: worker, call, result, purge. Each parses its own options (node:util
 * parseArgs) and returns a process exit code.
 */
import { createRequire } from 'node:module'
import { parseArgs } from 'node:util'
import type { Connection } from '@q/kombu'
import type { Celery } from '../app.js'
import type { LogLevel } from '../worker/worker-log.js'
import { banner } from './banner.js'
import { loadApp } from './load-app.js'
import { hasFlags, heapFlags, relaunch, runtimeHeapFlags } from './node-flags.js'

/** Where the commands write. */
export interface Io {
  out(line: string): void
  err(line: string): void
}

const APP = { app: { type: 'string', short: 'A' } } as const

function version(): string {
  try {
    return (createRequire(import.meta.url)('../../package.json') as { version: string }).version
  } catch {
    return '0.0.0'
  }
}

function levelOf(v: string | undefined): LogLevel {
  const l = (v ?? 'info').toLowerCase()
  if (l === 'warning') return 'warn'
  if (l === 'critical' || l === 'fatal') return 'error'
  if (l === 'debug' || l === 'info' || l === 'warn' || l === 'error') return l
  throw new Error(`unknown log level '${v}': use debug, info, warning or error`)
}

async function needApp(spec: string | undefined): Promise<Celery> {
  if (!spec)
    throw new Error(
      '-A/--app <module> is required: the module whose default export (or `app` export) is the Celery app',
    )
  return loadApp(spec)
}

/**
 * `q worker -A <module> [-Q a,b] [-c N] [-l info] [-n name@%h] [--prefetch-multiplier N] [--json-logs]
 * [--without-mingle] [--max-semi-space-size MB] [--optimize-for-size] [--heap-growing-percent N]`.
 * The last three are V8 heap settings (see node-flags.ts): the command starts node again with the
 * first two unless it runs with them; the third is set in the running process.
 */
export async function workerCommand(argv: string[], io: Io, signals = true): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...APP,
      queues: { type: 'string', short: 'Q' },
      concurrency: { type: 'string', short: 'c' },
      loglevel: { type: 'string', short: 'l' },
      hostname: { type: 'string', short: 'n' },
      'prefetch-multiplier': { type: 'string' },
      'json-logs': { type: 'boolean' },
      'shutdown-timeout': { type: 'string' },
      'without-mingle': { type: 'boolean' },
      'max-semi-space-size': { type: 'string' },
      'optimize-for-size': { type: 'boolean' },
      'heap-growing-percent': { type: 'string' },
    },
  })
  const heap = {
    maxSemiSpaceSize: values['max-semi-space-size'],
    optimizeForSize: values['optimize-for-size'],
    heapGrowingPercent: values['heap-growing-percent'],
  }
  // Checked (and set) before any restart, so a bad value fails here, not in the restarted process.
  runtimeHeapFlags(heap)
  const flags = heapFlags(heap)
  if (flags.length && !hasFlags(flags)) return relaunch(flags, process.argv[1] ?? '', process.argv.slice(2))
  const app = await needApp(values.app)
  const worker = await app.worker({
    ...(values.queues
      ? {
          queues: values.queues
            .split(',')
            .map((q) => q.trim())
            .filter(Boolean),
        }
      : {}),
    ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}),
    ...(values['prefetch-multiplier'] ? { prefetchMultiplier: Number(values['prefetch-multiplier']) } : {}),
    ...(values.hostname ? { hostname: values.hostname } : {}),
    ...(values['shutdown-timeout'] ? { shutdownTimeout: Number(values['shutdown-timeout']) } : {}),
    ...(values['without-mingle'] ? { mingle: false } : {}),
    logLevel: levelOf(values.loglevel),
    logFormat: values['json-logs'] ? 'json' : 'text',
  })
  if (!values['json-logs']) io.err(banner(worker, version()))
  // Signal handlers go in before start(): a SIGTERM that arrives while the worker starts (or
  // right after it says ready) must be a warm shutdown, not Node's default exit.
  let stopping = false
  let resolveExit!: (code: number) => void
  const exit = new Promise<number>((r) => {
    resolveExit = r
  })
  const started = worker.start()
  const onSignal = (sig: NodeJS.Signals) => {
    if (stopping) {
      // A second signal: cold shutdown, right now.
      io.err(`${sig} received again: cold shutdown`)
      void worker.terminate().finally(() => resolveExit(1))
      return
    }
    stopping = true
    void started
      .catch(() => undefined)
      .then(() => worker.stop())
      .then(() => app.close())
      .then(
        () => resolveExit(0),
        () => resolveExit(1),
      )
  }
  if (signals) {
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
  }
  app.signals.on('workerShutdown', () => {
    if (!stopping) {
      stopping = true
      void app.close().then(() => resolveExit(0))
    }
  })
  await started
  return exit
}

/** `q call -A <module> <task> [--args '[1,2]'] [--kwargs '{}'] [--countdown s] [--eta iso] [--expires s] [-Q queue] [--priority n]` */
export async function callCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...APP,
      args: { type: 'string', short: 'a' },
      kwargs: { type: 'string', short: 'k' },
      countdown: { type: 'string' },
      eta: { type: 'string' },
      expires: { type: 'string' },
      queue: { type: 'string', short: 'Q' },
      priority: { type: 'string' },
      serializer: { type: 'string' },
    },
  })
  const [name] = positionals
  if (!name) throw new Error('q call needs a task name: q call -A app tasks.add --args "[2, 3]"')
  const app = await needApp(values.app)
  try {
    const args = values.args ? JSON.parse(values.args) : []
    const kwargs = values.kwargs ? JSON.parse(values.kwargs) : {}
    if (!Array.isArray(args)) throw new Error('--args must be a JSON array')
    const r = await app.sendTask(name, args, kwargs, {
      ...(values.countdown ? { countdown: Number(values.countdown) } : {}),
      ...(values.eta ? { eta: new Date(values.eta) } : {}),
      ...(values.expires ? { expires: Number(values.expires) } : {}),
      ...(values.queue ? { queue: values.queue } : {}),
      ...(values.priority ? { priority: Number(values.priority) } : {}),
      ...(values.serializer ? { serializer: values.serializer } : {}),
    })
    io.out(r.id)
    return 0
  } finally {
    await app.close()
  }
}

/** `q result -A <module> <task-id> [--timeout ms] [--traceback]` */
export async function resultCommand(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...APP, timeout: { type: 'string' }, traceback: { type: 'boolean' } },
  })
  const [id] = positionals
  if (!id) throw new Error('q result needs a task id')
  const app = await needApp(values.app)
  try {
    const result = app.asyncResult(id)
    if (values.traceback) {
      io.out((await result.traceback()) ?? '')
      return 0
    }
    const value = await result.get({
      ...(values.timeout ? { timeout: Number(values.timeout) } : {}),
      propagate: false,
    })
    io.out(value instanceof Error ? `${value.name}: ${value.message}` : JSON.stringify(value))
    return value instanceof Error ? 1 : 0
  } finally {
    await app.close()
  }
}

/** `q purge -A <module> [-Q a,b] [-f]`: deletes every waiting message of the app's queues. */
export async function purgeCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...APP, queues: { type: 'string', short: 'Q' }, force: { type: 'boolean', short: 'f' } },
  })
  const app = await needApp(values.app)
  const names = values.queues ? values.queues.split(',').map((q) => q.trim()) : [...app.router.queues.keys()]
  if (!values.force) {
    io.err(
      `Refusing to purge ${names.join(', ')} without -f/--force: every waiting message would be deleted.`,
    )
    await app.close()
    return 2
  }
  const connection: Connection = app.connection()
  try {
    const channel = await connection.channel()
    let total = 0
    for (const name of names) total += await channel.purgeQueue(name).catch(() => 0)
    await channel.close()
    io.out(
      `Purged ${total} message${total === 1 ? '' : 's'} from ${names.length} known task queue${names.length === 1 ? '' : 's'}.`,
    )
    return 0
  } finally {
    await app.close()
  }
}
