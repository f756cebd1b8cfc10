/**
 * Drain throughput: 20,000 messages published first, then consumed with prefetch 100, each acked.
 *
 *   node --conditions=@q/source --import tsx test/bench-drain.ts [redis://127.0.0.1:6379/14] [count]
 */
import { Connection, Consumer, Producer, Queue } from '@q/kombu'
import { Redis } from 'ioredis'
import { transport } from '../src/index.js'

const url = process.argv[2] ?? 'redis://127.0.0.1:6379/14'
const total = Number(process.argv[3] ?? 20_000)
const prefix = `q-bench-${process.pid}:`
const connection = new Connection(url, { transport, transportOptions: { globalKeyprefix: prefix } })
const queue = new Queue('bench-drain')
const producer = new Producer(connection)
const body = { task: 'bench.noop', args: [1, 2], kwargs: { pad: 'x'.repeat(200) } }

let t = performance.now()
const inflight: Promise<void>[] = []
for (let i = 0; i < total; i++) {
  inflight.push(producer.publish(body, { routingKey: queue.name }))
  if (inflight.length >= 500) await Promise.all(inflight.splice(0))
}
await Promise.all(inflight)
const publishRate = total / ((performance.now() - t) / 1000)

let received = 0
let done!: () => void
const finished = new Promise<void>((r) => {
  done = r
})
t = performance.now()
await new Consumer(connection, {
  queues: queue,
  prefetchCount: 100,
  onMessage: async (_body, message) => {
    await message.ack()
    if (++received === total) done()
  },
}).consume()
await finished
const drainRate = total / ((performance.now() - t) / 1000)
await connection.close()

const redis = new Redis(url)
const keys = await redis.keys(`${prefix}*`)
if (keys.length) await redis.del(...keys)
redis.disconnect()
console.log(
  JSON.stringify({ total, publishPerSecond: Math.round(publishRate), drainPerSecond: Math.round(drainRate) }),
)
