import { defineProject } from 'vitest/config'
import { sharedResolve } from '../../vitest.shared.ts'

/**
 * Integration tests against the machine's Redis (REDIS_URL, default redis://127.0.0.1:6379) and
 * Redis servers the tests start themselves. One file at a time: they share that Redis.
 */
export default defineProject({
  resolve: sharedResolve,
  test: {
    name: 'kombu-redis:int',
    include: ['src/**/*.int.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
})
