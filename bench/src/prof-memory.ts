/** Profiling entry (bundled by bundle.ts): q's memory end to end, `n` tasks, three times. */
import { memoryEndToEnd } from './q/memory.js'

const n = Number(process.argv[2] ?? 100_000)
for (let i = 0; i < 3; i++) console.log('e2e', Math.round(await memoryEndToEnd(n, 100)))
process.exit(0)
