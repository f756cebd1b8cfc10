/**
 * Finding the real peers on this machine: Debian's Python with Kombu/Celery installed
 * (`/usr/bin/python3`; the `python3` on PATH may be another one without them).
 */
import { spawn, spawnSync } from 'node:child_process'

/** The Python that has Kombu and Celery, as .ci/run installs them. */
export const PYTHON = process.env.Q_PYTHON ?? '/usr/bin/python3'

/** True when `import <module>` works in {@link PYTHON}. */
export function pythonHas(module: string): boolean {
  const r = spawnSync(PYTHON, ['-c', `import ${module}`], { encoding: 'utf8' })
  return r.status === 0
}

/** Runs a Python script with `input` on stdin; returns stdout, throwing with stderr on failure. */
export function runPython(script: string, input = ''): string {
  const r = spawnSync(PYTHON, ['-c', script], { input, encoding: 'utf8', timeout: 30_000 })
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`)
  return r.stdout
}

/**
 * In CI the peers must be there (a missing peer is a failure, not a skip);
 * on a developer machine without them the tests are skipped with this reason.
 */
export function requirePeer(module: string): { skip: boolean; reason: string } {
  const ok = pythonHas(module)
  if (!ok && process.env.CI)
    throw new Error(`CI needs ${PYTHON} with ${module} (apt-get install python3-celery)`)
  return { skip: !ok, reason: `${PYTHON} has no ${module} (apt-get install python3-celery)` }
}

/**
 * Runs a Python script as a child process (without blocking the event loop, so a worker in this
 * process keeps running) and resolves with the last line of its output, parsed as JSON.
 */
export function runPythonJson(
  script: string,
  env: Record<string, string | undefined> = {},
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-c', script], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => (out += d))
    child.stderr.on('data', (d) => (err += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('exit', (code) => {
      clearTimeout(timer)
      if (code !== 0) return reject(new Error(`python failed (${code}):\n${err}`))
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? 'null'))
      } catch (e) {
        reject(new Error(`python printed no JSON: ${out}\n${err}`, { cause: e }))
      }
    })
  })
}
