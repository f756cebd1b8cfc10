import { defineProject } from 'vitest/config'
import { sharedResolve } from '../../vitest.shared.ts'

export default defineProject({
  resolve: sharedResolve,
  test: { name: 'kombu-sqs', include: ['src/**/*.test.ts'] },
})
