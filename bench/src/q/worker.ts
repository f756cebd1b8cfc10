/**
 * The q worker process (role `q-worker` of child-main.ts): a q Worker on one queue, counting the
 * no-op tasks it runs. By default it connects on `go` and reports when `n` tasks have run (the
 * drain: the queue was filled before). With `early` it is consuming before `ready` (end to end,
 * round trip, soak), and with `progressEvery` it reports its memory as it goes.
 *
 * Counting happens in the task itself, from the moment the consumer is up (`workerReady`).
 */
import type { Role } from '../child-main.js'
import { benchApp, transportFor } from './app.js'

/** Parameters of a q worker process. */
export interface QWorkerParams {
  broker: string
  backend?: string
  queue: string
  /** Tasks to count before `done`; 0 = never done (round trip). */
  n: number
  concurrency: number
  prefetchMultiplier?: number
  /** Start consuming before saying ready. */
  early?: boolean
  /** Send a progress sample every this many tasks. */
  progressEvery?: number
  /**
   * Every this many tasks, also run a full garbage collection (node `--expose-gc`) and send a
   * sample taken right after it (`settled`): memory without the swing of the collection cycle.
   */
  gcEvery?: number
}

const fullGc = (globalThis as { gc?: () => void }).gc

export const qWorkerRole: Role = async (params, control) => {
  const p = params as unknown as QWorkerParams
  let count = 0
  let t0 = 0
  const transport = await transportFor(p.broker)
  const { app } = benchApp(p.broker, {
    ...(p.backend ? { backend: p.backend } : {}),
    ...(transport ? { transport } : {}),
    onRun: () => {
      count++
      if (p.progressEvery && count % p.progressEvery === 0) control.progress(count, performance.now() - t0)
      if (p.gcEvery && fullGc && count % p.gcEvery === 0) {
        fullGc()
        control.progress(count, performance.now() - t0, true)
      }
      if (count === p.n) control.done(performance.now() - t0, count)
    },
  })
  const worker = await app.worker({
    queues: [p.queue],
    concurrency: p.concurrency,
    ...(p.prefetchMultiplier ? { prefetchMultiplier: p.prefetchMultiplier } : {}),
    hostname: `bench-${process.pid}@%h`,
    logLevel: 'warn',
  })
  control.onStop(async () => {
    await worker.stop()
    await app.close()
  })
  if (p.early) {
    await worker.start()
    control.ready()
    await control.go()
    t0 = performance.now()
  } else {
    // Load what the worker loads lazily (the transport, the backend), so `go` times the work.
    await app.connection().connect()
    await app.backend()
    control.ready()
    await control.go()
    // Timed from workerReady (the consumer is up), as Celery's worker_ready and BullMQ's run():
    // start() first waits for mingle (1 s, as Celery's; the Worker has no option to skip it).
    const asked = performance.now()
    app.signals.on('workerReady', () => {
      t0 = performance.now()
      control.startup(t0 - asked)
    })
    await worker.start()
  }
}
