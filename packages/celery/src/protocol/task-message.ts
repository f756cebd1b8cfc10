/**
 * Celery's task message, protocol v2: what a producer puts on the wire and what a worker reads
 * back. Header keys and their order follow Celery 5.2 (`app/amqp.py as_task_v2`), so messages
 * from q and from Python look the same to either side. Protocol v1 messages (no `task` header,
 * a dict body) are read too.
 */
import { CeleryError } from '../errors.js'
import { saferepr } from './python-repr.js'
import { isoformatUtc, parseIso } from './time.js'

/** A serialized signature (Celery's `Signature` dict): plain JSON data. */
export interface Signature {
  task: string
  args: unknown[]
  kwargs: Record<string, unknown>
  options: Record<string, unknown>
  subtask_type: null | 'chain' | 'group' | 'chord'
  immutable: boolean
  [extra: string]: unknown
}

/** The third element of the body: what runs after the task. */
export interface TaskEmbed {
  callbacks: Signature[] | null
  errbacks: Signature[] | null
  /** Remaining chain steps, in reverse: the next one is the last element. */
  chain: Signature[] | null
  chord: Signature | null
}

/** Everything a task message carries, in q's names. */
export interface TaskMessageFields {
  id: string
  task: string
  args: unknown[]
  kwargs: Record<string, unknown>
  eta?: Date | null
  expires?: Date | null
  retries?: number
  group?: string | null
  groupIndex?: number | null
  timeLimit?: number | null
  softTimeLimit?: number | null
  rootId?: string | null
  parentId?: string | null
  shadow?: string | null
  origin: string
  ignoreResult?: boolean
  replyTo: string
  callbacks?: Signature[] | null
  errbacks?: Signature[] | null
  chain?: Signature[] | null
  chord?: Signature | null
  /** Extra headers, merged at the top level as Celery merges `headers=`. */
  headers?: Record<string, unknown>
  /** Keep the repr strings of a retried message instead of recomputing them. */
  argsrepr?: string
  kwargsrepr?: string
}

/** A task message ready for a Producer: headers, body and the two properties Celery sets. */
export interface TaskMessage {
  headers: Record<string, unknown>
  body: [unknown[], Record<string, unknown>, TaskEmbed]
  correlationId: string
  replyTo: string
}

/** The `timelimit` header of a call without limits, shared (frozen: it is never written to). */
const NO_TIME_LIMITS: readonly [null, null] = Object.freeze([null, null] as [null, null])

/** Builds a protocol v2 message, headers in Celery's order. */
export function buildTaskMessage(f: TaskMessageFields): TaskMessage {
  let headers: Record<string, unknown> = {
    lang: 'js',
    task: f.task,
    id: f.id,
    shadow: f.shadow ?? null,
    eta: f.eta ? isoformatUtc(f.eta) : null,
    expires: f.expires ? isoformatUtc(f.expires) : null,
    group: f.group ?? null,
    group_index: f.groupIndex ?? null,
    retries: f.retries ?? 0,
    timelimit:
      f.timeLimit == null && f.softTimeLimit == null
        ? NO_TIME_LIMITS
        : [f.timeLimit ?? null, f.softTimeLimit ?? null],
    root_id: f.rootId || f.id,
    parent_id: f.parentId ?? null,
    argsrepr: f.argsrepr ?? saferepr(f.args, 1024, true),
    kwargsrepr: f.kwargsrepr ?? saferepr(f.kwargs),
    origin: f.origin,
    ignore_result: f.ignoreResult ?? false,
  }
  // Merged only when given (a spread, not Object.assign: a `__proto__` key stays a plain key). A
  // spread inside the literal made every message's headers the slow way, extra headers or not.
  if (f.headers) headers = { ...headers, ...f.headers }
  const embed: TaskEmbed =
    f.callbacks || f.errbacks || f.chain || f.chord
      ? {
          callbacks: f.callbacks ?? null,
          errbacks: f.errbacks ?? null,
          chain: f.chain ?? null,
          chord: f.chord ?? null,
        }
      : NO_EMBED
  return { headers, body: [f.args, f.kwargs, embed], correlationId: f.id, replyTo: f.replyTo }
}

/** A message that is not a Celery task message (or is malformed). */
export class InvalidTaskMessageError extends CeleryError {}

/** A task message as a worker reads it. */
export interface ReceivedTask {
  id: string
  /** The registered task name (`task` header). */
  task: string
  /** The display name (`shadow` header), when set. */
  shadow: string | null
  args: unknown[]
  kwargs: Record<string, unknown>
  embed: TaskEmbed
  eta: Date | undefined
  expires: Date | undefined
  retries: number
  group: string | null
  groupIndex: number | null
  rootId: string
  parentId: string | null
  timeLimit: number | null
  softTimeLimit: number | null
  argsrepr: string
  kwargsrepr: string
  origin: string | null
  ignoreResult: boolean
  /** Every header as received, including custom ones. */
  headers: Record<string, unknown>
}

const KNOWN = new Set(['callbacks', 'errbacks', 'chain', 'chord'])

function asList(v: unknown): Signature[] | null {
  return Array.isArray(v) && v.length ? (v as Signature[]) : null
}

/** Reads a v2 (or v1) task message; throws InvalidTaskMessageError when it is not one. */
export function readTaskMessage(headers: Record<string, unknown>, body: unknown): ReceivedTask {
  if (typeof headers.task !== 'string') return readV1(body)
  if (
    !Array.isArray(body) ||
    body.length < 2 ||
    !Array.isArray(body[0]) ||
    typeof body[1] !== 'object' ||
    body[1] === null
  ) {
    throw new InvalidTaskMessageError(`task ${String(headers.id)}: body is not [args, kwargs, embed]`)
  }
  if (typeof headers.id !== 'string' || !headers.id)
    throw new InvalidTaskMessageError('task message has no id header')
  const tl = Array.isArray(headers.timelimit) ? headers.timelimit : NO_LIMITS
  return {
    id: headers.id,
    task: headers.task,
    shadow: typeof headers.shadow === 'string' ? headers.shadow : null,
    args: body[0] as unknown[],
    kwargs: body[1] as Record<string, unknown>,
    embed: readEmbed(body[2]),
    eta: headers.eta == null ? undefined : parseIso(headers.eta),
    expires: headers.expires == null ? undefined : parseIso(headers.expires),
    retries: typeof headers.retries === 'number' ? headers.retries : 0,
    group: typeof headers.group === 'string' ? headers.group : null,
    groupIndex: num(headers.group_index),
    rootId: typeof headers.root_id === 'string' && headers.root_id ? headers.root_id : headers.id,
    parentId: typeof headers.parent_id === 'string' ? headers.parent_id : null,
    timeLimit: num(tl[0]),
    softTimeLimit: num(tl[1]),
    argsrepr: typeof headers.argsrepr === 'string' ? headers.argsrepr : saferepr(body[0], 1024, true),
    kwargsrepr: typeof headers.kwargsrepr === 'string' ? headers.kwargsrepr : saferepr(body[1]),
    origin: typeof headers.origin === 'string' ? headers.origin : null,
    ignoreResult: headers.ignore_result === true,
    headers,
  }
}

const NO_LIMITS: readonly unknown[] = Object.freeze([])

/** The embed of a plain call (nothing after it), shared by sent and read messages: most carry only nulls. */
const NO_EMBED: TaskEmbed = Object.freeze({ callbacks: null, errbacks: null, chain: null, chord: null })

function num(v: unknown): number | null {
  return typeof v === 'number' ? v : null
}

function readEmbed(value: unknown): TaskEmbed {
  if (!value || typeof value !== 'object') return NO_EMBED
  const e = value as Record<string, unknown>
  const callbacks = asList(e.callbacks)
  const errbacks = asList(e.errbacks)
  const chain = asList(e.chain)
  const chord = e.chord && typeof e.chord === 'object' ? (e.chord as Signature) : null
  if (!callbacks && !errbacks && !chain && !chord) return NO_EMBED
  return { callbacks, errbacks, chain, chord }
}

/** Protocol v1: everything in a dict body (Celery 3); still sent by old clients. */
function readV1(body: unknown): ReceivedTask {
  const b = body as Record<string, unknown> | null
  if (!b || typeof b !== 'object' || typeof b.task !== 'string' || typeof b.id !== 'string') {
    throw new InvalidTaskMessageError('not a Celery task message: no task header and no v1 body')
  }
  const args = Array.isArray(b.args) ? b.args : []
  const kwargs = (b.kwargs && typeof b.kwargs === 'object' ? b.kwargs : {}) as Record<string, unknown>
  const tl = Array.isArray(b.timelimit) ? b.timelimit : []
  const group = typeof b.taskset === 'string' ? b.taskset : typeof b.group === 'string' ? b.group : null
  const headers: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(b)) if (!KNOWN.has(k)) headers[k] = v
  return {
    ...readTaskMessage(
      { ...headers, task: b.task, id: b.id, group, timelimit: tl, retries: b.retries ?? 0 },
      [args, kwargs, { callbacks: b.callbacks, errbacks: b.errbacks, chain: null, chord: b.chord }],
    ),
  }
}
