import { describe, expect, it } from 'vitest'
import { LpushPacker, packLpush } from './packed-lpush.js'

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

  it('grows past what it expected, and writes a command of no envelopes', () => {
    const packer = new LpushPacker('q', 1)
    const raws = ['{"a": 1}', `{"b": "${'y'.repeat(5000)}"}`, '{"c": 3}']
    for (const raw of raws) packer.add(raw)
    expect(packer.size).toBe(3)
    expect(packer.finish().toString('latin1')).toBe(resp(['LPUSH', 'q', ...raws]))
    expect(new LpushPacker('q', 10).finish().toString('latin1')).toBe(resp(['LPUSH', 'q']))
  })
})

describe('LpushPacker buffers', () => {
  it('reuses a released buffer for the next batch only, never one still unsent', () => {
    const big = `{"x": "${'z'.repeat(2000)}"}`
    const first = new LpushPacker('q', 100)
    for (let i = 0; i < 100; i++) first.add(big)
    const firstBytes = first.finish()
    // Not released: a second batch must not write into the first one's bytes.
    const second = new LpushPacker('q', 100)
    for (let i = 0; i < 100; i++) second.add('{"y": 2}')
    const secondBytes = second.finish()
    expect(firstBytes.toString('latin1')).toBe(resp(['LPUSH', 'q', ...Array(100).fill(big)]))
    expect(secondBytes.buffer).not.toBe(firstBytes.buffer)
    first.release()
    const third = new LpushPacker('q', 10)
    for (let i = 0; i < 10; i++) third.add('{"w": 3}')
    const thirdBytes = third.finish()
    expect(thirdBytes.buffer).toBe(firstBytes.buffer)
    expect(thirdBytes.toString('latin1')).toBe(resp(['LPUSH', 'q', ...Array(10).fill('{"w": 3}')]))
    expect(secondBytes.toString('latin1')).toBe(resp(['LPUSH', 'q', ...Array(100).fill('{"y": 2}')]))
  })
})
