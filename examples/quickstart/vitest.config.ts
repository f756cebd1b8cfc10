import { defineProject } from 'vitest/config'
import { sharedResolve } from '../../vitest.shared.ts'

export default defineProject({
  resolve: sharedResolve,
  test: { name: 'example-quickstart', include: ['src/**/*.test.ts'] },
})
