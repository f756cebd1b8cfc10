/**
 * Worker processes, child side: `child-main.ts <role> <params JSON>`, started by child.ts. The
 * role sets itself up, says `ready`, waits for `go`, runs, says `done` (with its own timing and
 * RSS), and cleans up on `stop`. Each role's module is imported alone, so a worker's RSS holds
 * only what it needs.
 */

/** What a role gets to talk to the parent. */
export interface ChildControl {
  /** Setup finished: the parent reads the starting RSS and may say go. */
  ready(): void
  /** Resolves when the parent says go. */
  go(): Promise<void>
  /** Finished: `count` messages in `ms`. */
  done(ms: number, count: number): void
  /** How long the worker took to start (reported with `done`). */
  startup(ms: number): void
  /** A progress sample (long runs); `settled`: taken right after a full garbage collection. */
  progress(count: number, ms: number, settled?: boolean): void
  /** Figures measured in the child (a group that runs whole in a process of its own). */
  result(values: Record<string, number>): void
  /** Registers cleanup for `stop` (and for a crash). */
  onStop(fn: () => Promise<void> | void): void
}

/** A role: what one kind of worker does. */
export type Role = (params: Record<string, unknown>, control: ChildControl) => Promise<void>

const ROLES: Record<string, () => Promise<Role>> = {
  'q-worker': async () => (await import('./q/worker.js')).qWorkerRole,
  'bullmq-worker': async () => (await import('./peers/bullmq.js')).bullmqWorkerRole,
  'raw-redis-consume': async () => (await import('./peers/raw-redis.js')).rawRedisConsumeRole,
  'raw-redis-echo': async () => (await import('./peers/raw-redis.js')).rawRedisEchoRole,
  'raw-amqp-consume': async () => (await import('./peers/raw-amqp.js')).rawAmqpConsumeRole,
  'q-memory': async () => (await import('./q/memory.js')).qMemoryRole,
}

function send(message: Record<string, unknown>): void {
  process.send?.(message)
}

async function main(): Promise<void> {
  const [role, json] = process.argv.slice(2)
  const load = role ? ROLES[role] : undefined
  if (!load) throw new Error(`unknown role '${role}'; known: ${Object.keys(ROLES).join(', ')}`)
  const params = JSON.parse(json ?? '{}') as Record<string, unknown>
  const cleanups: Array<() => Promise<void> | void> = []
  let resolveGo!: () => void
  const goPromise = new Promise<void>((r) => {
    resolveGo = r
  })
  const stop = async (code: number) => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn()
      } catch {
        // best effort: the process exits anyway
      }
    }
    process.exit(code)
  }
  process.on('message', (m: { type?: string }) => {
    if (m.type === 'go') resolveGo()
    else if (m.type === 'stop') void stop(0)
  })
  process.on('disconnect', () => void stop(0))
  let startupMs: number | undefined
  const control: ChildControl = {
    startup: (ms) => {
      startupMs = ms
    },
    ready: () => send({ type: 'ready', rss: process.memoryUsage().rss }),
    go: () => goPromise,
    done: (ms, count) => send({ type: 'done', ms, count, rss: process.memoryUsage().rss, startupMs }),
    progress: (count, ms, settled) => {
      const m = process.memoryUsage()
      send({ type: 'progress', count, ms, rss: m.rss, heapUsed: m.heapUsed, ...(settled ? { settled } : {}) })
    },
    result: (values) => send({ type: 'result', values }),
    onStop: (fn) => void cleanups.push(fn),
  }
  try {
    await (await load())(params, control)
  } catch (err) {
    send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) })
    await stop(1)
  }
}

await main()
