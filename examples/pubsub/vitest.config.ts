import { defineProject } from 'vitest/config'
import { sharedResolve } from '../../vitest.shared.ts'

export default defineProject({
  resolve: sharedResolve,
  test: { name: 'example-pubsub', include: ['src/**/*.test.ts'] },
})
