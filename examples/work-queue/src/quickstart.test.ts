import * as kombu from '@q/kombu'
import { describe, expect, it } from 'vitest'
import { runQuickstart } from './quickstart.js'

describe('quickstart', () => {
  it('handles every order and rejects the unreadable message', async () => {
    const lines: string[] = []
    const summary = await runQuickstart(kombu, `memory://quickstart-test-${Date.now()}`, (l) => lines.push(l))
    expect(summary).toEqual({ handled: 5, rejected: 1, total: 2 + 3.5 + 5 + 6.5 + 8 })
    expect(lines.filter((l) => l.startsWith('handled order'))).toHaveLength(5)
    expect(lines.some((l) => l.includes('ContentDisallowedError'))).toBe(true)
  })
})
