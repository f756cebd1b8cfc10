/**
 * One LPUSH of many envelopes, its RESP bytes written once into one Buffer.
 *
 * Handed as strings, ioredis measures every argument with `Buffer.byteLength` (flattening each
 * envelope, itself a rope of concatenations), concatenates the whole command into one string of
 * ~1.4 MB per 1,000 envelopes, and the socket then encodes that rope as UTF-8 again: per message,
 * more CPU than building the envelope. Envelopes are ASCII by construction (Python's
 * `json.dumps` with `ensure_ascii`, which `pyDumps` follows: every character from U+007F up is
 * written as `\uXXXX`), so their byte length is their length and a Latin-1 write copies them as
 * they are.
 */
import { Command, type Redis } from 'ioredis'

const CR = 13
const LF = 10

/** Digits of a non-negative integer. */
function digits(n: number): number {
  let d = 1
  while (n >= 10) {
    n = Math.floor(n / 10)
    d++
  }
  return d
}

/** Writes `prefix` (`*` or `$`), the decimal `n` and CRLF at `at`; returns the offset after them. */
function writeCount(buf: Buffer, at: number, prefix: number, n: number): number {
  buf[at++] = prefix
  const end = at + digits(n)
  for (let i = end - 1; i >= at; i--) {
    buf[i] = 48 + (n % 10)
    n = Math.floor(n / 10)
  }
  buf[end] = CR
  buf[end + 1] = LF
  return end + 2
}

/**
 * The RESP array `LPUSH key raws...`: the key as UTF-8 (a queue name may be any text), each
 * envelope as Latin-1, which for the ASCII text of an envelope is its exact bytes.
 */
export function packLpush(key: string, raws: readonly string[]): Buffer {
  const keyBytes = Buffer.byteLength(key)
  let size = 1 + digits(raws.length + 2) + 2 + 11 + (1 + digits(keyBytes) + 2 + keyBytes + 2)
  for (let i = 0; i < raws.length; i++) {
    const n = raws[i]!.length
    size += 1 + digits(n) + 2 + n + 2
  }
  const buf = Buffer.allocUnsafe(size)
  let at = writeCount(buf, 0, 42, raws.length + 2) // '*'
  at += buf.write('$5\r\nLPUSH\r\n', at, 'latin1')
  at = writeCount(buf, at, 36, keyBytes) // '$'
  at += buf.write(key, at, 'utf8')
  buf[at++] = CR
  buf[at++] = LF
  for (let i = 0; i < raws.length; i++) {
    const raw = raws[i]!
    at = writeCount(buf, at, 36, raw.length)
    // Latin-1: an ASCII envelope's characters are its bytes, copied without UTF-8 encoding.
    at += buf.write(raw, at, 'latin1')
    buf[at++] = CR
    buf[at++] = LF
  }
  return buf
}

/**
 * An LPUSH whose bytes are {@link packLpush}'s, packed when made: the envelope strings can be
 * collected at once (the Buffer lives outside V8's heap), and a resend writes the same bytes.
 */
class PackedLpush extends Command {
  private readonly bytes: Buffer

  constructor(key: string, raws: readonly string[]) {
    super('lpush', [key])
    this.bytes = packLpush(key, raws)
  }

  override toWritable(_socket: object): Buffer {
    return this.bytes
  }
}

/**
 * `LPUSH key ...raws` on `client`, resolving with the list's new length. Written at once as one
 * Buffer when the client is ready and nothing waits in its automatic pipelines (so the command
 * keeps its place after every command issued before it); otherwise as ioredis' own `lpush`,
 * which queues behind them. Only for clients without ioredis' `keyPrefix` (the transport's
 * clients have none: its key prefix is in `key` already).
 */
export function lpushEnvelopes(client: Redis, key: string, raws: readonly string[]): Promise<unknown> {
  if (client.status !== 'ready' || client.autoPipelineQueueSize > 0 || client.options.keyPrefix)
    return client.lpush(key, ...raws)
  return client.sendCommand(new PackedLpush(key, raws)) as Promise<unknown>
}
