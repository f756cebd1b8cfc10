import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: true,
  // Peers stay outside the bundle: the application's copies are the ones to use.
  external: ['@q/celery', 'ioredis'],
})
