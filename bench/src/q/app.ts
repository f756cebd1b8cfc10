/**
 * The q app every q measurement uses: one no-op task, results ignored unless a backend is given
 * (as the peers: BullMQ removes completed jobs, Celery runs with task_ignore_result).
 */
import { Celery, type Task } from '@q/celery'
import { consoleLogger, type TransportDriver } from '@q/kombu'
import { TASK_NAME } from '../config.js'

/** An app on `broker` (and `backend`), with the no-op task; `onRun` is called by each run. */
export function benchApp(
  broker: string,
  options: { backend?: string; onRun?: () => void; queue?: string; transport?: TransportDriver } = {},
): { app: Celery; noop: Task<unknown[], null> } {
  const app = new Celery('bench', {
    broker,
    ...(options.backend ? { backend: options.backend } : {}),
    taskIgnoreResult: !options.backend,
    ...(options.queue ? { taskDefaultQueue: options.queue } : {}),
    brokerConnectionMaxRetries: 3,
    logger: consoleLogger('warn', 'bench'),
    ...(options.transport ? { connection: { transport: options.transport } } : {}),
  })
  const onRun = options.onRun
  const noop = app.task(TASK_NAME, (..._args: unknown[]) => {
    onRun?.()
    return null
  })
  return { app, noop }
}

/**
 * The transport of a broker URL, imported by name (so a bundled worker holds it, rather than
 * loading it at run time from wherever `import()` finds it).
 */
export async function transportFor(broker: string): Promise<TransportDriver | undefined> {
  if (broker.startsWith('redis')) return (await import('@q/kombu-redis')).transport
  if (broker.startsWith('amqp')) return (await import('@q/kombu-amqp')).transport
  return undefined
}
