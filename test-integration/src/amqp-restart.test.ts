/**
 * RabbitMQ restarts (`rabbitmqctl stop_app`, then `start_app`) while 10,000 persistent messages
 * flow with publisher confirms and manual acks. Every message arrives at least once, none is
 * lost, and producer and consumer resume by themselves: the test only restarts the broker (a
 * quarter of the way through, with the consumer holding a full prefetch window unacknowledged,
 * so that the redelivery after the restart is exercised every time).
 */
import { execFile, execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import { Connection, Consumer, Producer, Queue } from '@q/kombu'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const BASE = (process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672').replace(/\/+$/, '')
const TOTAL = 10_000
const WINDOW = 100 // publishes awaiting their confirm at once

const ctl = (...args: string[]) => promisify(execFile)('rabbitmqctl', ['-q', ...args], { timeout: 60_000 })
function hasCtl(): boolean {
  try {
    execFileSync('rabbitmqctl', ['-q', 'status'], { stdio: 'ignore', timeout: 30_000 })
    return true
  } catch {
    if (process.env.CI)
      throw new Error('CI needs rabbitmqctl (RabbitMQ from Debian, run as root) for the restart test')
    return false
  }
}

const available = hasCtl()
const quiet = { debug() {}, info() {}, warn() {}, error() {} }

describe.skipIf(!available)(
  `RabbitMQ restart${available ? '' : ' [skipped: rabbitmqctl is not usable here]'}`,
  () => {
    const vhost = `q-test-restart-${randomBytes(3).toString('hex')}`
    const url = `${BASE}/${vhost}`
    const opened: Connection[] = []

    beforeAll(async () => {
      await ctl('add_vhost', vhost)
      await ctl('set_permissions', '-p', vhost, 'guest', '.*', '.*', '.*')
    })
    afterAll(async () => {
      for (const c of opened) await c.close().catch(() => {})
      await ctl('delete_vhost', vhost).catch(() => {})
    })

    function connection(): Connection {
      const conn = new Connection(url, { reconnect: { intervalStep: 100, intervalMax: 1000 }, logger: quiet })
      conn.on('error', () => {}) // losses are expected here; the events are counted below
      opened.push(conn)
      return conn
    }

    it('10,000 persistent messages with confirms and acks: every one arrives, producer and consumer resume', async () => {
      const queue = new Queue(`q-restart-${randomBytes(3).toString('hex')}`, { durable: true })
      const seen = new Map<number, number>()
      let redelivered = 0
      let ackFailures = 0
      let allIn!: () => void
      const complete = new Promise<void>((r) => {
        allIn = r
      })

      let restarted: Promise<void> | undefined
      let brokerStopped!: () => void
      const stopped = new Promise<void>((r) => {
        brokerStopped = r
      })
      const restart = async () => {
        await ctl('stop_app')
        brokerStopped()
        try {
          await new Promise((r) => setTimeout(r, 500))
        } finally {
          await ctl('start_app')
        }
      }

      const consumerConn = connection()
      const reconnects = { consumer: 0, producer: 0 }
      consumerConn.on('connected', ({ reconnected }) => reconnected && reconnects.consumer++)
      await new Consumer<{ seq: number }>(consumerConn, {
        queues: queue,
        prefetchCount: 200,
        onMessage: async (body, message) => {
          seen.set(body.seq, (seen.get(body.seq) ?? 0) + 1)
          if (message.redelivered) redelivered++
          // Restart the broker a quarter of the way through, from here: the consumer is mid-stream
          // (messages delivered and not yet acked) and the producer, ahead of it, still publishing.
          if (seen.size === TOTAL / 4) restarted ??= restart()
          // Messages that arrive meanwhile are held unacknowledged until the broker is down.
          if (restarted) await stopped
          // An ack on a channel lost with the broker fails: the broker redelivers that message.
          await message.ack().catch(() => ackFailures++)
          if (seen.size === TOTAL) allIn()
        },
      }).consume()

      const producerConn = connection()
      producerConn.on('connected', ({ reconnected }) => reconnected && reconnects.producer++)
      const producer = new Producer(producerConn)
      const publish = (seq: number) =>
        producer.publish(
          { seq },
          {
            routingKey: queue.name,
            declare: [queue],
            deliveryMode: 'persistent',
            confirm: true,
            retry: true,
            retryPolicy: { maxRetries: 200, intervalStep: 100, intervalMax: 500 },
          },
        )

      try {
        const inFlight = new Set<Promise<void>>()
        for (let seq = 0; seq < TOTAL; seq++) {
          const p: Promise<void> = publish(seq).finally(() => inFlight.delete(p))
          inFlight.add(p)
          if (inFlight.size >= WINDOW) await Promise.race(inFlight)
        }
        await Promise.all(inFlight)
        expect(restarted, 'the broker was restarted while messages flowed').toBeDefined()
        await restarted
        await Promise.race([
          complete,
          new Promise((_, reject) =>
            setTimeout(() => reject(new Error(`only ${seen.size} of ${TOTAL} arrived`)), 60_000),
          ),
        ])
      } finally {
        // Whatever happened, leave the broker running.
        await restarted?.catch(() => {})
        await ctl('start_app').catch(() => {})
      }

      expect(seen.size).toBe(TOTAL)
      const missing = Array.from({ length: TOTAL }, (_, i) => i).filter((i) => !seen.has(i))
      expect(missing).toEqual([])
      expect(reconnects).toEqual({ consumer: 1, producer: 1 })
      // The messages held when the broker went down came again, flagged.
      expect(redelivered).toBeGreaterThan(0)
      const duplicates = [...seen.values()].reduce((n, c) => n + c - 1, 0)
      console.info(
        `restart: ${TOTAL} delivered, ${duplicates} duplicates, ${redelivered} flagged redelivered, ${ackFailures} acks lost with the connection`,
      )
    }, 180_000)
  },
)
