/**
 * V8 heap settings of `q worker` (`--max-semi-space-size`, `--optimize-for-size`,
 * `--heap-growing-percent`): the worker's memory traded against its CPU. V8 reads the first two
 * when the isolate is created (`v8.setFlagsFromString` later leaves the heap's sizes as they were),
 * so the command starts node again with them: with `process.execve` where Node has it (the process
 * is replaced: no second process), else as a child process that this one waits for, passing on its
 * signals and exit code. The third, how far V8 lets the old generation grow past what its last
 * full collection kept before it collects again, V8 reads at every such collection: it is set in
 * the running process (`runtimeHeapFlags`), and needs no restart; Node does not take it in
 * NODE_OPTIONS.
 *
 * Measured on a Redis soak, concurrency 100 (bench/results/profiles/README.md, "Worker memory,
 * session 2b"): with the default young generation (16 MB semi-spaces) the RSS settles near
 * 120 MB; `--max-semi-space-size=4` near 102 MB at +20% CPU per task; `--optimize-for-size` near
 * 72 MB at ~2.4x the CPU per task. Without `process.execve` (before Node 22.15) the waiting parent
 * is a second node process (~40 MB): the same flags in `NODE_OPTIONS` avoid it. Session 7 of
 * bench/results/profiles: with today's worker, `--max-semi-space-size=4` with
 * `--heap-growing-percent=30` settles near 80 MB (Node's defaults: 110-125 MB); drains measured the
 * same CPU per task (medians of five), single soaks up to 28% more, callgrind 21% more instructions.
 */

import { spawn } from 'node:child_process'
import { constants } from 'node:os'
import { setFlagsFromString } from 'node:v8'
import { ConfigurationError } from '../errors.js'

/** Set in the environment of the relaunched worker: the flags it was started with. */
export const RELAUNCHED_ENV = 'Q_WORKER_NODE_FLAGS'

/** The `q worker` options that become node flags. */
export interface HeapOptions {
  /** V8's `--max-semi-space-size`, in MB: each of the young generation's two halves. */
  maxSemiSpaceSize?: string | undefined
  /** V8's `--optimize-for-size`: smaller heap growth and code, more CPU. */
  optimizeForSize?: boolean | undefined
  /**
   * V8's `--heap-growing-percent`: after a full collection, the old generation may grow by this
   * percentage of what it kept before the next one (V8 picks 10-300% by itself). Set in-process.
   */
  heapGrowingPercent?: string | undefined
}

/** The node flags `options` ask for (none for the defaults). Throws on a size that is not a whole number of MB. */
export function heapFlags(options: HeapOptions): string[] {
  const flags: string[] = []
  if (options.maxSemiSpaceSize !== undefined) {
    const mb = Number(options.maxSemiSpaceSize)
    if (!Number.isInteger(mb) || mb < 1)
      throw new ConfigurationError(
        `--max-semi-space-size must be a whole number of MB (1 or more), got '${options.maxSemiSpaceSize}'`,
      )
    flags.push(`--max-semi-space-size=${mb}`)
  }
  if (options.optimizeForSize) flags.push('--optimize-for-size')
  return flags
}

/**
 * The V8 flags of `options` that take effect in a running process (`--heap-growing-percent`), as
 * `setFlags` (node:v8's `setFlagsFromString` by default) was given them. Throws on a percentage
 * that is not a whole number from 1 to 1000, before setting anything.
 */
export function runtimeHeapFlags(
  options: HeapOptions,
  setFlags: (flag: string) => void = setFlagsFromString,
): string[] {
  if (options.heapGrowingPercent === undefined) return []
  const pct = Number(options.heapGrowingPercent)
  if (!Number.isInteger(pct) || pct < 1 || pct > 1000)
    throw new ConfigurationError(
      `--heap-growing-percent must be a whole number from 1 to 1000, got '${options.heapGrowingPercent}'`,
    )
  const flag = `--heap-growing-percent=${pct}`
  setFlags(flag)
  return [flag]
}

/** Whether this process already runs with `flags` (given to node or in NODE_OPTIONS, or set by a relaunch). */
export function hasFlags(flags: readonly string[], execArgv = process.execArgv, env = process.env): boolean {
  if (env[RELAUNCHED_ENV] === flags.join(' ')) return true
  const given = new Set([...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/)])
  return flags.every((f) => given.has(f))
}

type Execve = (file: string, args: string[], env: NodeJS.ProcessEnv) => never

/**
 * Runs `script` (with `args`) in node with `flags` added to this process's own node flags, and
 * resolves with its exit code. Replaces this process when Node can (`process.execve`); otherwise a
 * child: SIGTERM, SIGINT and SIGHUP sent to this process go to it, so a supervisor's stop is the
 * worker's warm shutdown. `replace: false` always takes the child (tests: a test runner must not
 * be replaced).
 */
export function relaunch(
  flags: readonly string[],
  script: string,
  args: readonly string[],
  options: { replace?: boolean } = {},
): Promise<number> {
  const argv = [...process.execArgv, ...flags, script, ...args]
  const env = { ...process.env, [RELAUNCHED_ENV]: flags.join(' ') }
  const execve = (process as unknown as { execve?: Execve }).execve
  if (execve && options.replace !== false) execve(process.execPath, [process.execPath, ...argv], env)
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, argv, { stdio: 'inherit', env })
    const signals = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const
    // Ctrl-C in a terminal reaches the whole process group, the child included: passing it on as
    // well would be a second SIGINT, which the worker takes as a cold shutdown.
    const forward = (sig: NodeJS.Signals) => {
      if (sig === 'SIGINT' && process.stdin.isTTY) return
      child.kill(sig)
    }
    for (const sig of signals) process.on(sig, forward)
    child.once('error', reject)
    child.once('exit', (code, signal) => {
      for (const sig of signals) process.off(sig, forward)
      resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0))
    })
  })
}
