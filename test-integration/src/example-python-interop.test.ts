/**
 * examples/python-interop as a user runs it: the `q worker` command line as a real process,
 * Python's client calling it, the Node client calling a real Python worker, and the warm then
 * cold shutdown of `q worker` on SIGTERM/SIGINT.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PYTHON, requirePeer } from './peers.js'

const peer = requirePeer('celery')
const root = fileURLToPath(new URL('../../', import.meta.url))
const example = `${root}examples/python-interop/`
const tsx = `${root}node_modules/.bin/tsx`
const run = randomUUID().slice(0, 8)
const env = {
  ...process.env,
  BROKER_URL: 'redis://127.0.0.1:6379/6',
  RESULT_BACKEND: 'redis://127.0.0.1:6379/6',
  NODE_QUEUE: `node-tasks-${run}`,
  PYTHON_QUEUE: `python-tasks-${run}`,
  PYTHONUNBUFFERED: '1',
}

/** Starts a process and resolves once its output matches `ready`. */
function start(
  cmd: string,
  args: string[],
  cwd: string,
  ready: RegExp,
): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout?.on('data', (d) => (out += d))
  child.stderr?.on('data', (d) => (out += d))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      // A process that never got ready is not left behind.
      child.kill('SIGKILL')
      reject(new Error(`not ready in 30 s:\n${out}`))
    }, 30_000)
    const check = () => {
      if (ready.test(out)) {
        clearTimeout(timer)
        resolve({ child, output: () => out })
      }
    }
    child.stdout?.on('data', check)
    child.stderr?.on('data', check)
    child.once('exit', (code) => reject(new Error(`exited early (${code}):\n${out}`)))
  })
}

async function until(cond: () => boolean, timeout = 10_000): Promise<void> {
  const end = Date.now() + timeout
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 50))
  }
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((r) => child.once('exit', (code) => r(code)))
}

const qWorkerArgs = [
  '--conditions=@q/source',
  `${root}packages/celery/src/cli/main.ts`,
  'worker',
  '-A',
  'src/app.ts',
  '-Q',
  env.NODE_QUEUE,
  '-n',
  `node-${run}@%h`,
]

describe.skipIf(peer.skip)(
  `examples/python-interop with real processes${peer.skip ? ` [skipped: ${peer.reason}]` : ''}`,
  () => {
    let qWorker: Awaited<ReturnType<typeof start>>
    let pyWorker: Awaited<ReturnType<typeof start>>

    beforeAll(async () => {
      qWorker = await start(tsx, qWorkerArgs, example, /ready\./)
      pyWorker = await start(
        PYTHON,
        [
          '-m',
          'celery',
          '-A',
          'tasks',
          'worker',
          '-P',
          'solo',
          '-Q',
          env.PYTHON_QUEUE,
          '-n',
          `py-${run}@%h`,
          '-l',
          'info',
        ],
        `${example}python`,
        /ready\./,
      )
    }, 60_000)

    afterAll(async () => {
      for (const p of [qWorker?.child, pyWorker?.child]) {
        if (p && p.exitCode === null) {
          p.kill('SIGKILL')
          await exitOf(p)
        }
      }
    })

    it('q worker prints the banner with its queue and tasks', () => {
      const out = qWorker.output()
      expect(out).toContain(`.> ${env.NODE_QUEUE}`)
      expect(out).toContain('. node.add')
      expect(out).toContain('. node.greet')
    })

    it('Python calls the q worker: kwargs by name, a JS TypeError raised as builtins.TypeError', async () => {
      const r = spawnSync(PYTHON, ['client.py'], {
        cwd: `${example}python`,
        env,
        encoding: 'utf8',
        timeout: 60_000,
      })
      expect(r.status, r.stderr).toBe(0)
      expect(r.stdout).toContain('node.add(2, 3, z=4) = 9')
      expect(r.stdout).toContain("node.greet -> {'greeting': 'Hello, Ada?', 'from': 'node'}")
      expect(r.stdout).toContain('node.fail raised TypeError: bad input')
      // The worker's log line, in Celery's format.
      await until(() => /Task node\.add\[[0-9a-f-]+\] succeeded in [\d.]+s: 9/.test(qWorker.output()))
    })

    it('the Node client calls the Python worker, a ZeroDivisionError included', () => {
      const r = spawnSync(tsx, ['--conditions=@q/source', 'src/send-to-python.ts'], {
        cwd: example,
        env,
        encoding: 'utf8',
        timeout: 60_000,
      })
      expect(r.status, r.stderr).toBe(0)
      expect(r.stdout).toContain('tasks.mul(6, 7) = 42 (computed in Python)')
      expect(r.stdout).toContain(
        'tasks.divide(1, 0) raised ZeroDivisionError from builtins: division by zero',
      )
    })

    it('q worker: SIGTERM is a warm shutdown that exits 0', async () => {
      qWorker.child.kill('SIGTERM')
      expect(await exitOf(qWorker.child)).toBe(0)
      expect(qWorker.output()).toContain('Warm shutdown')
    })

    it('q worker: a second signal during a warm shutdown stops at once', async () => {
      const w = await start(tsx, [...qWorkerArgs.slice(0, -1), `node2-${run}@%h`], example, /ready\./)
      // A long task keeps the warm shutdown waiting: only the second signal can end it early.
      const send = spawnSync(
        PYTHON,
        ['-c', `from tasks import app\napp.send_task('node.sleep', args=(30,), queue='${env.NODE_QUEUE}')`],
        { cwd: `${example}python`, env, encoding: 'utf8' },
      )
      expect(send.status, send.stderr).toBe(0)
      await until(() => /Task node\.sleep\[[0-9a-f-]+\] received/.test(w.output()))
      const t0 = Date.now()
      w.child.kill('SIGTERM')
      await until(() => w.output().includes('Warm shutdown'))
      expect(w.child.exitCode).toBeNull()
      w.child.kill('SIGINT')
      expect(await exitOf(w.child)).toBe(1)
      expect(Date.now() - t0).toBeLessThan(15_000)
      expect(w.output()).toContain('cold shutdown')
    })
  },
)
