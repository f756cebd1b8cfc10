/**
 * A consumer process that dies (SIGKILL) holding unacknowledged messages: the broker redelivers
 * them to the next consumer, flagged redelivered.
 */
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { Connection, Consumer, Producer, Queue } from '@q/kombu'
import { Inbox } from '@q/kombu-testing'
import { afterEach, expect, it } from 'vitest'
import { amqpUrl } from '../test/broker.js'
import { transport } from './index.js'

const fixture = fileURLToPath(new URL('../test/fixtures/hold-messages.ts', import.meta.url))
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url))
const opened: Connection[] = []
afterEach(async () => {
  for (const c of opened.splice(0)) await c.close()
})

/** Starts the consumer process; resolves once it holds `count` messages. */
function holder(queue: string, count: number) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions', '@q/source', fixture, amqpUrl(), queue, String(count)],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  const holding = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes(`held ${count}`) && resolve())
    child.on('exit', (code) =>
      reject(new Error(`consumer process exited (${code}) before holding ${count}: ${stderr}`)),
    )
  })
  return { child, holding }
}

it('messages held by a consumer that dies are redelivered, flagged redelivered', async () => {
  const conn = new Connection(amqpUrl(), { transport })
  opened.push(conn)
  const queue = new Queue(`q-redeliver-${randomUUID().slice(0, 8)}`, { autoDelete: false })
  await (await conn.channel()).declareQueue(queue)
  const producer = new Producer(conn)
  for (let i = 0; i < 5; i++) await producer.publish(i, { routingKey: queue.name, confirm: true })

  const { child, holding } = holder(queue.name, 5)
  await holding
  child.kill('SIGKILL')

  const inbox = new Inbox<number>({ ack: true, timeout: 10_000 })
  const consumer = await new Consumer(conn, { queues: queue, onMessage: inbox.onMessage }).consume()
  const got = await inbox.collect(5)
  expect(got.map((m) => m.body).sort()).toEqual([0, 1, 2, 3, 4])
  expect(got.every((m) => m.redelivered)).toBe(true)
  await consumer.close()
  await (await conn.channel()).deleteQueue(queue.name)
}, 30_000)
