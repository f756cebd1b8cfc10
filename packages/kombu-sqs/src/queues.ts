/**
 * Queue names to queue URLs, and the queue operations of SQS: declare (GetQueueUrl, then
 * CreateQueue with Kombu's attributes), size, purge, delete, and the dead-letter queue of a
 * queue. With `predefinedQueues`, URLs come from the options only: nothing is listed or created.
 */
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  PurgeQueueCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs'
import { ChannelError, type Logger, NotSupportedError, Queue } from '@q/kombu'
import type { ClientPool } from './clients.js'
import { isQueueMissing, queueNotFound, wrapError } from './errors.js'
import { isFifo, physicalName } from './names.js'
import type { RedrivePolicy, ResolvedOptions } from './options.js'

/** A queue this connection knows the URL of. */
export interface QueueRef {
  /** The name the application uses. */
  readonly name: string
  /** The SQS queue name (prefixed and made legal). */
  readonly physical: string
  readonly url: string
  readonly client: SQSClient
  readonly fifo: boolean
}

/** maxReceiveCount when a Queue asks for dead-lettering by its own arguments. */
export const DEFAULT_MAX_RECEIVE_COUNT = 5

/** Knows and caches the queues of one connection. */
export class QueueDirectory {
  private readonly refs = new Map<string, QueueRef>()
  private readonly pending = new Map<string, Promise<QueueRef>>()
  private readonly deadLetters = new Map<string, Promise<QueueRef | undefined>>()
  private readonly deadLetterNames: Set<string>

  constructor(
    private readonly clients: ClientPool,
    private readonly options: ResolvedOptions,
    private readonly logger: Logger,
  ) {
    this.deadLetterNames = new Set(Object.values(options.redrivePolicy).map((p) => p.deadLetterQueue))
  }

  /** The SQS name of a queue. */
  physical(name: string): string {
    return physicalName(this.options.queueNamePrefix, name)
  }

  /** The queue if it exists (cached, predefined, or found with GetQueueUrl). */
  async lookup(name: string): Promise<QueueRef | undefined> {
    const known = this.refs.get(name) ?? this.predefined(name)
    if (known || this.options.predefinedQueues) return known
    const physical = this.physical(name)
    const client = this.clients.main
    try {
      const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: physical }))
      return this.remember(name, physical, QueueUrl!, client)
    } catch (err) {
      if (isQueueMissing(err)) return undefined
      throw wrapError(err, name)
    }
  }

  /** The queue, or ChannelError 404. */
  async require(name: string): Promise<QueueRef> {
    const ref = await this.lookup(name)
    if (!ref) throw queueNotFound(name)
    return ref
  }

  /** Whether the queue exists. */
  async has(name: string): Promise<boolean> {
    return (await this.lookup(name)) !== undefined
  }

  /** Creates the queue unless it exists; one request at a time per name. */
  declare(queue: Queue): Promise<QueueRef> {
    let p = this.pending.get(queue.name)
    if (!p) {
      p = this.create(queue).finally(() => this.pending.delete(queue.name))
      this.pending.set(queue.name, p)
    }
    return p
  }

  /** Ready messages (ApproximateNumberOfMessages). */
  async size(name: string): Promise<number> {
    const ref = await this.require(name)
    try {
      const { Attributes } = await ref.client.send(
        new GetQueueAttributesCommand({ QueueUrl: ref.url, AttributeNames: ['ApproximateNumberOfMessages'] }),
      )
      return Number(Attributes?.ApproximateNumberOfMessages ?? 0)
    } catch (err) {
      throw this.failed(err, name)
    }
  }

  /** Purges the queue; returns how many ready messages it had (as Kombu: SQS reports none). */
  async purge(name: string): Promise<number> {
    const count = await this.size(name)
    const ref = await this.require(name)
    await ref.client.send(new PurgeQueueCommand({ QueueUrl: ref.url })).catch((err) => {
      throw this.failed(err, name)
    })
    return count
  }

  /** Deletes the queue and forgets it. */
  async delete(name: string): Promise<void> {
    const ref = await this.require(name)
    this.forget(name)
    await ref.client.send(new DeleteQueueCommand({ QueueUrl: ref.url })).catch((err) => {
      if (!isQueueMissing(err)) throw wrapError(err, name)
    })
  }

  /** Forgets a cached URL (the queue was deleted). */
  forget(name: string): void {
    this.refs.delete(name)
    this.deadLetters.delete(name)
  }

  /**
   * The dead-letter queue of `ref`, read from its RedrivePolicy once; undefined when it has none
   * or it cannot be read (no GetQueueAttributes permission on a predefined queue).
   */
  deadLetterOf(ref: QueueRef): Promise<QueueRef | undefined> {
    let p = this.deadLetters.get(ref.name)
    if (!p) {
      p = this.readDeadLetter(ref).catch((err) => {
        this.logger.warn(`cannot read the redrive policy of SQS queue '${ref.physical}': ${String(err)}`)
        return undefined
      })
      this.deadLetters.set(ref.name, p)
    }
    return p
  }

  private async create(queue: Queue): Promise<QueueRef> {
    const existing = await this.lookup(queue.name)
    if (existing) return existing
    if (this.options.predefinedQueues) {
      throw new ChannelError(
        `NOT_FOUND - queue '${this.physical(queue.name)}' must be defined in predefinedQueues (no queue is created when they are set)`,
        { replyCode: 404, replyText: 'NOT_FOUND' },
      )
    }
    const physical = this.physical(queue.name)
    const attributes: Record<string, string> = { VisibilityTimeout: String(this.options.visibilityTimeout) }
    if (isFifo(physical)) attributes.FifoQueue = 'true'
    Object.assign(attributes, this.options.sqsCreationAttributes)
    const redrive = this.redriveFor(queue)
    if (redrive) attributes.RedrivePolicy = await this.redrivePolicy(redrive)
    const client = this.clients.main
    try {
      const { QueueUrl } = await client.send(
        new CreateQueueCommand({ QueueName: physical, Attributes: attributes }),
      )
      return this.remember(queue.name, physical, QueueUrl!, client)
    } catch (err) {
      throw wrapError(err, queue.name)
    }
  }

  /** The redrive policy for a new queue: its own, the Queue's dead-letter arguments, or '*'. */
  private redriveFor(queue: Queue): RedrivePolicy | undefined {
    const policies = this.options.redrivePolicy
    const own = policies[queue.name] ?? policies[this.physical(queue.name)]
    if (own) return own
    const dlx = queue.arguments['x-dead-letter-exchange']
    if (dlx !== undefined) {
      const key = queue.arguments['x-dead-letter-routing-key']
      if (dlx !== '' || typeof key !== 'string' || key === '') {
        throw new NotSupportedError(
          `SQS dead-letters to a queue, not through an exchange: give queue '${queue.name}' deadLetterExchange '' and deadLetterRoutingKey = the dead-letter queue, or use the redrivePolicy transport option`,
        )
      }
      return {
        deadLetterQueue: key,
        maxReceiveCount: policies['*']?.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT,
      }
    }
    if (this.deadLetterNames.has(queue.name)) return undefined
    return policies['*']
  }

  private async redrivePolicy(policy: RedrivePolicy): Promise<string> {
    let arn = policy.deadLetterQueue
    if (!arn.startsWith('arn:')) {
      const dlq = await this.declare(new Queue(policy.deadLetterQueue))
      const { Attributes } = await dlq.client.send(
        new GetQueueAttributesCommand({ QueueUrl: dlq.url, AttributeNames: ['QueueArn'] }),
      )
      arn = Attributes?.QueueArn ?? ''
    }
    return JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: String(policy.maxReceiveCount) })
  }

  private async readDeadLetter(ref: QueueRef): Promise<QueueRef | undefined> {
    const { Attributes } = await ref.client.send(
      new GetQueueAttributesCommand({ QueueUrl: ref.url, AttributeNames: ['RedrivePolicy'] }),
    )
    if (!Attributes?.RedrivePolicy) return undefined
    const arn = String(JSON.parse(Attributes.RedrivePolicy).deadLetterTargetArn ?? '')
    // arn:aws:sqs:<region>:<account>:<name>
    const [, , , , account, physical] = arn.split(':')
    if (!physical) return undefined
    const { QueueUrl } = await ref.client.send(
      new GetQueueUrlCommand({ QueueName: physical, QueueOwnerAWSAccountId: account }),
    )
    return { name: physical, physical, url: QueueUrl!, client: ref.client, fifo: isFifo(physical) }
  }

  private predefined(name: string): QueueRef | undefined {
    const all = this.options.predefinedQueues
    if (!all) return undefined
    const physical = this.physical(name)
    const entry = all[physical] ?? all[name]
    if (!entry) return undefined
    return this.remember(name, physical, entry.url, this.clients.forQueue(entry))
  }

  private remember(name: string, physical: string, url: string, client: SQSClient): QueueRef {
    const ref: QueueRef = { name, physical, url, client, fifo: isFifo(physical) }
    this.refs.set(name, ref)
    return ref
  }

  private failed(err: unknown, name: string): Error {
    if (isQueueMissing(err)) this.forget(name)
    return wrapError(err, name)
  }
}
