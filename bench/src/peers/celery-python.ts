/**
 * Python Celery 5 from Debian (`/usr/bin/python3 -m celery`), in the configuration that makes it
 * fastest for no-op tasks: the solo pool (no pool IPC), prefetch multiplier 64, results ignored,
 * rate limits off, `-l warning`, no gossip, mingle or heartbeat. The queue is filled by q (the
 * messages are Celery's protocol v2: a Python worker runs them as its own). Timed inside the
 * worker from `worker_ready` to the N-th task; RSS read from /proc.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { rssOf, stopProcess, track } from '../child.js'

/** The Python that has Celery (Debian's python3-celery). */
export const PYTHON = process.env.BENCH_PYTHON ?? '/usr/bin/python3'
const DIR = fileURLToPath(new URL('../../python/', import.meta.url))

/** Celery's version, or undefined when this Python has no Celery. */
export function celeryVersion(): string | undefined {
  const r = spawnSync(PYTHON, ['-c', 'import celery; print(celery.__version__)'], { encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : undefined
}

/** A running Python worker whose output is watched for BENCH_* lines. */
class PythonWorker {
  readonly child: ChildProcess
  private out = ''
  private waiters: Array<() => void> = []

  constructor(env: Record<string, string>, queue: string) {
    this.child = track(
      spawn(
        PYTHON,
        [
          '-m',
          'celery',
          '-A',
          'bench_celery',
          'worker',
          '-P',
          'solo',
          '--prefetch-multiplier',
          '64',
          '-Q',
          queue,
          '-n',
          `bench-${queue}@%h`,
          '-l',
          'warning',
          '--without-gossip',
          '--without-mingle',
          '--without-heartbeat',
        ],
        {
          cwd: DIR,
          env: { ...process.env, ...env, PYTHONPATH: DIR, PYTHONUNBUFFERED: '1' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      ),
    )
    const onData = (d: Buffer) => {
      this.out = (this.out + d.toString()).slice(-20_000)
      for (const w of this.waiters.splice(0)) w()
    }
    this.child.stdout?.on('data', onData)
    this.child.stderr?.on('data', onData)
    this.child.on('exit', () => {
      for (const w of this.waiters.splice(0)) w()
    })
  }

  /** Waits for a line matching `re`; returns its match. */
  async line(re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    const end = Date.now() + timeoutMs
    for (;;) {
      const m = re.exec(this.out)
      if (m) return m
      if (this.child.exitCode !== null)
        throw new Error(`Python worker exited (${this.child.exitCode}):\n${this.out}`)
      if (Date.now() > end) throw new Error(`Python worker: no ${re} within ${timeoutMs} ms:\n${this.out}`)
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, end - Date.now()))
        this.waiters.push(() => {
          clearTimeout(t)
          r()
        })
      })
    }
  }

  stop(): Promise<void> {
    return stopProcess(this.child, 10_000)
  }
}

/** One drain of a queue holding `n` tasks: tasks/s and worker RSS at ready and at the end. */
export async function celeryDrain(
  broker: string,
  queue: string,
  n: number,
): Promise<{ ms: number; rssStart: number; rssEnd: number }> {
  const w = new PythonWorker({ BENCH_BROKER: broker, BENCH_QUEUE: queue, BENCH_N: String(n) }, queue)
  try {
    await w.line(/BENCH_READY/, 60_000)
    const rssStart = rssOf(w.child.pid!)
    const done = await w.line(/BENCH_DONE ([\d.]+)/, 600_000)
    const rssEnd = rssOf(w.child.pid!)
    return { ms: Number(done[1]) * 1000, rssStart, rssEnd }
  } finally {
    await w.stop()
  }
}

/** Round trips of a Python client against a Python worker (Redis broker and backend), in ms. */
export async function celeryRoundTrips(
  broker: string,
  backend: string,
  queue: string,
  count: number,
  warmup: number,
): Promise<number[]> {
  const env = { BENCH_BROKER: broker, BENCH_BACKEND: backend, BENCH_QUEUE: queue, BENCH_N: '0' }
  const w = new PythonWorker(env, queue)
  try {
    await w.line(/BENCH_READY/, 60_000)
    const client = track(
      spawn(PYTHON, ['bench_celery.py', 'roundtrip', String(count), String(warmup)], {
        cwd: DIR,
        env: { ...process.env, ...env, PYTHONPATH: DIR },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    )
    let out = ''
    let err = ''
    client.stdout?.on('data', (d) => (out += d))
    client.stderr?.on('data', (d) => (err += d))
    const code = await new Promise<number | null>((r) => client.once('exit', r))
    if (code !== 0) throw new Error(`Python round-trip client failed (${code}):\n${err}`)
    return JSON.parse(out.trim().split('\n').pop() ?? '[]') as number[]
  } finally {
    await w.stop()
  }
}
