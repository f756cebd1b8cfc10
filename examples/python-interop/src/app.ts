/**
 * The Node side: a Celery app whose tasks Python calls by name. Broker and backend come from
 * the environment, so the same code runs on Redis or RabbitMQ.
 *
 *   BROKER_URL=redis://127.0.0.1:6379/0 RESULT_BACKEND=redis://127.0.0.1:6379/1 \
 *     npx q worker -A src/app.ts -Q node-tasks -l info
 */
import { Celery } from '@q/celery'

export const app = new Celery('interop', {
  broker: process.env.BROKER_URL ?? 'redis://127.0.0.1:6379/0',
  backend: process.env.RESULT_BACKEND ?? 'redis://127.0.0.1:6379/1',
  // Tasks without a route go to the queue this worker consumes.
  taskDefaultQueue: process.env.NODE_QUEUE ?? 'node-tasks',
})

/** Python calls it as `app.send_task('node.add', args=(2, 3), kwargs={'z': 4}, queue='node-tasks')`. */
app.task('node.add', (x: number, y: number, z: number = 0) => x + y + z, { params: ['x', 'y', 'z'] })

/** A task with a Python-style keyword argument and a JS result Python reads as a dict. */
app.task(
  'node.greet',
  (name: string, punctuation: string = '!') => ({ greeting: `Hello, ${name}${punctuation}`, from: 'node' }),
  {
    params: ['name', 'punctuation'],
  },
)

/** Fails with a TypeError: Python's AsyncResult.get() raises builtins.TypeError. */
app.task('node.fail', (reason: string) => {
  throw new TypeError(reason)
})

/** Sleeps: a long task, to see shutdowns wait for running work. */
app.task('node.sleep', async (seconds: number) => {
  await new Promise((r) => setTimeout(r, seconds * 1000))
  return seconds
})

export default app
