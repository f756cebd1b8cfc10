import { defineProject } from 'vitest/config'
import { sharedResolve } from '../../vitest.shared.ts'

/** Unit tests: no Redis needed. Integration tests (`*.int.test.ts`) run with vitest.int.config.ts. */
export default defineProject({
  resolve: sharedResolve,
  test: { name: 'backend-redis', include: ['src/**/*.test.ts'], exclude: ['src/**/*.int.test.ts'] },
})
