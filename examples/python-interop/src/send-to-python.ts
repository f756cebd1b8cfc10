/**
 * The Node side as a client: sends a task defined in Python (`tasks.mul`) and waits for it.
 *
 *   npx tsx src/send-to-python.ts
 */
import { app } from './app.js'

const queue = process.env.PYTHON_QUEUE ?? 'python-tasks'
const result = await app.sendTask<number>('tasks.mul', [6, 7], {}, { queue })
console.log(`tasks.mul(6, 7) = ${await result.get({ timeout: 30_000 })} (computed in Python)`)
const failing = await app.sendTask('tasks.divide', [1, 0], {}, { queue })
try {
  await failing.get({ timeout: 30_000 })
} catch (err) {
  const e = err as Error & { excModule?: string }
  console.log(`tasks.divide(1, 0) raised ${e.name} from ${e.excModule}: ${e.message}`)
}
await app.close()
