import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  splitting: true,
  // amqplib.ts finds amqplib with createRequire(import.meta.url), which the CJS build needs shimmed.
  shims: true,
  external: ['@q/kombu', 'amqplib'],
})
