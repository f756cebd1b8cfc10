import { describe, expect, it } from 'vitest'
import { skippedTitle, skipReason } from './suite.js'

describe('skipReason', () => {
  const has = { ok: true, reason: 'never shown' }
  const lacks = { ok: false, reason: 'transport has no TTL' }

  it('runs a test whose requirements are met and which is not in the skip list', () => {
    expect(skipReason('t', undefined, [])).toBeUndefined()
    expect(skipReason('t', has, [{ test: 'other', reason: 'x' }])).toBeUndefined()
    expect(skipReason('t', [has, has], [])).toBeUndefined()
  })

  it('gives the reason of the first unmet requirement', () => {
    expect(skipReason('t', lacks, [])).toBe('transport has no TTL')
    expect(skipReason('t', [has, lacks, { ok: false, reason: 'second' }], [])).toBe('transport has no TTL')
  })

  it('prefers the skip list entry, matched on the exact title', () => {
    const skips = [{ test: 't', reason: 'flaky on this broker (issue #12)' }]
    expect(skipReason('t', lacks, skips)).toBe('flaky on this broker (issue #12)')
    expect(skipReason('t2', undefined, skips)).toBeUndefined()
  })

  it('puts the reason in the reported name', () => {
    expect(skippedTitle('TTL: a message past its expiration is not delivered', 'transport has no TTL')).toBe(
      'TTL: a message past its expiration is not delivered (skipped: transport has no TTL)',
    )
  })
})
