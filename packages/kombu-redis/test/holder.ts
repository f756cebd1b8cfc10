/**
 * A consumer that takes messages and never acknowledges them, for the kill -9 test: prints
 * `held <n>` once it holds `n` messages, then lives until it is killed.
 *
 *   node --conditions=@q/source --import tsx test/holder.ts <url> <globalKeyprefix> <queue> <n> <visibilityTimeout>
 */
import { Connection, Consumer } from '@q/kombu'
import { transport } from '../src/index.js'

const [url, globalKeyprefix, queue, n, visibilityTimeout] = process.argv.slice(2)
const connection = new Connection(url!, {
  transport,
  transportOptions: { globalKeyprefix, visibilityTimeout: Number(visibilityTimeout) },
})
let held = 0
await new Consumer(connection, {
  queues: queue!,
  prefetchCount: Number(n),
  onMessage: () => {
    held++
    if (held === Number(n)) process.stdout.write(`held ${held}\n`)
  },
}).consume()
setInterval(() => {}, 1 << 30)
