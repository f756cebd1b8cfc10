/**
 * Profiling entry (bundled by bundle.ts, run with `node --cpu-prof`): q's publish on one broker,
 * `n` tasks with `delay` awaited one at a time, then `n` with 1,000 in flight.
 *
 *   node --cpu-prof results/tmp/bundles/prof-publish.mjs redis://127.0.0.1:6379/8 20000
 */
import { benchApp, transportFor } from './q/app.js'
import { qPublishBatched, qPublishSingle } from './q/publish.js'
import { rate } from './stats.js'

const [broker = 'redis://127.0.0.1:6379/8', count = '20000'] = process.argv.slice(2)
const n = Number(count)
const transport = await transportFor(broker)
const { app, noop } = benchApp(broker, transport ? { transport } : {})
const queue = `qb-prof-${process.pid}`
await app.connection().connect()
console.log('single', Math.round(rate(n, await qPublishSingle(noop, queue, n))))
console.log('batched', Math.round(rate(n, await qPublishBatched(noop, queue, n))))
const channel = await app.connection().channel()
await channel.deleteQueue(queue).catch(() => {})
await app.close()
process.exit(0)
