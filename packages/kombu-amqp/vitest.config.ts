import { defineProject } from 'vitest/config'
import { sharedResolve } from '../../vitest.shared.ts'

// Unit tests only: they need no broker. The *.int.test.ts files run with vitest.integration.config.ts.
export default defineProject({
  resolve: sharedResolve,
  test: { name: 'kombu-amqp', include: ['src/**/*.test.ts'], exclude: ['src/**/*.int.test.ts'] },
})
