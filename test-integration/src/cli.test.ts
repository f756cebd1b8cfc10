/**
 * The `q` command line as a user runs it: `q call` sends a task by name, `q result` waits for
 * it, `q purge` empties the queues, and usage errors are clear. Against Redis, with a worker of
 * the test's own in this process.
 */
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Celery } from '@q/celery'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../', import.meta.url))
const tsx = `${root}node_modules/.bin/tsx`
const cli = `${root}packages/celery/src/cli/main.ts`
const run = randomUUID().slice(0, 8)
const queue = `cli-${run}`
const broker = 'redis://127.0.0.1:6379/4'

// The app module the commands load with -A, written where @q/* resolves from this workspace.
const appModule = join(`${root}test-integration/src`, `.cli-app-${run}.ts`)

/** Runs `q ...` as a process. Asynchronously: the worker under test runs in this process. */
function q(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(tsx, ['--conditions=@q/source', cli, ...args], { cwd: root })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('exit', (status) => {
      clearTimeout(timer)
      resolve({ status, stdout, stderr })
    })
  })
}

describe('q command line', () => {
  let app: Celery
  let worker: Awaited<ReturnType<Celery['worker']>>

  beforeAll(async () => {
    writeFileSync(
      appModule,
      `import { Celery } from '@q/celery'
export const app = new Celery('cli', { broker: '${broker}', backend: '${broker}', taskDefaultQueue: '${queue}' })
app.task('cli.add', (x: number, y: number) => x + y)
`,
    )
    app = new Celery('cli-worker', { broker, backend: broker, taskDefaultQueue: queue, env: {} })
    app.task('cli.add', (x: number, y: number) => x + y)
    app.task('cli.fail', () => {
      throw new RangeError('out of range')
    })
    worker = await (await app.worker({ queues: [queue], logLevel: 'error' })).start()
  }, 30_000)

  afterAll(async () => {
    await worker?.stop()
    await app?.close()
    rmSync(appModule, { force: true })
  })

  it('q call sends a task by name and prints its id; q result prints the result', async () => {
    const call = await q('call', '-A', appModule, 'cli.add', '--args', '[2, 3]')
    expect(call.status, call.stderr).toBe(0)
    const id = call.stdout.trim()
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    const result = await q('result', '-A', appModule, id, '--timeout', '20000')
    expect(result.status, result.stderr).toBe(0)
    expect(result.stdout.trim()).toBe('5')
  })

  it('q result of a failed task prints the error and exits 1', async () => {
    const call = await q('call', '-A', appModule, 'cli.fail')
    const id = call.stdout.trim()
    const result = await q('result', '-A', appModule, id, '--timeout', '20000')
    expect(result.status).toBe(1)
    expect(result.stdout).toContain('RangeError: out of range')
  })

  it('q purge refuses without -f, and empties the queues with it', async () => {
    await worker.stop()
    for (let i = 0; i < 3; i++) await app.sendTask('cli.add', [i, i])
    const refused = await q('purge', '-A', appModule)
    expect(refused.status).toBe(2)
    expect(refused.stderr).toContain('without -f/--force')
    const purged = await q('purge', '-A', appModule, '-f')
    expect(purged.status, purged.stderr).toBe(0)
    expect(purged.stdout).toContain('Purged 3 messages')
  })

  it('q worker with V8 heap options runs tasks (node started again with the restart flags, the growing percentage set in it) and stops on SIGTERM', async () => {
    await worker.stop()
    const child = spawn(
      tsx,
      [
        '--conditions=@q/source',
        cli,
        'worker',
        '-A',
        appModule,
        '-Q',
        queue,
        '-l',
        'warning',
        '--without-mingle',
        '--max-semi-space-size=2',
        '--heap-growing-percent=30',
      ],
      { cwd: root },
    )
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
    try {
      const r = await app.sendTask('cli.add', [20, 22])
      expect(await r.get({ timeout: 30_000 }), stderr).toBe(42)
    } finally {
      child.kill('SIGTERM')
    }
    expect(await exited, stderr).toBe(0)
  }, 60_000)

  it('usage errors say what to fix', async () => {
    const none = await q()
    expect(none.status).toBe(2)
    expect(none.stderr).toContain('usage: q <command>')
    const noApp = await q('call', 'cli.add')
    expect(noApp.status).toBe(1)
    expect(noApp.stderr).toContain('-A/--app <module> is required')
    const missing = await q('call', '-A', './no/such/module', 'cli.add')
    expect(missing.stderr).toContain("Cannot find the app module './no/such/module'")
    const badHeap = await q('worker', '-A', appModule, '--heap-growing-percent=lots')
    expect(badHeap.status).toBe(1)
    expect(badHeap.stderr).toContain(
      "--heap-growing-percent must be a whole number from 1 to 1000, got 'lots'",
    )
  })
})
