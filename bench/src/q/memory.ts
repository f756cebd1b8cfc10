/**
 * q on the memory transport, in one process: @q/celery's publish, drain and end to end (worker
 * and client share the process, as `memory://` requires), and @q/kombu's own Producer/Consumer
 * loop underneath it, for reference. The group runs whole in a child process of its own
 * (`qMemoryRole`): run in the bench's process, it left that process's heap and compiled code
 * shaped by the memory transport for every group after it (q's batched publish on Redis
 * measured ~20% slower behind it).
 */
import { Connection, Consumer, Producer, Queue } from '@q/kombu'
import type { Role } from '../child-main.js'
import { PADDING } from '../config.js'
import { rate } from '../stats.js'
import { benchApp } from './app.js'
import { prefetchMultiplier } from './drain.js'
import { qPublishBatched, qPublishSingle } from './publish.js'

let instance = 0
const queue = 'bench'

/** Waits until `count()` reaches `n`. */
function reach(count: () => number, n: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (count() >= n ? resolve() : setImmediate(check))
    check()
  })
}

/** Publish rates (single and batched) of q's `delay` on memory://. */
export async function memoryPublish(n: number): Promise<{ single: number; batched: number }> {
  const { app, noop } = benchApp(`memory://bench-pub-${instance++}`)
  try {
    const single = rate(n, await qPublishSingle(noop, queue, n))
    const batched = rate(n, await qPublishBatched(noop, queue, n))
    return { single, batched }
  } finally {
    await app.close()
  }
}

/** Drain rate of a q worker of `concurrency` on a memory:// queue filled with `n` tasks. */
export async function memoryDrain(n: number, concurrency: number): Promise<number> {
  let count = 0
  const { app, noop } = benchApp(`memory://bench-drain-${instance++}`, { onRun: () => void count++ })
  await qPublishBatched(noop, queue, n)
  const worker = await app.worker({
    queues: [queue],
    concurrency,
    prefetchMultiplier: prefetchMultiplier(),
    logLevel: 'warn',
  })
  try {
    const t0 = performance.now()
    await worker.start()
    await reach(() => count, n)
    return rate(n, performance.now() - t0)
  } finally {
    await worker.stop()
    await app.close()
  }
}

/** End to end on memory://: a worker of `concurrency` runs while `n` tasks are published. */
export async function memoryEndToEnd(n: number, concurrency: number): Promise<number> {
  let count = 0
  const { app, noop } = benchApp(`memory://bench-e2e-${instance++}`, { onRun: () => void count++ })
  const worker = await app.worker({
    queues: [queue],
    concurrency,
    prefetchMultiplier: prefetchMultiplier(),
    logLevel: 'warn',
  })
  await worker.start()
  try {
    const t0 = performance.now()
    await qPublishBatched(noop, queue, n)
    await reach(() => count, n)
    return rate(n, performance.now() - t0)
  } finally {
    await worker.stop()
    await app.close()
  }
}

/** @q/kombu alone on memory://: Producer.publish then a Consumer (prefetch 100) acking each. */
export async function kombuMemory(n: number): Promise<{ publish: number; drain: number; endToEnd: number }> {
  await using conn = new Connection(`memory://bench-kombu-${instance++}`)
  const q = new Queue('bench', { durable: false })
  const producer = new Producer(conn)
  const body = [[PADDING], {}, { callbacks: null, errbacks: null, chain: null, chord: null }]
  let t0 = performance.now()
  for (let i = 0; i < n; i++)
    await producer.publish(body, { routingKey: 'bench', declare: i === 0 ? [q] : undefined })
  const publishMs = performance.now() - t0
  let got = 0
  t0 = performance.now()
  await new Promise<void>((resolve) => {
    const consumer = new Consumer(conn, {
      queues: [q],
      prefetchCount: 100,
      onMessage: (_b, m) => {
        void m.ack()
        if (++got === n) resolve()
      },
    })
    void consumer.consume()
  })
  const drainMs = performance.now() - t0
  return { publish: rate(n, publishMs), drain: rate(n, drainMs), endToEnd: rate(n, publishMs + drainMs) }
}

/** Parameters of the memory group's child process. */
export interface QMemoryParams {
  n: number
  reps: number
  concurrencies: number[]
}

/**
 * The whole memory group, `reps` times each measurement, in this process: one `result` message
 * per measurement and repetition, then `done`.
 */
export const qMemoryRole: Role = async (params, control) => {
  const { n, reps, concurrencies } = params as unknown as QMemoryParams
  control.ready()
  await control.go()
  const t0 = performance.now()
  for (let rep = 0; rep < reps; rep++) {
    const p = await memoryPublish(n)
    control.result({ 'q.memory.publish.single': p.single, 'q.memory.publish.batched': p.batched })
  }
  for (const c of concurrencies)
    for (let rep = 0; rep < reps; rep++) control.result({ [`q.memory.drain.c${c}`]: await memoryDrain(n, c) })
  for (let rep = 0; rep < reps; rep++) control.result({ 'q.memory.e2e': await memoryEndToEnd(n, 100) })
  for (let rep = 0; rep < reps; rep++) {
    const k = await kombuMemory(n)
    control.result({
      'kombu.memory.publish': k.publish,
      'kombu.memory.drain': k.drain,
      'kombu.memory.e2e': k.endToEnd,
    })
  }
  control.done(performance.now() - t0, 0)
}
