/**
 * Exchange types as pure routing functions, for transports that emulate AMQP routing
 * (memory, Redis, SQS). A binding table is a list of rows; `lookup` returns the queues a
 * message reaches. No I/O and no state: tested as plain functions.
 */
import type { ExchangeType, Headers } from '../types.js'

/** One binding of a queue to an exchange, as stored by a virtual transport. */
export interface BindingRow {
  readonly queue: string
  readonly exchange: string
  readonly routingKey: string
  /** Precomputed match data: Kombu's regex source for topic exchanges, '' otherwise. */
  readonly pattern: string
  /** Binding arguments (headers exchanges: `x-match` and the header values). */
  readonly arguments?: Readonly<Record<string, unknown>>
}

/** How one exchange type binds and routes. */
export interface ExchangeRouter {
  /** Builds the row to store when binding `queue` with `routingKey`. */
  prepareBind(
    queue: string,
    exchange: string,
    routingKey: string,
    args?: Readonly<Record<string, unknown>>,
  ): BindingRow
  /** The queues, without duplicates, in binding order, that a message with these keys reaches. */
  lookup(table: readonly BindingRow[], routingKey: string, headers: Headers): string[]
}

function row(
  queue: string,
  exchange: string,
  routingKey: string,
  pattern = '',
  args?: Readonly<Record<string, unknown>>,
): BindingRow {
  return args && Object.keys(args).length
    ? { queue, exchange, routingKey, pattern, arguments: args }
    : { queue, exchange, routingKey, pattern }
}

function unique(queues: string[]): string[] {
  return queues.length < 2 ? queues : [...new Set(queues)]
}

/** Exact routing-key match. */
export const direct: ExchangeRouter = {
  prepareBind: (queue, exchange, routingKey, args) => row(queue, exchange, routingKey, '', args),
  lookup: (table, routingKey) => unique(table.filter((r) => r.routingKey === routingKey).map((r) => r.queue)),
}

/**
 * Kombu's topic regex for a binding key. It is what Kombu stores in Redis binding sets, so it
 * must be byte-identical: each non-alphanumeric character other than `.`, `#`, `*` is
 * backslash-escaped (kombu.utils.text.escape_regex), then whole words `*` and `#` become
 * `.*?[^\.]` and `.*?`, words are joined with `\.`, and the result is anchored.
 */
export function topicPattern(bindingKey: string): string {
  const escaped = Array.from(bindingKey, (c) =>
    /[\p{L}\p{N}.#*]/u.test(c) ? c : c === '\0' ? '\\000' : `\\${c}`,
  ).join('')
  const words = escaped.split('.').map((w) => (w === '*' ? '.*?[^\\.]' : w === '#' ? '.*?' : w))
  return `^${words.join('\\.')}$`
}

/**
 * AMQP topic matching done by words rather than by Kombu's regex, which over-matches
 * (`a.*` would match `a.b.c`). Words: `*` exactly one, `#` zero or more.
 */
export function topicMatches(bindingKey: string, routingKey: string): boolean {
  if (bindingKey === '#') return true
  return matchWords(bindingKey.split('.'), 0, routingKey.split('.'), 0)
}

function matchWords(pat: string[], pi: number, words: string[], wi: number): boolean {
  while (pi < pat.length) {
    const p = pat[pi]
    if (p === '#') {
      // `#` absorbs zero or more words: try every split point.
      for (let k = wi; k <= words.length; k++) if (matchWords(pat, pi + 1, words, k)) return true
      return false
    }
    if (wi >= words.length || (p !== '*' && p !== words[wi])) return false
    pi++
    wi++
  }
  return wi === words.length
}

/** Wildcard routing-key match (`*` one word, `#` zero or more). */
export const topic: ExchangeRouter = {
  prepareBind: (queue, exchange, routingKey, args) =>
    row(queue, exchange, routingKey, topicPattern(routingKey), args),
  lookup: (table, routingKey) =>
    unique(table.filter((r) => topicMatches(r.routingKey, routingKey)).map((r) => r.queue)),
}

/** Every bound queue, whatever the routing key. */
export const fanout: ExchangeRouter = {
  prepareBind: (queue, exchange, routingKey, args) => row(queue, exchange, routingKey, '', args),
  lookup: (table) => unique(table.map((r) => r.queue)),
}

/** Matches message headers against binding arguments: `x-match` `all` (default) or `any`. */
export function headersMatch(args: Readonly<Record<string, unknown>> | undefined, headers: Headers): boolean {
  const entries = Object.entries(args ?? {}).filter(([k]) => !k.startsWith('x-'))
  const mode = args?.['x-match'] === 'any' ? 'any' : 'all'
  // A key bound with no value (undefined/null) only requires the header to be present.
  const test = ([k, v]: [string, unknown]) =>
    k in headers && (v === undefined || v === null || headers[k] === v)
  if (entries.length === 0) return true
  return mode === 'any' ? entries.some(test) : entries.every(test)
}

/** Routes on message headers instead of the routing key. */
export const headers: ExchangeRouter = {
  prepareBind: (queue, exchange, routingKey, args) => row(queue, exchange, routingKey, '', args),
  lookup: (table, _routingKey, hdrs) =>
    unique(table.filter((r) => headersMatch(r.arguments, hdrs)).map((r) => r.queue)),
}

/** The router of each exchange type. */
export const exchangeRouters: Readonly<Record<ExchangeType, ExchangeRouter>> = Object.freeze({
  direct,
  topic,
  fanout,
  headers,
})
