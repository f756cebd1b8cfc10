import { describe, expect, it } from 'vitest'
import { DecodeError, EncodeError } from '../errors.js'
import { raw, text } from './raw.js'

describe('raw', () => {
  it('is application/data, binary', () => {
    expect([raw.name, raw.contentType, raw.contentEncoding]).toEqual(['raw', 'application/data', 'binary'])
  })

  it('passes a Buffer through without copying and decodes to the same Buffer', () => {
    const body = Buffer.from([1, 2, 3])
    expect(raw.encode(body)).toBe(body)
    expect(raw.decode(body)).toBe(body)
  })

  it('wraps a Uint8Array view without losing its offset', () => {
    const bytes = new Uint8Array([9, 1, 2, 9]).subarray(1, 3)
    const encoded = raw.encode(bytes)
    expect(Buffer.isBuffer(encoded)).toBe(true)
    expect([...encoded]).toEqual([1, 2])
  })

  it('encodes a string as UTF-8', () => {
    expect(raw.encode('é').equals(Buffer.from([0xc3, 0xa9]))).toBe(true)
  })

  it.each([[{ a: 1 }], [[1]], [42], [null]])('refuses %j with EncodeError', (value) => {
    expect(() => raw.encode(value)).toThrow(EncodeError)
    expect(() => raw.encode(value)).toThrow(/json or msgpack/)
  })
})

describe('text', () => {
  it('is text/plain, utf-8', () => {
    expect([text.name, text.contentType, text.contentEncoding]).toEqual(['text', 'text/plain', 'utf-8'])
  })

  it('round-trips unicode strings', () => {
    const value = 'héllo ✓ 😀'
    expect(text.decode(text.encode(value))).toBe(value)
  })

  it('takes a Buffer as UTF-8 bytes', () => {
    expect(text.decode(text.encode(Buffer.from('abc')))).toBe('abc')
  })

  it('refuses non-strings and invalid UTF-8', () => {
    expect(() => text.encode({ a: 1 })).toThrow(EncodeError)
    expect(() => text.decode(Buffer.from([0xff, 0xfe]))).toThrow(DecodeError)
  })
})
