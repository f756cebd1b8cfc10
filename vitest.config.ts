import { defineConfig } from 'vitest/config'

// Lets `vitest` at the root (and editors) see every project at once; CI goes through turbo.
export default defineConfig({
  test: {
    projects: ['packages/*', 'test-integration', 'examples/*'],
  },
})
