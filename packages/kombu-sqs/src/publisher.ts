/**
 * Sending messages, in order per queue, batched. Publishes wait in one line per queue URL; one
 * request per queue is in flight at a time, taking up to 10 waiting messages (SendMessageBatch,
 * or SendMessage for a lone one, as Kombu sends it). A confirmed publish resolves with SQS's answer
 * for its message; an unconfirmed one resolves once it is in line (as an AMQP publish resolves once
 * written), unless the line is long, and a failure is logged. Closing sends everything first.
 */
import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  SendMessageCommand,
  type SendMessageCommandInput,
} from '@aws-sdk/client-sqs'
import type { Logger } from '@q/kombu'
import { wrapError } from './errors.js'
import type { QueueRef } from './queues.js'

interface Pending {
  readonly input: SendMessageCommandInput
  readonly bytes: number
  readonly resolve: () => void
  readonly reject: (err: unknown) => void
}

interface Line {
  readonly ref: QueueRef
  readonly waiting: Pending[]
  sending: boolean
}

/** Entries and total bytes per SendMessageBatch (256 KiB: every SQS, old or new, takes it). */
const BATCH_ENTRIES = 10
const BATCH_BYTES = 262_144

/** Unconfirmed publishes to one queue that may wait before the next publish has to wait too. */
const HIGH_WATER = 1000

/** Sends the messages of one connection. */
export class Publisher {
  private readonly lines = new Map<string, Line>()
  private readonly drained = new Set<() => void>()

  constructor(private readonly logger: Logger) {}

  /**
   * Sends `input` to `ref`. With `confirm`, resolves once SQS accepted it (rejects with its
   * refusal); without, once it is in line.
   */
  send(ref: QueueRef, input: SendMessageCommandInput, confirm: boolean): Promise<void> {
    const line = this.lines.get(ref.url) ?? { ref, waiting: [], sending: false }
    this.lines.set(ref.url, line)
    const bytes = Buffer.byteLength(input.MessageBody ?? '') + 256
    const done = new Promise<void>((resolve, reject) => line.waiting.push({ input, bytes, resolve, reject }))
    if (!line.sending) {
      line.sending = true
      // From the next turn on: the publishes of this turn share the first request.
      setImmediate(() => void this.run(line))
    }
    if (confirm) return done
    done.catch((err) =>
      this.logger.error(`a message published without confirm to SQS queue '${ref.physical}' was lost`, err),
    )
    return line.waiting.length > HIGH_WATER ? this.below(line) : Promise.resolve()
  }

  /** Resolves once every message in line has been sent (or refused). */
  async flush(): Promise<void> {
    while ([...this.lines.values()].some((l) => l.sending || l.waiting.length)) {
      await new Promise<void>((r) => this.drained.add(r))
    }
  }

  private async run(line: Line): Promise<void> {
    while (line.waiting.length) {
      const batch: Pending[] = [line.waiting.shift()!]
      let bytes = batch[0]!.bytes
      while (
        batch.length < BATCH_ENTRIES &&
        line.waiting.length &&
        bytes + line.waiting[0]!.bytes <= BATCH_BYTES
      ) {
        bytes += line.waiting[0]!.bytes
        batch.push(line.waiting.shift()!)
      }
      await this.request(line.ref, batch)
      this.wake()
    }
    line.sending = false
    this.lines.delete(line.ref.url)
    this.wake()
  }

  /** One request for `batch`; settles each entry, never rejects. */
  private async request(ref: QueueRef, batch: Pending[]): Promise<void> {
    try {
      if (batch.length === 1) {
        await ref.client.send(new SendMessageCommand(batch[0]!.input))
        return batch[0]!.resolve()
      }
      const entries: SendMessageBatchRequestEntry[] = batch.map(({ input }, i) => {
        const { QueueUrl: _url, ...entry } = input
        return { ...entry, Id: String(i), MessageBody: input.MessageBody! }
      })
      const out = await ref.client.send(new SendMessageBatchCommand({ QueueUrl: ref.url, Entries: entries }))
      const failed = new Map((out.Failed ?? []).map((f) => [Number(f.Id), f]))
      for (const [i, p] of batch.entries()) {
        const f = failed.get(i)
        if (!f) p.resolve()
        else
          p.reject(
            wrapError(
              Object.assign(new Error(f.Message ?? f.Code), { name: f.Code, $fault: 'client' }),
              ref.name,
            ),
          )
      }
    } catch (err) {
      const wrapped = wrapError(err, ref.name)
      for (const p of batch) p.reject(wrapped)
    }
  }

  /** Resolves once `line` is no longer above the high-water mark. */
  private below(line: Line): Promise<void> {
    return new Promise<void>((resolve) => {
      const check = () => (line.waiting.length > HIGH_WATER ? this.drained.add(check) : resolve())
      this.drained.add(check)
    })
  }

  /** Calls every waiter once; those still waiting add themselves again. */
  private wake(): void {
    const waiters = [...this.drained]
    this.drained.clear()
    for (const w of waiters) w()
  }
}
