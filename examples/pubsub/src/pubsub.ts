/**
 * Publish/subscribe with a topic exchange: `*` matches one word, `#` zero or more. Each
 * subscriber has its own queue bound with its own pattern, so one publish can reach both.
 */
import type * as kombu from '@q/kombu'

type Api = Pick<typeof kombu, 'Connection' | 'Consumer' | 'Exchange' | 'Producer' | 'Queue'>

/** An event published to the `events` exchange. */
export interface Event {
  source: string
  text: string
}

/** Who received what, by subscriber. */
export type Received = Record<'errors' | 'billing', string[]>

/** Publishes six events and returns which subscriber received which. */
export async function runPubSub(q: Api, url: string, log: (line: string) => void): Promise<Received> {
  await using connection = new q.Connection(url)
  const events = new q.Exchange('events', { type: 'topic', durable: false })
  const received: Received = { errors: [], billing: [] }
  const routes: Array<[keyof Received, string]> = [
    ['errors', '*.error'], // any service's errors
    ['billing', 'billing.#'], // everything billing says
  ]
  const publishes: Array<[string, string]> = [
    ['billing.error', 'card declined'],
    ['billing.invoice.sent', 'invoice 42 sent'],
    ['auth.error', 'token expired'],
    ['auth.login', 'alice logged in'],
    ['billing', 'billing service started'],
    ['search.slow.error', 'not matched: * is exactly one word'],
  ]
  const expected = 5 // billing.error reaches both subscribers
  let count = 0
  let done!: () => void
  const finished = new Promise<void>((r) => {
    done = r
  })

  for (const [name, pattern] of routes) {
    const queue = new q.Queue(`pubsub.${name}`, {
      exchange: events,
      routingKey: pattern,
      autoDelete: true,
      durable: false,
    })
    const consumer = new q.Consumer<Event>(connection, {
      queues: [queue],
      noAck: true,
      onMessage: (event, message) => {
        received[name].push(message.deliveryInfo.routingKey)
        log(`[${name.padEnd(7)}] ${pattern.padEnd(10)} <- ${message.deliveryInfo.routingKey}: ${event.text}`)
        if (++count === expected) done()
      },
    })
    await consumer.consume()
  }

  const producer = new q.Producer(connection, { exchange: events })
  for (const [routingKey, text] of publishes) {
    await producer.publish({ source: routingKey.split('.')[0] ?? routingKey, text } satisfies Event, {
      routingKey,
    })
  }
  await finished
  return received
}
