import * as kombu from '@q/kombu'
import { describe, expect, it } from 'vitest'
import { runPubSub } from './pubsub.js'

describe('pubsub', () => {
  it('routes each event to the subscribers whose pattern matches', async () => {
    const received = await runPubSub(kombu, `memory://pubsub-test-${Date.now()}`, () => {})
    expect(received.errors.sort()).toEqual(['auth.error', 'billing.error'])
    expect(received.billing.sort()).toEqual(['billing', 'billing.error', 'billing.invoice.sent'])
  })
})
