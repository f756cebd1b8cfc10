import { defineProject } from 'vitest/config'
import { sharedResolve } from '../vitest.shared.ts'

export default defineProject({
  resolve: sharedResolve,
  test: {
    name: 'integration',
    include: ['src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Brokers and Python peers are shared machine resources: one file at a time.
    fileParallelism: false,
  },
})
