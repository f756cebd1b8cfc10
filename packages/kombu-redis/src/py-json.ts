/**
 * JSON as Python's `json.dumps` writes it (Kombu's envelope encoder): `", "` and `": "` between
 * items, every character outside printable ASCII escaped as `\uXXXX` (lowercase hex, DEL too),
 * keys in insertion order. And an editor that changes a few keys of a JSON text while leaving
 * every other byte as it was, so a Python envelope that we restore keeps `2.0` as `2.0`.
 */

const NON_ASCII = /[\u007f-\uffff]/g
const HAS_NON_ASCII = /[\u007f-\uffff]/
/** What JSON or Python's ensure_ascii would escape: quotes, backslashes, controls, non-ASCII. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\u007f-\uffff]/
const escapeChar = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`

/** A string as Python's `json.dumps` (ensure_ascii) quotes it. */
export function pyString(s: string): string {
  // Most strings (names, ids, base64) need no escape: one scan of the source and no copy.
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`
  const quoted = JSON.stringify(s)
  return HAS_NON_ASCII.test(quoted) ? quoted.replace(NON_ASCII, escapeChar) : quoted
}

/**
 * An object key seen before: its quoted text with `": "`, and the last string value written
 * under it with its quoted text. The same few header and property names come back all the time,
 * and so do most of their values (task name, origin, `kwargsrepr`, a batch's `argsrepr`, equal
 * but each a new string): comparing with the last one is a length check or a memcmp, where
 * {@link pyString}'s scan for characters to escape was ~10% of a Redis publish.
 */
interface KeyEntry {
  readonly text: string
  value: string | undefined
  quoted: string
}

const keyEntries = new Map<string, KeyEntry>()
const KEY_CACHE_SIZE = 4096
/** Longer values are not kept as a key's last value (it would hold them in memory). */
const MEMO_MAX_LENGTH = 2048

function keyEntry(k: string): KeyEntry {
  let entry = keyEntries.get(k)
  if (entry === undefined) {
    entry = { text: `${pyString(k)}: `, value: undefined, quoted: '' }
    if (keyEntries.size < KEY_CACHE_SIZE) keyEntries.set(k, entry)
  }
  return entry
}

/** `"key": `, as an object's entry starts (kept for the same few names that come back). */
export function pyKey(k: string): string {
  return keyEntry(k).text
}

/** A string value under a known key, quoted; the entry's last one when equal. */
function quotedUnder(entry: KeyEntry, v: string): string {
  if (v === entry.value) return entry.quoted
  const quoted = pyString(v)
  if (v.length <= MEMO_MAX_LENGTH) {
    entry.value = v
    entry.quoted = quoted
  }
  return quoted
}

/** A JSON text that {@link pyDumps} writes as it is (a number or fragment kept verbatim). */
export class RawJson {
  constructor(readonly text: string) {}
}

/**
 * Encodes plain values (objects, arrays, strings, finite numbers, booleans, null) as Python's
 * `json.dumps` does. Undefined object values are left out, as JSON.stringify does. Written by
 * concatenation: it runs for every header of every message sent to Redis.
 */
export function pyDumps(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return pyString(value)
    case 'number':
      if (Number.isFinite(value)) return String(value)
      return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity'
    case 'boolean':
      return value ? 'true' : 'false'
    case 'bigint':
      return value.toString()
    case 'object': {
      if (value === null) return 'null'
      if (value instanceof RawJson) return value.text
      if (Array.isArray(value)) {
        let out = '['
        for (let i = 0; i < value.length; i++) {
          const v: unknown = value[i]
          out += i === 0 ? '' : ', '
          out += v === undefined ? 'null' : pyDumps(v)
        }
        return `${out}]`
      }
      let out = '{'
      const obj = value as Record<string, unknown>
      for (const k of Object.keys(obj)) {
        const v = obj[k]
        if (v === undefined) continue
        const entry = keyEntry(k)
        out += (out.length === 1 ? '' : ', ') + entry.text
        out += typeof v === 'string' ? quotedUnder(entry, v) : pyDumps(v)
      }
      return `${out}}`
    }
    default:
      return 'null'
  }
}

/** A parsed JSON text whose leaves keep their original spelling. */
type Node =
  | { kind: 'raw'; text: string }
  | { kind: 'array'; items: Node[] }
  | { kind: 'object'; entries: Array<{ key: string; keyText: string; value: Node }> }

/** Numbers, constants, and Python's bare NaN and Infinity. */
const LITERAL = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null|NaN|-?Infinity)$/

class Reader {
  i = 0
  constructor(readonly s: string) {}
  ws(): void {
    while (this.i < this.s.length && ' \t\n\r'.includes(this.s[this.i]!)) this.i++
  }
  string(): string {
    const start = this.i
    this.i++ // opening quote
    while (this.i < this.s.length && this.s[this.i] !== '"') this.i += this.s[this.i] === '\\' ? 2 : 1
    this.i++
    return this.s.slice(start, this.i)
  }
  node(): Node {
    this.ws()
    const c = this.s[this.i]
    if (c === '{') {
      this.i++
      const entries: Array<{ key: string; keyText: string; value: Node }> = []
      this.ws()
      if (this.s[this.i] === '}') return this.close({ kind: 'object', entries })
      for (;;) {
        this.ws()
        const keyText = this.string()
        this.ws()
        this.expect(':')
        entries.push({ key: JSON.parse(keyText) as string, keyText, value: this.node() })
        this.ws()
        if (this.s[this.i] === '}') return this.close({ kind: 'object', entries })
        this.expect(',')
      }
    }
    if (c === '[') {
      this.i++
      const items: Node[] = []
      this.ws()
      if (this.s[this.i] === ']') return this.close({ kind: 'array', items })
      for (;;) {
        items.push(this.node())
        this.ws()
        if (this.s[this.i] === ']') return this.close({ kind: 'array', items })
        this.expect(',')
      }
    }
    if (c === '"') return { kind: 'raw', text: this.string() }
    const start = this.i
    while (this.i < this.s.length && !',]} \t\n\r'.includes(this.s[this.i]!)) this.i++
    const text = this.s.slice(start, this.i)
    if (!LITERAL.test(text)) throw new SyntaxError(`unexpected '${text || (c ?? 'end')}' at ${start}`)
    return { kind: 'raw', text }
  }
  /** Steps over a closing bracket and returns `node`. */
  close(node: Node): Node {
    this.i++
    return node
  }
  expect(c: string): void {
    if (this.s[this.i] !== c) throw new SyntaxError(`expected '${c}' at ${this.i}`)
    this.i++
  }
}

function write(node: Node): string {
  if (node.kind === 'raw') return node.text
  if (node.kind === 'array') return `[${node.items.map(write).join(', ')}]`
  return `{${node.entries.map((e) => `${e.keyText}: ${write(e.value)}`).join(', ')}}`
}

function child(node: Node | undefined, key: string): Node | undefined {
  return node?.kind === 'object' ? node.entries.find((e) => e.key === key)?.value : undefined
}

function setKey(node: Node | undefined, key: string, valueText: string): void {
  if (node?.kind !== 'object') return
  const value: Node = { kind: 'raw', text: valueText }
  const entry = node.entries.find((e) => e.key === key)
  if (entry) entry.value = value
  else node.entries.push({ key, keyText: pyString(key), value })
}

/**
 * Sets `headers.redelivered` and `properties.delivery_info.redelivered` to true in an envelope,
 * as Kombu does when it restores a message (appended when absent, replaced when present), and
 * rewrites it with Python's separators, every other value spelled as it was. Throws SyntaxError
 * when the text is not JSON.
 */
export function markRedelivered(envelope: string): string {
  const reader = new Reader(envelope)
  const root = reader.node()
  reader.ws()
  if (root.kind !== 'object' || reader.i !== envelope.length) throw new SyntaxError('not a JSON object')
  setKey(child(root, 'headers'), 'redelivered', 'true')
  setKey(child(child(root, 'properties'), 'delivery_info'), 'redelivered', 'true')
  return write(root)
}
