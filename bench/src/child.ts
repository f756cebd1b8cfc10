/**
 * Worker processes, parent side. Every drain runs its worker in a process of its own (so its RSS
 * is its own and no earlier run's garbage is in its heap), started, told to go, and stopped here.
 * Node children speak over IPC (see child-main.ts); the Python worker over its stdout.
 * Every process started is killed on exit, even when the bench fails.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** Messages a Node child sends. */
export type ChildMessage =
  | { type: 'ready'; rss: number }
  | { type: 'progress'; count: number; rss: number; heapUsed: number; ms: number; settled?: boolean }
  | { type: 'done'; ms: number; count: number; rss: number; startupMs?: number }
  | { type: 'result'; values: Record<string, number> }
  | { type: 'error'; message: string }

const live = new Set<ChildProcess>()

function killAll(): void {
  for (const c of live) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
}
process.on('exit', killAll)
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    killAll()
    process.exit(130)
  })
}

/** Registers a process to be killed when the bench exits. */
export function track(child: ChildProcess): ChildProcess {
  live.add(child)
  child.once('exit', () => live.delete(child))
  return child
}

/** The resident set size of a process, in bytes (Linux /proc). */
export function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : Number.NaN
  } catch {
    return Number.NaN
  }
}

/** Waits for a process to exit; SIGTERM, then SIGKILL after `graceMs`. */
export async function stopProcess(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((r) => child.once('exit', () => r()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}

const CHILD_MAIN = fileURLToPath(new URL('./child-main.ts', import.meta.url))
const REGISTER = fileURLToPath(new URL('./register.ts', import.meta.url))
const BENCH_DIR = fileURLToPath(new URL('../', import.meta.url))

/** How worker processes run: the esbuild bundle under plain node (default), or the sources under tsx. */
export type Runtime = { kind: 'bundle'; file: string } | { kind: 'tsx' }

let runtime: Runtime = { kind: 'tsx' }

/** Sets how the next worker processes run. */
export function setRuntime(r: Runtime): void {
  runtime = r
}

/** The runtime in force. */
export function currentRuntime(): Runtime {
  return runtime
}

/** A Node worker process running one of child-main.ts's roles. */
export class NodeChild {
  private readonly child: ChildProcess
  private readonly inbox: ChildMessage[] = []
  private waiter: (() => void) | undefined
  private exitError: Error | undefined
  private stderr = ''

  /**
   * @param role what to run (see child-main.ts)
   * @param params its parameters (JSON)
   * @param options.nodeFlags extra flags for node, e.g. `--cpu-prof`
   * @param options.tsx run under tsx whatever the runtime (a worker that loads a package by name
   * at run time, as the Redis result backend is)
   */
  constructor(
    role: string,
    params: Record<string, unknown>,
    options: { nodeFlags?: readonly string[]; tsx?: boolean } = {},
  ) {
    const nodeFlags = options.nodeFlags ?? []
    const rt: Runtime = options.tsx ? { kind: 'tsx' } : runtime
    const entry =
      rt.kind === 'bundle'
        ? [rt.file]
        : ['--conditions=@q/source', '--import', 'tsx', '--import', REGISTER, CHILD_MAIN]
    this.child = track(
      spawn(process.execPath, [...nodeFlags, ...entry, role, JSON.stringify(params)], {
        cwd: BENCH_DIR,
        stdio: ['ignore', 'inherit', process.env.BENCH_CHILD_STDERR ? 'inherit' : 'pipe', 'ipc'],
        env: { ...process.env },
      }),
    )
    this.child.stderr?.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000)
    })
    this.child.on('message', (m) => {
      this.inbox.push(m as ChildMessage)
      this.waiter?.()
    })
    this.child.on('exit', (code, signal) => {
      this.exitError ??= new Error(
        `${role} worker exited (${code ?? signal}) before answering${this.stderr ? `:\n${this.stderr}` : ''}`,
      )
      this.waiter?.()
    })
  }

  get pid(): number {
    return this.child.pid ?? -1
  }

  /** Waits for the next message of `type` (an `error` message throws). */
  async next<T extends ChildMessage['type']>(
    type: T,
    timeoutMs = 120_000,
  ): Promise<Extract<ChildMessage, { type: T }>> {
    const end = Date.now() + timeoutMs
    for (;;) {
      const i = this.inbox.findIndex((m) => m.type === type || m.type === 'error')
      if (i >= 0) {
        const m = this.inbox.splice(i, 1)[0]!
        if (m.type === 'error') throw new Error(`worker failed: ${m.message}`)
        return m as Extract<ChildMessage, { type: T }>
      }
      if (this.exitError) throw this.exitError
      const left = end - Date.now()
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for '${type}'\n${this.stderr}`)
      await new Promise<void>((r) => {
        const t = setTimeout(r, left)
        this.waiter = () => {
          clearTimeout(t)
          r()
        }
      })
      this.waiter = undefined
    }
  }

  /** Removes and returns the oldest message of `type` received so far, if any. */
  take<T extends ChildMessage['type']>(type: T): Extract<ChildMessage, { type: T }> | undefined {
    const i = this.inbox.findIndex((m) => m.type === type)
    return i >= 0 ? (this.inbox.splice(i, 1)[0] as Extract<ChildMessage, { type: T }>) : undefined
  }

  /** Tells the worker to start. */
  go(): void {
    this.child.send({ type: 'go' })
  }

  /** Asks the worker to stop cleanly; kills it if it does not within `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()))
    if (this.child.connected) this.child.send({ type: 'stop' })
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs)
    await exited
    clearTimeout(timer)
  }
}

/** Starts a child, waits for `ready`, says go, waits for `done`, stops it: the common drain. */
export async function runChild(
  role: string,
  params: Record<string, unknown>,
  options: { nodeFlags?: readonly string[]; beforeGo?: () => Promise<void>; timeoutMs?: number } = {},
): Promise<{ ready: number; done: Extract<ChildMessage, { type: 'done' }> }> {
  const child = new NodeChild(role, params, options.nodeFlags ? { nodeFlags: options.nodeFlags } : {})
  try {
    const ready = await child.next('ready', 60_000)
    await options.beforeGo?.()
    child.go()
    const done = await child.next('done', options.timeoutMs ?? 600_000)
    return { ready: ready.rss, done }
  } finally {
    await child.stop()
  }
}
