/**
 * sentinel://: a Redis of the test's own and a Sentinel monitoring it (`redis-server --sentinel`);
 * the transport asks the Sentinel for the master named by `masterName` and works through it.
 */
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Connection, Consumer, Producer, Queue } from '@q/kombu'
import { Inbox } from '@q/kombu-testing'
import { expect, it } from 'vitest'
import { freePort, RedisServer } from '../test/redis-server.js'

it('connects through a Sentinel to the master it names', async () => {
  await using server = await RedisServer.start()
  const port = await freePort()
  const conf = join(server.dir, 'sentinel.conf')
  writeFileSync(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${server.dir}`,
      `sentinel monitor mymaster 127.0.0.1 ${server.port} 1`,
      'sentinel down-after-milliseconds mymaster 5000',
    ].join('\n'),
  )
  const sentinel = spawn('redis-server', [conf, '--sentinel'], { stdio: ['ignore', 'pipe', 'pipe'] })
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('sentinel did not start')), 10_000)
      let out = ''
      sentinel.stdout!.on('data', (c: Buffer) => {
        out += c.toString()
        if (out.includes('+monitor')) {
          clearTimeout(timer)
          resolve()
        }
      })
    })
    // Loaded by scheme: sentinel:// is @q/kombu-redis.
    await using conn = new Connection(`sentinel://127.0.0.1:${port}/0`, {
      transportOptions: { masterName: 'mymaster' },
    })
    const queue = new Queue('through-sentinel')
    const inbox = new Inbox<string>({ ack: true })
    await new Consumer(conn, { queues: queue, onMessage: inbox.onMessage }).consume()
    await new Producer(conn).publish('hello', { routingKey: queue.name })
    const [m] = await inbox.collect(1, 5000)
    expect(m!.body).toBe('hello')
    expect(conn.transportName).toBe('redis')
  } finally {
    sentinel.kill('SIGTERM')
  }
}, 30_000)
