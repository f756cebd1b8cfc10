import { defineProject } from 'vitest/config'
import { sharedResolve } from '../../vitest.shared.ts'

/**
 * Integration tests against the machine's Redis (REDIS_URL, default redis://127.0.0.1:6379) on
 * database 15, which they flush. One file at a time: they share that database.
 */
export default defineProject({
  resolve: sharedResolve,
  test: {
    name: 'backend-redis:int',
    include: ['src/**/*.int.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    fileParallelism: false,
  },
})
