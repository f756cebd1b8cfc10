/**
 * Inspect: Celery's `app.control.inspect()`. Each method asks the targeted workers one question
 * and resolves with their answers by node name, `{ 'celery@host': answer }` (`{}` when nobody
 * answered in time, where Python returns None).
 */
import { matchHostname, type NodeReply } from '@q/kombu'
import type { Control } from './control.js'
import type { ControlTarget, HelloReply, QueueDict, ScheduledInfo, TaskInfo, WorkerStats } from './types.js'

/** Options of an {@link Inspect}: which workers, how long to wait. */
export type InspectOptions = ControlTarget

/** Answers by node name. */
export type ByNode<T> = Record<string, T>

/** Asks workers about their state. */
export class Inspect {
  constructor(
    readonly control: Control,
    readonly options: InspectOptions = {},
  ) {}

  /** Sends `command` with `args` and gathers the replies by node. */
  async request<T = unknown>(command: string, args: Record<string, unknown> = {}): Promise<ByNode<T>> {
    const replies = await this.control.broadcast<T>(command, {
      ...this.options,
      arguments: args,
      reply: true,
    })
    return this.byNode(replies)
  }

  /** Tasks running now. With `safe`, arguments come as the sender's repr strings. */
  active(options: { safe?: boolean } = {}): Promise<ByNode<TaskInfo[]>> {
    return this.request('active', { safe: options.safe ?? null })
  }

  /** Tasks received and waiting for a slot (neither running nor held for an ETA). */
  reserved(): Promise<ByNode<TaskInfo[]>> {
    return this.request('reserved')
  }

  /** Tasks held until their ETA. */
  scheduled(): Promise<ByNode<ScheduledInfo[]>> {
    return this.request('scheduled')
  }

  /** Registered task names (`celery.*` built-ins hidden), with the given attributes: `'name [rate_limit=10/m]'`. */
  registered(...taskinfoitems: string[]): Promise<ByNode<string[]>> {
    return this.request('registered', { taskinfoitems })
  }

  /** Worker statistics. */
  stats(): Promise<ByNode<WorkerStats>> {
    return this.request('stats')
  }

  /** Ids the workers remember as revoked. */
  revoked(): Promise<ByNode<string[]>> {
    return this.request('revoked')
  }

  /** The queues the workers consume from, as Kombu's `Queue.as_dict()`. */
  activeQueues(): Promise<ByNode<QueueDict[]>> {
    return this.request('active_queues')
  }

  /** Where tasks are: `{ node: { id: ['active' | 'reserved', TaskInfo] } }`. */
  queryTask(...ids: Array<string | readonly string[]>): Promise<ByNode<Record<string, [string, TaskInfo]>>> {
    return this.request('query_task', { ids: ids.flat() })
  }

  /** Pings: `{ node: { ok: 'pong' } }`. */
  ping(): Promise<ByNode<{ ok: string }>> {
    return this.request('ping')
  }

  /** The workers' logical clocks. */
  clock(): Promise<ByNode<{ clock: number }>> {
    return this.request('clock')
  }

  /** Mingle's exchange: sends our revoked ids, gets theirs (null from `fromNode` itself). */
  hello(
    fromNode: string,
    revoked: Record<string, unknown> | null = null,
  ): Promise<ByNode<HelloReply | null>> {
    return this.request('hello', { from_node: fromNode, revoked })
  }

  /** Merges replies into one record; warns on duplicate node names, as Celery does. */
  private byNode<T>(replies: NodeReply<T>[]): ByNode<T> {
    const nodes: ByNode<T> = {}
    const dupes = new Set<string>()
    for (const reply of replies) {
      if (!reply || typeof reply !== 'object') continue
      for (const [name, value] of Object.entries(reply)) {
        if (Object.hasOwn(nodes, name)) dupes.add(name)
        nodes[name] = value
      }
    }
    if (dupes.size) {
      this.control.app.logger.warn(
        `Received multiple replies from node name(s) ${[...dupes].sort().join(', ')}: give each worker a unique node name (-n)`,
      )
    }
    const { pattern, matcher } = this.options
    if (!pattern) return nodes
    return Object.fromEntries(
      Object.entries(nodes).filter(([name]) => matchHostname(name, pattern, matcher ?? 'glob')),
    )
  }
}
