import { describe, expect, it } from 'vitest'
import { packLpush } from './packed-lpush.js'

/** The RESP array ioredis writes for LPUSH with string arguments. */
const resp = (args: string[]) =>
  `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`

describe('packLpush', () => {
  it('writes the bytes of LPUSH key envelopes...', () => {
    const raws = ['{"body": "eyJ9"}', `{"a": "${'x'.repeat(1234)}"}`, '']
    expect(packLpush('celery', raws).toString('latin1')).toBe(resp(['LPUSH', 'celery', ...raws]))
  })

  it('writes a non-ASCII key as UTF-8, and counts of 10 and more', () => {
    const raws = Array.from({ length: 12 }, (_, i) => `{"n": ${i}}`)
    const key = 'files\x06\x169 \u00e9t\u00e9 \u{1f600}'
    expect(packLpush(key, raws).equals(Buffer.from(resp(['LPUSH', key, ...raws]), 'utf8'))).toBe(true)
  })

  it('copies an envelope built by concatenation (a rope) as it reads', () => {
    let raw = '{'
    for (let i = 0; i < 50; i++) raw += `"k${i}": ${i}, `
    raw += '"end": null}'
    expect(packLpush('q', [raw]).toString('latin1')).toBe(resp(['LPUSH', 'q', raw]))
  })
})
