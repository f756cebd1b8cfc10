/**
 * The quickstart itself, as a function so the test can run it too.
 */
import type * as kombu from '@q/kombu'

type Api = Pick<typeof kombu, 'Connection' | 'Consumer' | 'Exchange' | 'Producer' | 'Queue'>

/** What the run did. */
export interface Summary {
  handled: number
  rejected: number
  total: number
}

interface Order {
  id: number
  item: string
  price: number
}

/** Publishes five orders and one broken message, consumes them all, and reports. */
export async function runQuickstart(q: Api, url: string, log: (line: string) => void): Promise<Summary> {
  await using connection = new q.Connection(url)
  const exchange = new q.Exchange('shop', { type: 'direct' })
  const orders = new q.Queue('orders', { exchange, routingKey: 'order.created' })
  const summary: Summary = { handled: 0, rejected: 0, total: 0 }
  const expected = 6
  let done!: () => void
  const finished = new Promise<void>((resolve) => {
    done = resolve
  })
  const settle = () => {
    if (summary.handled + summary.rejected === expected) done()
  }

  const consumer = new q.Consumer<Order>(connection, {
    queues: [orders],
    accept: ['json'],
    prefetchCount: 10,
    onMessage: async (order, message) => {
      summary.total += order.price
      summary.handled++
      log(`handled order #${order.id}: ${order.item} (${order.price.toFixed(2)})`)
      await message.ack()
      settle()
    },
    onDecodeError: async (message, error) => {
      log(`rejected a message we cannot read (${message.contentType}): ${error.name}`)
      await message.reject()
      summary.rejected++
      settle()
    },
  })
  await consumer.consume()

  const producer = new q.Producer(connection, { exchange, routingKey: 'order.created' })
  const items = ['tea', 'scones', 'jam', 'cream', 'butter']
  for (const [i, item] of items.entries()) {
    await producer.publish({ id: i + 1, item, price: 2 + i * 1.5 }, { declare: [orders] })
  }
  // A message whose content type no one accepted: it is rejected, the others go on.
  await producer.publish(Buffer.from([0xde, 0xad]), { contentType: 'application/x-unknown' })
  await finished
  return summary
}
