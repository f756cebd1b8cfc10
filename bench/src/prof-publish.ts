/**
 * Profiling entry (bundled by bundle.ts, run with `node --cpu-prof`): q's publish on one broker,
 * `n` tasks with `delay` awaited one at a time, then `n` with 1,000 in flight.
 *
 *   node --cpu-prof results/tmp/bundles/prof-publish.mjs redis://127.0.0.1:6379/8 20000 [single|batched]
 *
 * With a third argument, only that form runs (three times: the profile is then of warm code).
 */
import { benchApp, transportFor } from './q/app.js'
import { qPublishBatched, qPublishSingle } from './q/publish.js'
import { rate } from './stats.js'

const [broker = 'redis://127.0.0.1:6379/8', count = '20000', only] = process.argv.slice(2)
const n = Number(count)
const transport = await transportFor(broker)
const { app, noop } = benchApp(broker, transport ? { transport } : {})
const queue = `qb-prof-${process.pid}`
await app.connection().connect()
const channel = await app.connection().channel()
for (let i = 0; i < (only ? 3 : 1); i++) {
  if (only !== 'batched') console.log('single', Math.round(rate(n, await qPublishSingle(noop, queue, n))))
  if (only !== 'single') console.log('batched', Math.round(rate(n, await qPublishBatched(noop, queue, n))))
  await channel.purgeQueue(queue)
}
await channel.deleteQueue(queue).catch(() => {})
await channel.deleteExchange(queue).catch(() => {}) // Celery declared it with the queue
await app.close()
process.exit(0)
