import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts', 'src/internal.ts', 'src/cli/main.ts'],
  format: ['esm', 'cjs'],
  dts: { entry: ['src/index.ts', 'src/internal.ts'] },
  sourcemap: true,
  clean: true,
  target: 'node20',
  // One copy of each class for every entry point, in CJS too (instanceof must agree across them).
  splitting: true,
})
