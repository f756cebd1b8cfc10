/**
 * A consumer process that holds messages: alive, it keeps them past the visibility timeout
 * (its lease renewals); killed with SIGKILL, its messages come back to another consumer one
 * visibility timeout later. The holder is a real child process (test/holder.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { Consumer, Producer, Queue } from '@q/kombu'
import { eventually, Inbox } from '@q/kombu-testing'
import { afterAll, afterEach, expect, it } from 'vitest'
import { connect, deletePrefix, rawClient, redisUrl, uniquePrefix } from './test/redis-env.js'

const DB = 12
const prefix = uniquePrefix('kill')
const VT = 2
const root = fileURLToPath(new URL('..', import.meta.url))
const children = new Set<ChildProcess>()

afterEach(() => {
  for (const c of children) c.kill('SIGKILL')
  children.clear()
})
afterAll(() => deletePrefix(DB, prefix))

/** Starts test/holder.ts; resolves once it holds `n` messages of `queue`. */
function holder(queue: string, n: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@q/source',
      '--import',
      'tsx',
      'test/holder.ts',
      redisUrl(DB),
      prefix,
      queue,
      String(n),
      String(VT),
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  )
  children.add(child)
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('the holder did not take its messages within 20 s')),
      20_000,
    )
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes(`held ${n}`)) {
        clearTimeout(timer)
        resolve(child)
      }
    })
    child.on('exit', (code) => reject(new Error(`the holder exited with ${code}`)))
  })
}

it('a live holder keeps its messages past the visibility timeout; after kill -9 they go to another consumer', async () => {
  const redis = rawClient(DB)
  await using conn = connect(DB, { globalKeyprefix: prefix, visibilityTimeout: VT })
  const queue = new Queue(`held-${Date.now()}`)
  const producer = new Producer(conn)
  for (const i of [0, 1, 2]) await producer.publish({ i }, { routingKey: queue.name })
  const child = await holder(queue.name, 3)
  expect(await redis.hlen(`${prefix}unacked`)).toBe(3)

  const inbox = new Inbox<{ i: number }>({ ack: true, timeout: 15_000 })
  await new Consumer(conn, { queues: queue, onMessage: inbox.onMessage }).consume()
  // Alive for two visibility timeouts and more, while this consumer's restore scan runs.
  await new Promise((r) => setTimeout(r, VT * 2500))
  expect(inbox.messages).toHaveLength(0)

  const killedAt = Date.now()
  child.kill('SIGKILL')
  const got = await inbox.collect(3)
  const after = inbox.arrivals[0]! - killedAt
  expect(got.map((m) => m.body.i).sort()).toEqual([0, 1, 2])
  expect(got.every((m) => m.redelivered)).toBe(true)
  // Not before its last renewal expired (at most one lease interval, VT/3, before the kill)...
  expect(after).toBeGreaterThan((VT * 1000 * 2) / 3 - 100)
  // ...and soon after (the scan runs every VT/4; a holder killed mid-scan holds its lock for VT/2).
  expect(after).toBeLessThan(VT * 1000 + 2500)
  await eventually(() => redis.hlen(`${prefix}unacked`), 0, { what: 'unacked entries' })
  redis.disconnect()
}, 40_000)
