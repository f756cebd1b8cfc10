/**
 * A real Python Celery worker for interop tests: `/usr/bin/python3 -m celery -A interop_proj
 * worker -P solo`, with its own queue and node name, started and stopped by the test.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Celery } from '@q/celery'
import { PYTHON, runPythonJson } from './peers.js'

/** Where interop_proj.py lives. */
export const PYTHON_DIR = fileURLToPath(new URL('../python/', import.meta.url))

/** Environment for the Python side: broker, backend and the two queues. */
export interface InteropEnv {
  Q_BROKER: string
  Q_BACKEND: string
  Q_PY_QUEUE: string
  Q_Q_QUEUE: string
}

/** A running Python worker. */
export interface PythonWorker {
  readonly nodename: string
  readonly output: () => string
  stop(): Promise<void>
}

/** Starts a Python worker consuming `env.Q_PY_QUEUE`; resolves once it says it is ready. */
export async function startPythonWorker(
  env: InteropEnv,
  nodename: string,
  timeoutMs = 30_000,
): Promise<PythonWorker> {
  const child: ChildProcess = spawn(
    PYTHON,
    [
      '-m',
      'celery',
      '-A',
      'interop_proj',
      'worker',
      '-P',
      'solo',
      '-Q',
      env.Q_PY_QUEUE,
      '-n',
      nodename,
      '-l',
      'info',
    ],
    {
      cwd: PYTHON_DIR,
      env: { ...process.env, ...env, PYTHONPATH: PYTHON_DIR, PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let output = ''
  child.stdout?.on('data', (d) => (output += d))
  child.stderr?.on('data', (d) => (output += d))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      // A worker that never got ready is not left behind.
      child.kill('SIGKILL')
      reject(new Error(`Python worker not ready in ${timeoutMs} ms:\n${output}`))
    }, timeoutMs)
    const check = () => {
      if (/ready\./.test(output)) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stdout?.on('data', check)
    child.stderr?.on('data', check)
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`Python worker exited (${code}):\n${output}`))
    })
  })
  child.removeAllListeners('exit')
  return {
    nodename,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return
      const exited = new Promise<void>((r) => child.once('exit', () => r()))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    },
  }
}

/**
 * Deletes the test's two queues through `app`, and the exchanges of the same names Celery declares
 * with them (best effort): they are durable and live on a shared vhost or Redis database, so a run
 * that left them would leave more each time.
 */
export async function deleteInteropQueues(app: Celery, env: InteropEnv): Promise<void> {
  const channel = await app.connection().channel()
  for (const name of [env.Q_PY_QUEUE, env.Q_Q_QUEUE]) {
    await channel.deleteQueue(name).catch(() => {})
    await channel.deleteExchange(name).catch(() => {})
  }
}

/** Runs a Python client snippet with interop_proj importable; returns its JSON output. */
export function pythonClient(env: InteropEnv, body: string): Promise<unknown> {
  return runPythonJson(
    `import json, sys\nsys.path.insert(0, ${JSON.stringify(PYTHON_DIR)})\nfrom interop_proj import app\n${body}`,
    { ...env },
  )
}
