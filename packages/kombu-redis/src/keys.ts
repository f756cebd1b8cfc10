/**
 * Where Kombu keeps things in Redis, as pure functions: queue lists and their priority buckets,
 * binding sets and their members, fanout channels, and (ours) the delayed-delivery sets.
 *
 * ```
 * <q>                         list   ready messages of priority bucket 0 (LPUSH in, RPOP/BRPOP out)
 * <q>\x06\x16<step>           list   bucket <step> (3, 6, 9): lower buckets are served first
 * _kombu.binding.<exchange>   set    `<routing key>\x06\x16<pattern>\x06\x16<queue>`
 * unacked / unacked_index     hash / zset   delivered, not yet acknowledged (see qos.ts)
 * unacked_mutex               string lock of the restore scan (shared with Python workers)
 * <q>\x06\x16delayed          zset   ours: delayed messages, score = due time in ms (see delayed.ts)
 * /<db>.<exchange>[/<rk>]     pub/sub channel of a fanout exchange
 * ```
 * Every key and channel gets `globalKeyprefix` in front.
 */
import type { ResolvedOptions } from './options.js'

/** Kombu's maximum message priority: priorities are clamped to 0..9 before bucketing. */
export const MAX_PRIORITY = 9

/** Key naming for one connection (its options and its database number). */
export class Keys {
  readonly prefix: string
  readonly sep: string
  readonly steps: readonly number[]
  /** Fanout channel prefix with `{db}` filled in (`/0.`), without the global prefix. */
  readonly fanoutPrefix: string
  readonly unacked: string
  readonly unackedIndex: string
  readonly unackedMutex: string
  /** The binding-set key prefix, global prefix included (`_kombu.binding.`). */
  readonly bindingPrefix: string

  constructor(
    private readonly options: ResolvedOptions,
    readonly db: number,
  ) {
    this.prefix = options.globalKeyprefix
    this.sep = options.sep
    this.steps = options.prioritySteps
    const fp = options.fanoutPrefix
    this.fanoutPrefix = (fp === true ? '/{db}.' : fp === false ? '' : fp).replace('{db}', String(db))
    this.unacked = this.prefix + options.unackedKey
    this.unackedIndex = this.prefix + options.unackedIndexKey
    this.unackedMutex = this.prefix + options.unackedMutexKey
    this.bindingPrefix = `${this.prefix}_kombu.binding.`
  }

  /** The priority bucket of a message priority (Kombu: clamp to 0..9, largest step not above). */
  step(priority: unknown): number {
    const n = Number(priority)
    const p = Number.isFinite(n) ? Math.max(0, Math.min(MAX_PRIORITY, Math.trunc(n))) : 0
    let step = this.steps[0] ?? 0
    for (const s of this.steps) if (s <= p) step = s
    return step
  }

  /** The list of `queue` for bucket `step`, prefix included. */
  bucket(queue: string, step: number): string {
    return step ? `${this.prefix}${queue}${this.sep}${step}` : this.prefix + queue
  }

  /** Every bucket list of `queue`, in delivery order (lowest step first). */
  buckets(queue: string): string[] {
    return this.steps.map((s) => this.bucket(queue, s))
  }

  /** The queue a bucket list belongs to (the list name without prefix and step). */
  queueOf(listKey: string): string {
    const name = listKey.startsWith(this.prefix) ? listKey.slice(this.prefix.length) : listKey
    const at = name.lastIndexOf(this.sep)
    if (at < 0) return name
    const tail = name.slice(at + this.sep.length)
    return /^\d+$/.test(tail) ? name.slice(0, at) : name
  }

  /** The binding set of `exchange`. */
  bindings(exchange: string): string {
    return this.bindingPrefix + exchange
  }

  /** A binding-set member: `<routing key><sep><pattern><sep><queue>`. */
  bindingMember(routingKey: string, pattern: string, queue: string): string {
    return [routingKey, pattern, queue].join(this.sep)
  }

  /** Parses a binding-set member; undefined when it is not one. */
  parseBindingMember(member: string): { routingKey: string; pattern: string; queue: string } | undefined {
    const parts = member.split(this.sep)
    if (parts.length !== 3) return undefined
    return { routingKey: parts[0]!, pattern: parts[1]!, queue: parts[2]! }
  }

  /** Our sorted set of delayed messages of `queue`. */
  delayed(queue: string): string {
    return `${this.prefix}${queue}${this.sep}delayed`
  }

  /**
   * The pub/sub channel a fanout message is published on, without the global prefix: with
   * `fanoutPatterns`, `/<db>.<exchange>/<routing key>` when the key is not empty.
   */
  fanoutTopic(exchange: string, routingKey: string): string {
    return routingKey && this.options.fanoutPatterns
      ? `${this.fanoutPrefix}${exchange}/${routingKey}`
      : this.fanoutPrefix + exchange
  }

  /** The PSUBSCRIBE pattern of a queue bound to a fanout exchange (`#` becomes `*`), prefix included. */
  fanoutPattern(exchange: string, bindingKey: string): string {
    return this.prefix + this.fanoutTopic(exchange, bindingKey.replaceAll('#', '*'))
  }

  /** The exchange a received fanout channel names (Kombu's `_receive_one`). */
  exchangeOfChannel(channel: string): string {
    let name = channel.startsWith(this.prefix) ? channel.slice(this.prefix.length) : channel
    if (name.startsWith('/')) name = name.slice(name.indexOf('.') + 1)
    const slash = name.indexOf('/')
    return slash < 0 ? name : name.slice(0, slash)
  }
}
