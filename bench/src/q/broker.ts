/**
 * One broker as the q measurements use it: the publishing app in this process, and how to read
 * a queue's depth and remove a queue afterwards (with the raw clients, not with q).
 */
import type { Celery, Task } from '@q/celery'
import type { AmqpAdmin, RedisAdmin } from '../brokers.js'
import { benchApp } from './app.js'

/** A broker for q's measurements. */
export interface QBroker {
  readonly kind: 'redis' | 'amqp'
  readonly url: string
  readonly app: Celery
  readonly noop: Task<unknown[], null>
  waitDepth(queue: string, n: number): Promise<void>
  depth(queue: string): Promise<number>
  /** Removes what a run left of `queue`. */
  cleanup(queue: string): Promise<void>
  close(): Promise<void>
}

/** q on Redis. */
export function redisBroker(url: string, admin: RedisAdmin): QBroker {
  const { app, noop } = benchApp(url)
  return {
    kind: 'redis',
    url,
    app,
    noop,
    waitDepth: (queue, n) => admin.waitDepth(queue, n),
    depth: (queue) => admin.depth(queue),
    cleanup: async (queue) => {
      await admin.client.del(queue, `_kombu.binding.${queue}`)
    },
    close: () => app.close(),
  }
}

/** q on RabbitMQ. */
export function amqpBroker(url: string, admin: AmqpAdmin, app: Celery, noop: Task<unknown[], null>): QBroker {
  return {
    kind: 'amqp',
    url,
    app,
    noop,
    waitDepth: (queue, n) => admin.waitDepth(queue, n),
    depth: (queue) => admin.depth(queue),
    cleanup: async (queue) => {
      await admin.deleteQueue(queue)
      await admin.deleteExchange(queue)
    },
    close: () => app.close(),
  }
}
