/**
 * The messages a worker sends after a task: retries (same id, retries + 1), link callbacks,
 * the next step of a chain, and errbacks. Each follows Celery 5.2's rules so that a Python
 * worker picking them up sees what a Python worker would have sent.
 */
import type { Celery } from '../app.js'
import type { Retry } from '../errors.js'
import type { ReceivedTask, Signature } from '../protocol/task-message.js'
import type { CallOptions } from '../task-types.js'

const STANDARD_HEADERS = new Set([
  'lang',
  'task',
  'id',
  'shadow',
  'eta',
  'expires',
  'group',
  'group_index',
  'retries',
  'timelimit',
  'root_id',
  'parent_id',
  'argsrepr',
  'kwargsrepr',
  'origin',
  'ignore_result',
  'compression',
])

/** Call options from a signature's `options` (Celery's snake_case keys). */
export function signatureOptions(options: Record<string, unknown>): CallOptions {
  const o = options
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined)
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined)
  return {
    ...(str(o.task_id) ? { taskId: str(o.task_id) } : {}),
    ...(str(o.queue) ? { queue: str(o.queue) } : {}),
    ...(str(o.exchange) ? { exchange: str(o.exchange) } : {}),
    ...(str(o.routing_key) ? { routingKey: str(o.routing_key) } : {}),
    ...(num(o.priority) !== undefined ? { priority: num(o.priority) } : {}),
    ...(num(o.countdown) !== undefined ? { countdown: num(o.countdown) } : {}),
    ...(str(o.reply_to) ? { replyTo: str(o.reply_to) } : {}),
    ...(str(o.group_id) ? { groupId: str(o.group_id) } : {}),
    ...(num(o.group_index) !== undefined ? { groupIndex: num(o.group_index) } : {}),
    ...(o.chord && typeof o.chord === 'object' ? { chord: o.chord as Signature } : {}),
    ...(o.link ? { link: o.link as Signature[] } : {}),
    ...(o.link_error ? { linkError: o.link_error as Signature[] } : {}),
  }
}

/** Sends a signature, with `prepend` before its args unless it is immutable. */
export async function applySignature(
  app: Celery,
  sig: Signature,
  prepend: unknown[],
  parent: { parentId: string; rootId: string },
  extra: CallOptions = {},
): Promise<void> {
  const args = sig.immutable ? sig.args : [...prepend, ...(sig.args ?? [])]
  const options = { ...signatureOptions(sig.options ?? {}), ...parent, ...extra }
  if (sig.subtask_type === 'chain' && Array.isArray(sig.kwargs?.tasks)) {
    const steps = sig.kwargs.tasks as Signature[]
    const [first, ...rest] = steps
    if (first) await applySignature(app, first, args, parent, { chain: rest.reverse() })
    return
  }
  if (sig.subtask_type === 'group' && Array.isArray(sig.kwargs?.tasks)) {
    for (const member of sig.kwargs.tasks as Signature[]) await applySignature(app, member, args, parent)
    return
  }
  await app.sendTask(sig.task, args, sig.kwargs ?? {}, options)
}

/** Sends the retry of a task: same id, retries + 1, eta, parent = itself, the rest carried over. */
export async function sendRetry(
  app: Celery,
  task: ReceivedTask,
  retry: Retry,
  replyTo: string | undefined,
  delivery: { exchange?: string; routingKey?: string } | undefined,
  priority?: number,
): Promise<void> {
  const call = retry.call as {
    args?: unknown[]
    kwargs?: Record<string, unknown>
    queue?: string
    priority?: number
  }
  const headers: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(task.headers)) if (!STANDARD_HEADERS.has(k)) headers[k] = v
  await app.sendTask(task.task, call.args ?? task.args, call.kwargs ?? task.kwargs, {
    taskId: task.id,
    retries: task.retries + 1,
    ...(retry.when ? { eta: retry.when } : {}),
    ...(task.expires ? { expires: task.expires } : {}),
    parentId: task.id,
    rootId: task.rootId,
    ...(task.group ? { groupId: task.group } : {}),
    ...(task.groupIndex !== null ? { groupIndex: task.groupIndex } : {}),
    ...(task.timeLimit !== null ? { timeLimit: task.timeLimit } : {}),
    ...(task.softTimeLimit !== null ? { softTimeLimit: task.softTimeLimit } : {}),
    ...(task.shadow ? { shadow: task.shadow } : {}),
    ...(task.embed.callbacks ? { link: task.embed.callbacks } : {}),
    ...(task.embed.errbacks ? { linkError: task.embed.errbacks } : {}),
    ...(task.embed.chain ? { chain: task.embed.chain } : {}),
    ...(task.embed.chord ? { chord: task.embed.chord } : {}),
    ...(replyTo ? { replyTo } : {}),
    ignoreResult: task.ignoreResult,
    headers,
    // As Celery's signature_from_request: back the way it came (the default exchange and its
    // routing key, or the exchange and routing key it was delivered with).
    ...(call.queue
      ? { queue: call.queue }
      : {
          exchange: delivery?.exchange ?? '',
          routingKey: delivery?.routingKey ?? app.conf.taskDefaultQueue,
        }),
    // As Celery's signature_from_request: the priority it was delivered with, unless retry() sets one.
    ...((call.priority ?? priority) !== undefined ? { priority: call.priority ?? priority } : {}),
  })
}

/** After success: link callbacks get the result, and the next chain step runs with it. */
export async function sendCallbacks(app: Celery, task: ReceivedTask, result: unknown): Promise<void> {
  const parent = { parentId: task.id, rootId: task.rootId }
  for (const sig of task.embed.callbacks ?? []) await applySignature(app, sig, [result], parent)
  const chain = task.embed.chain
  if (chain?.length) {
    const rest = chain.slice(0, -1)
    await applySignature(app, chain[chain.length - 1]!, [result], parent, rest.length ? { chain: rest } : {})
  }
}

/** After failure: errbacks are sent as tasks called with the failed task's id (Celery's old style). */
export async function sendErrbacks(app: Celery, task: ReceivedTask): Promise<void> {
  for (const sig of task.embed.errbacks ?? []) {
    // The id is prepended unless the errback is immutable, as in Celery's group(...).apply_async((id,)).
    await applySignature(app, sig, [task.id], {
      parentId: task.id,
      rootId: task.rootId,
    })
  }
}
