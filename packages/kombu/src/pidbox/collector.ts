/**
 * Collecting the replies of one call. Each call has its own reply queue (named by a fresh id)
 * on its own channel: the queue is declared and consumed before the request goes out, so no
 * early reply is lost, and deleted afterwards, which also removes its binding on brokers that
 * keep bindings as data (Redis), as Kombu's `after_reply_message_received` does.
 */
import { declare } from '../declare.js'
import { decodeBody } from '../message.js'
import type { Queue } from '../queue.js'
import type { Delivery } from '../types.js'
import type { Mailbox } from './mailbox.js'
import type { NodeReply } from './types.js'

/** One call's collection. */
export interface CollectOptions {
  /** The call's reply queue. */
  readonly queue: Queue
  /** Replies carrying another ticket belong to someone else and are ignored. */
  readonly ticket: string
  /** Milliseconds to wait for replies after the request is sent. */
  readonly timeout: number
  /** Stop at this many replies. */
  readonly limit: number | undefined
  readonly callback: ((reply: NodeReply) => void) | undefined
  readonly signal: AbortSignal | undefined
  /** Sends the request, once the reply queue is ready. */
  send(): Promise<void>
}

/** Declares the reply queue, sends the request, and gathers matching replies until done. */
export async function collectReplies(mailbox: Mailbox, o: CollectOptions): Promise<NodeReply[]> {
  const { connection } = mailbox
  const { serializers, compressors, logger } = connection
  const decoding = { serializers, compressors, accept: serializers.resolveAccept(mailbox.accept) }
  const limit = o.limit && o.limit > 0 ? o.limit : undefined
  const replies: NodeReply[] = []
  let finished = false
  let finish!: () => void
  const done = new Promise<void>((resolve) => {
    finish = () => {
      finished = true
      resolve()
    }
  })

  const onDelivery = (delivery: Delivery): void => {
    if (finished) return
    let body: unknown
    try {
      body = decodeBody(delivery, decoding)
    } catch (err) {
      logger.warn(`pidbox: cannot decode a reply: ${(err as Error).message}`)
      return
    }
    const headers = delivery.headers
    mailbox.clock.adjust(Number(headers.clock) || 0)
    const expires = Number(headers.expires)
    if (expires && Date.now() / 1000 > expires) return
    // Replies without a ticket header (Kombu before 2.5) are taken as ours, as Kombu does.
    if (headers.ticket !== undefined && headers.ticket !== o.ticket) return
    const reply = body as NodeReply
    try {
      o.callback?.(reply)
    } catch (err) {
      logger.warn('pidbox: reply callback failed', err)
    }
    replies.push(reply)
    if (limit !== undefined && replies.length >= limit) finish()
  }

  const channel = await connection.channel()
  let timer: NodeJS.Timeout | undefined
  let tag: string | undefined
  try {
    await declare(channel, o.queue)
    tag = await channel.consume(o.queue.name, onDelivery, { noAck: true })
    await o.send()
    timer = setTimeout(finish, o.timeout)
    o.signal?.addEventListener('abort', finish, { once: true })
    if (o.signal?.aborted) finish()
    await done
    return replies
  } finally {
    finished = true
    clearTimeout(timer)
    o.signal?.removeEventListener('abort', finish)
    // Cancel first: a broker that deletes a queue under its consumer tells that consumer so,
    // which reads as trouble in the logs. AMQP then drops the auto-delete queue by itself.
    if (tag) await channel.cancel(tag).catch(() => {})
    await channel.deleteQueue(o.queue.name).catch(() => {})
    await channel.close().catch(() => {})
  }
}
