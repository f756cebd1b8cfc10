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
 * The RESP array `LPUSH key raws...` built one envelope at a time: each is copied into the
 * command's bytes when it is added, so a batch never holds its envelope strings alive together:
 * every young-generation collection during a batch of 1,000 would otherwise copy all of those
 * written so far. The key is written as UTF-8 (a queue name may be
 * any text), each envelope as Latin-1, which for the ASCII text of an envelope is its bytes.
 */
export class LpushPacker {
  private buf: Buffer | undefined
  private at: number
  private count = 0
  /** Room kept at the start for the command's header, whose count is known at the end. */
  private readonly head: number

  /** `expected`: how many envelopes will be added, to size the buffer from the first one. */
  constructor(
    readonly key: string,
    private readonly expected: number,
  ) {
    const keyBytes = Buffer.byteLength(key)
    this.head = 1 + 10 + 2 + 11 + (1 + digits(keyBytes) + 2 + keyBytes + 2)
    this.at = this.head
  }

  /** How many envelopes were added. */
  get size(): number {
    return this.count
  }

  /** Bytes of the envelopes added, with their framing. */
  get bytes(): number {
    return this.at - this.head
  }

  /** Appends one envelope. */
  add(raw: string): void {
    const n = raw.length
    const need = 1 + digits(n) + 2 + n + 2
    let buf = this.buf
    if (buf === undefined || this.at + need > buf.length) buf = this.grow(need)
    let at = writeCount(buf, this.at, 36, n) // '$'
    // Latin-1: an ASCII envelope's characters are its bytes, copied without UTF-8 encoding.
    at += buf.write(raw, at, 'latin1')
    buf[at++] = CR
    buf[at++] = LF
    this.at = at
    this.count++
  }

  /** The command's bytes (a view of the packer's buffer). */
  finish(): Buffer {
    const keyBytes = Buffer.byteLength(this.key)
    const headLength = 1 + digits(this.count + 2) + 2 + 11 + (1 + digits(keyBytes) + 2 + keyBytes + 2)
    const start = this.head - headLength
    const buf = this.buf ?? Buffer.allocUnsafe(this.head)
    let at = writeCount(buf, start, 42, this.count + 2) // '*'
    at += buf.write('$5\r\nLPUSH\r\n', at, 'latin1')
    at = writeCount(buf, at, 36, keyBytes) // '$'
    at += buf.write(this.key, at, 'utf8')
    buf[at++] = CR
    buf[at] = LF
    return buf.subarray(start, this.at)
  }

  /**
   * A buffer with room for `need` more bytes: at first, for every expected envelope up to a
   * little over {@link LPUSH_BYTES} (where a batch cuts its commands).
   */
  private grow(need: number): Buffer {
    const old = this.buf
    const left = Math.max(1, this.expected - this.count)
    const size =
      old === undefined
        ? this.head + Math.min(left * (need + 8), LPUSH_BYTES + 2 * need)
        : Math.max(old.length * 2, this.at + need)
    const buf = takeSpare(size) ?? Buffer.allocUnsafe(size)
    if (old !== undefined) old.copy(buf, 0, 0, this.at)
    this.buf = buf
    return buf
  }

  /** Hands the buffer back for a later command, once its bytes were sent and answered. */
  release(): void {
    const buf = this.buf
    this.buf = undefined
    if (buf !== undefined && buf.length >= SPARE_MIN && buf.length <= SPARE_MAX && spares.length < SPARES)
      spares.push(buf)
  }
}

/**
 * Bytes of envelopes after which a batch sends the command it has and starts another: Redis
 * stores the first while the next are encoded, rather than waiting for the whole batch.
 */
export const LPUSH_BYTES = 128 * 1024

/**
 * Buffers of commands answered, kept for the next ones: one allocated per command is fresh
 * memory from the kernel each time, and the page faults of its first write cost a quarter of a
 * microsecond per envelope. Kept only once the LPUSH was answered (its bytes have left the
 * process); a few, each of at least {@link SPARE_MIN} bytes (a single message's command is a
 * slice of Node's own pool) and at most {@link SPARE_MAX}.
 */
const spares: Buffer[] = []
const SPARES = 16
const SPARE_MIN = 64 * 1024
const SPARE_MAX = 1024 * 1024

function takeSpare(size: number): Buffer | undefined {
  for (let i = spares.length - 1; i >= 0; i--) {
    const buf = spares[i]!
    if (buf.length < size) continue
    spares[i] = spares[spares.length - 1]!
    spares.pop()
    return buf
  }
  return undefined
}

/** A packer holding `raws`. */
function packerOf(key: string, raws: readonly string[]): LpushPacker {
  const packer = new LpushPacker(key, raws.length)
  for (let i = 0; i < raws.length; i++) packer.add(raws[i]!)
  return packer
}

/** The bytes of `LPUSH key raws...`. */
export function packLpush(key: string, raws: readonly string[]): Buffer {
  return packerOf(key, raws).finish()
}

/** An LPUSH written as bytes packed beforehand (a resend writes the same bytes). */
class PackedLpush extends Command {
  constructor(
    key: string,
    private readonly bytes: Buffer,
  ) {
    super('lpush', [key])
  }

  override toWritable(_socket: object): Buffer {
    return this.bytes
  }
}

/**
 * Sends a packed LPUSH on `client`, resolving with the list's new length. For the transport's
 * clients only: without ioredis' `keyPrefix` (the transport's key prefix is in the key already)
 * or its automatic pipelines (which a command written at once would overtake).
 */
export function sendLpush(client: Redis, packer: LpushPacker): Promise<unknown> {
  const sent = client.sendCommand(new PackedLpush(packer.key, packer.finish())) as Promise<unknown>
  return sent.then((length) => {
    packer.release()
    return length
  })
}

/** `LPUSH key ...raws` on a transport client (see {@link sendLpush}). */
export function lpushEnvelopes(client: Redis, key: string, raws: readonly string[]): Promise<unknown> {
  return sendLpush(client, packerOf(key, raws))
}
