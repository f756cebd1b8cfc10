/**
 * The README's first command runs the quickstart: run the examples as a newcomer would, as
 * real processes, and check what they print.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../', import.meta.url))

// Under `pnpm test:integration`, pnpm tells us where it is; otherwise fall back to npx.
const pnpm = process.env.npm_execpath?.includes('pnpm')
  ? [process.execPath, process.env.npm_execpath]
  : ['npx', '-y', `pnpm@${process.env.npm_config_user_agent?.match(/pnpm\/([\d.]+)/)?.[1] ?? '10.34.8'}`]

function run(example: string): string {
  const [cmd, ...pre] = pnpm as [string, ...string[]]
  const r = spawnSync(cmd, [...pre, '--filter', `@q/example-${example}`, 'start'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, Q_LOG_LEVEL: 'error' },
  })
  expect(r.status, r.stderr).toBe(0)
  return r.stdout
}

describe('examples run as processes', () => {
  it('quickstart (pnpm demo) runs a task, a retry and progress updates', () => {
    const out = run('quickstart')
    expect(out).toMatch(/tasks\.add -> 5/)
    expect(out).toMatch(/fetched after 2 retries/)
    expect(out).toMatch(/PROGRESS 1\/5/)
    expect(out).toMatch(/done: 2 \+ 3 = 5/)
  })

  it('work-queue handles five orders and rejects one message', () => {
    expect(run('work-queue')).toMatch(/done: 5 orders handled, 1 rejected, total 25/)
  })

  it('pubsub routes by topic pattern', () => {
    expect(run('pubsub')).toMatch(/errors got 2, billing got 3/)
  })
})
