import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as zlib from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { DecodeError, EncodeError, NotSupportedError } from '../errors.js'
import { CompressionRegistry } from './index.js'

const GOLDEN = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../../shared/protocol/golden')
const hasGolden = existsSync(GOLDEN)
const hasZstd = typeof (zlib as unknown as { zstdCompressSync?: unknown }).zstdCompressSync === 'function'
const hasPython = spawnSync('/usr/bin/python3', ['-c', 'import zlib'], { encoding: 'utf8' }).status === 0

const hello = Buffer.from('hello')
const big = Buffer.from('{"args": [1, 2, 3], "kwargs": {}} '.repeat(40000))

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected a throw')
}

describe('CompressionRegistry', () => {
  const registry = new CompressionRegistry()

  it('registers zlib (alias gzip), deflate, brotli and zstd only when Node has it', () => {
    expect(registry.get('zlib')?.contentType).toBe('application/x-gzip')
    expect(registry.get('gzip')).toBe(registry.get('zlib'))
    expect(registry.get('application/x-gzip')?.name).toBe('zlib')
    expect(registry.get('deflate')?.contentType).toBe('application/x-deflate')
    expect(registry.get('brotli')?.contentType).toBe('application/x-brotli')
    expect(registry.get('zstd') !== undefined).toBe(hasZstd)
    expect(new CompressionRegistry({ builtins: false }).names()).toEqual([])
  })

  it("sends a zlib stream (RFC 1950) under gzip, like Python's zlib.compress", () => {
    const { body, contentType } = registry.compress(hello, 'gzip')
    expect(contentType).toBe('application/x-gzip')
    expect(body[0]).toBe(0x78)
    expect(body[1]).toBe(0x9c)
    expect(zlib.inflateSync(body).toString()).toBe('hello')
  })

  it('decompresses both zlib streams and real gzip files under application/x-gzip', () => {
    expect(registry.decompress(zlib.deflateSync(hello), 'application/x-gzip').toString()).toBe('hello')
    expect(registry.decompress(zlib.gzipSync(hello), 'application/x-gzip').toString()).toBe('hello')
  })

  it.skipIf(!hasGolden)(
    `decompresses the golden Celery gzip message${hasGolden ? '' : ` [skipped: ${GOLDEN} not found]`}`,
    () => {
      const golden = JSON.parse(
        readFileSync(resolve(GOLDEN, 'publish_j_compression_gzip.redis.json'), 'utf8'),
      )
      const message = golden.messages[0]
      expect(message.envelope.headers.compression).toBe('application/x-gzip')
      const plain = registry.decompress(Buffer.from(message.envelope.body, 'base64'), 'application/x-gzip')
      expect(JSON.parse(plain.toString('utf8'))).toEqual(message.body_decoded)
      expect(JSON.parse(plain.toString('utf8'))).toEqual([
        [2, 3],
        {},
        { callbacks: null, errbacks: null, chain: null, chord: null },
      ])
    },
  )

  it.each(['zlib', 'deflate', 'brotli'])('round-trips a large body with %s', (name) => {
    const { body, contentType } = registry.compress(big, name)
    expect(body.length).toBeLessThan(big.length / 10)
    expect(registry.decompress(body, contentType).equals(big)).toBe(true)
  })

  it('writes raw deflate without the zlib header', () => {
    const { body } = registry.compress(hello, 'deflate')
    expect(zlib.inflateRawSync(body).toString()).toBe('hello')
    expect(() => zlib.inflateSync(body)).toThrow()
  })

  it.runIf(hasZstd)('round-trips zstd on this Node', () => {
    const { body, contentType } = registry.compress(big, 'zstandard')
    expect(contentType).toBe('application/zstd')
    expect(registry.decompress(body, 'application/zstd').equals(big)).toBe(true)
  })

  it.skipIf(hasZstd)(`explains that zstd needs Node >= 22.15 (this is Node ${process.versions.node})`, () => {
    const err = thrown(() => registry.compress(hello, 'zstd'))
    expect(err).toBeInstanceOf(NotSupportedError)
    expect((err as Error).message).toContain('Node >= 22.15')
    const decodeErr = thrown(() => registry.decompress(hello, 'application/zstd'))
    expect(decodeErr).toBeInstanceOf(DecodeError)
    expect((decodeErr as Error).message).toContain('Node >= 22.15')
  })

  it.each(['bz2', 'bzip2', 'lzma', 'xz'])('refuses Kombu-only %s with NotSupportedError', (name) => {
    expect(() => registry.compress(hello, name)).toThrow(NotSupportedError)
    expect(() => registry.compress(hello, name)).toThrow(/Kombu-only/)
  })

  it('refuses Kombu-only bz2/lzma bodies with DecodeError', () => {
    expect(() => registry.decompress(hello, 'application/x-bz2')).toThrow(DecodeError)
    expect(() => registry.decompress(hello, 'application/x-lzma')).toThrow(/Kombu-only/)
  })

  it('lists the known names for an unknown method', () => {
    const err = thrown(() => registry.compress(hello, 'snappy')) as EncodeError
    expect(err).toBeInstanceOf(EncodeError)
    expect(err.message).toMatch(/Unknown compression 'snappy' \(known: zlib, gzip, deflate, brotli/)
    expect(() => registry.decompress(hello, 'application/x-snappy')).toThrow(DecodeError)
  })

  it.each(['application/x-gzip', 'application/x-deflate', 'application/x-brotli'])(
    'wraps corrupt %s data as DecodeError with the cause',
    (contentType) => {
      const err = thrown(() => registry.decompress(Buffer.from('definitely not compressed'), contentType))
      expect(err).toBeInstanceOf(DecodeError)
      expect((err as DecodeError).cause).toBeInstanceOf(Error)
    },
  )

  it('accepts custom compressors', () => {
    const r = new CompressionRegistry({ builtins: false })
    r.register({
      name: 'reverse',
      aliases: ['rev'],
      contentType: 'application/x-reverse',
      compress: (b) => Buffer.from(b).reverse(),
      decompress: (b) => Buffer.from(b).reverse(),
    })
    const { body, contentType } = r.compress(hello, 'rev')
    expect(body.toString()).toBe('olleh')
    expect(r.decompress(body, contentType).toString()).toBe('hello')
  })

  it.skipIf(!hasPython)(
    `produces zlib data that Python's zlib.decompress reads${hasPython ? '' : ' [skipped: /usr/bin/python3 not found]'}`,
    () => {
      const { body } = registry.compress(big, 'gzip')
      const script =
        'import sys, zlib, hashlib; print(hashlib.sha256(zlib.decompress(sys.stdin.buffer.read())).hexdigest())'
      const out = spawnSync('/usr/bin/python3', ['-c', script], { input: body, encoding: 'utf8' })
      expect(out.stderr).toBe('')
      expect(out.stdout.trim()).toBe(createHash('sha256').update(big).digest('hex'))
    },
  )
})
