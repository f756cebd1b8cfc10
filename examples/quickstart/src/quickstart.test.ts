import { describe, expect, it } from 'vitest'
import { runQuickstart } from './quickstart.js'

describe('quickstart', () => {
  it('runs a task, a retried task and a task reporting progress', async () => {
    const lines: string[] = []
    const url = `memory://quickstart-test-${Date.now()}`
    const summary = await runQuickstart((l) => lines.push(l), url)
    expect(summary.sum).toBe(5)
    expect(summary.page).toBe('<html>https://example.com: fetched after 2 retries</html>')
    expect(summary.resized).toEqual({ resized: 5 })
    // Progress is pushed as it happens; the last update may race with the final result.
    expect(summary.progress.length).toBeGreaterThanOrEqual(3)
    expect(summary.progress[0]).toBe('1/5')
  })
})
