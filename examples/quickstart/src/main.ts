/**
 * Quickstart: Celery-style tasks on the built-in memory broker, producer and worker in one
 * process. Shows a task, a retry and progress updates.
 *
 *   pnpm demo
 */
import { runQuickstart } from './quickstart.js'

const summary = await runQuickstart(console.log, process.argv[2])
console.log(`\ndone: 2 + 3 = ${summary.sum}; ${summary.progress.length} progress updates`)
