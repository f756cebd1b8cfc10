import { describe, expect, it } from 'vitest'
import { ContentDisallowedError, DecodeError, EncodeError, InvalidOptionError } from '../errors.js'
import { SerializerRegistry } from './registry.js'
import type { Serializer } from './types.js'

const upper: Serializer = {
  name: 'upper',
  contentType: 'application/x-upper',
  contentEncoding: 'utf-8',
  encode: (value) => Buffer.from(String(value).toUpperCase()),
  decode: (body) => {
    if (body.toString() === 'BAD') throw new RangeError('bad body')
    return body.toString().toLowerCase()
  },
}

function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (err) {
    return err
  }
  throw new Error('expected a throw')
}

describe('SerializerRegistry', () => {
  it('registers json, msgpack, raw and text by default, none when builtins is false', () => {
    expect(new SerializerRegistry().names()).toEqual(['json', 'msgpack', 'raw', 'text'])
    expect(new SerializerRegistry({ builtins: false }).names()).toEqual([])
  })

  it('finds serializers by name or content type', () => {
    const registry = new SerializerRegistry()
    expect(registry.get('json')?.contentType).toBe('application/json')
    expect(registry.get('application/x-msgpack')?.name).toBe('msgpack')
    expect(registry.has('text/plain')).toBe(true)
    expect(registry.get('yaml')).toBeUndefined()
  })

  it('registers and unregisters; instances do not share state', () => {
    const a = new SerializerRegistry()
    const b = new SerializerRegistry()
    a.register(upper)
    expect(a.has('upper') && a.has('application/x-upper')).toBe(true)
    expect(b.has('upper')).toBe(false)
    expect(a.unregister('upper')).toBe(true)
    expect(a.unregister('upper')).toBe(false)
    expect(a.has('application/x-upper')).toBe(false)
  })

  it('refuses a serializer without name or content type', () => {
    expect(() => new SerializerRegistry().register({ ...upper, name: '' })).toThrow(InvalidOptionError)
  })

  describe('encode (Kombu dumps rules)', () => {
    const registry = new SerializerRegistry()

    it('sends bytes raw, strings as text and the rest as json when no serializer is named', () => {
      expect(registry.encode(Buffer.from('x'))).toMatchObject({
        contentType: 'application/data',
        contentEncoding: 'binary',
      })
      expect(registry.encode('héllo')).toEqual({
        body: Buffer.from('héllo'),
        contentType: 'text/plain',
        contentEncoding: 'utf-8',
      })
      expect(registry.encode({ a: 1 })).toEqual({
        body: Buffer.from('{"a":1}'),
        contentType: 'application/json',
        contentEncoding: 'utf-8',
      })
    })

    it('uses the named serializer, even for strings', () => {
      expect(registry.encode('s', 'json').body.toString()).toBe('"s"')
      expect(registry.encode([1], 'msgpack')).toEqual({
        body: Buffer.from([0x91, 0x01]),
        contentType: 'application/x-msgpack',
        contentEncoding: 'binary',
      })
      // Kombu's raw_encode marks text it encoded as utf-8.
      expect(registry.encode('s', 'raw').contentEncoding).toBe('utf-8')
    })

    it('names the registered serializers and suggests a fix for an unknown name', () => {
      const err = thrown(() => registry.encode(1, 'msgpak')) as EncodeError
      expect(err).toBeInstanceOf(EncodeError)
      expect(err.message).toContain('json, msgpack, raw, text')
      expect(err.message).toContain("did you mean 'msgpack'?")
    })

    it('wraps errors of a custom serializer as EncodeError with the cause', () => {
      const r = new SerializerRegistry()
      const cause = new Error('boom')
      r.register({
        ...upper,
        encode: () => {
          throw cause
        },
      })
      const err = thrown(() => r.encode(1, 'upper')) as EncodeError
      expect(err).toBeInstanceOf(EncodeError)
      expect(err.cause).toBe(cause)
    })
  })

  describe('decode (Kombu loads rules)', () => {
    const registry = new SerializerRegistry()
    const json = Buffer.from('{"a": 1}')

    it('decodes by content type', () => {
      expect(registry.decode(json, 'application/json', 'utf-8')).toEqual({ a: 1 })
      expect(registry.decode(Buffer.from([0x91, 0x01]), 'application/x-msgpack', 'binary')).toEqual([1])
      expect(registry.decode(Buffer.from('hi'), 'text/plain', 'utf-8')).toBe('hi')
      expect(registry.decode(Buffer.from('hi'), 'application/text', 'utf-8')).toBe('hi')
    })

    it('returns the Buffer for a missing content type, application/data and an empty body', () => {
      const body = Buffer.from([1, 2])
      expect(registry.decode(body, undefined, undefined)).toBe(body)
      expect(registry.decode(body, '', 'binary')).toBe(body)
      expect(registry.decode(body, 'application/data', 'binary')).toBe(body)
      const empty = Buffer.alloc(0)
      expect(registry.decode(empty, 'application/json', 'utf-8')).toBe(empty)
    })

    it('allows content types of the accept list, given as content types or names', () => {
      const accept = registry.resolveAccept(['json', 'application/x-msgpack'])
      expect(accept).toEqual(new Set(['application/json', 'application/x-msgpack']))
      expect(registry.decode(json, 'application/json', 'utf-8', accept)).toEqual({ a: 1 })
      expect(registry.decode(json, 'application/json', 'utf-8', new Set(['json']))).toEqual({ a: 1 })
    })

    it('refuses content outside the accept list with ContentDisallowedError', () => {
      const err = thrown(() =>
        registry.decode(
          Buffer.from([0xc0]),
          'application/x-msgpack',
          'binary',
          new Set(['application/json']),
        ),
      ) as ContentDisallowedError
      expect(err).toBeInstanceOf(ContentDisallowedError)
      expect(err.message).toContain("'application/x-msgpack' (msgpack)")
      expect(err.message).toContain('[application/json]')
    })

    it('always trusts raw and text content, like Kombu', () => {
      const accept = new Set(['application/json'])
      const body = Buffer.from('x')
      expect(registry.decode(body, 'application/data', 'binary', accept)).toBe(body)
      expect(registry.decode(body, 'application/text', 'utf-8', accept)).toBe('x')
      expect(registry.decode(body, 'text/plain', 'utf-8', accept)).toBe('x')
      expect(registry.decode(body, undefined, undefined, accept)).toBe(body)
    })

    it('refuses an unknown content type with DecodeError', () => {
      const err = thrown(() =>
        registry.decode(Buffer.from('a: 1'), 'application/x-yaml', 'utf-8'),
      ) as DecodeError
      expect(err).toBeInstanceOf(DecodeError)
      expect(err.message).toMatch(
        /No serializer registered for content type 'application\/x-yaml'.*register\(\)/,
      )
    })

    it('wraps decoder errors as DecodeError with the cause', () => {
      const r = new SerializerRegistry()
      r.register(upper)
      expect(r.decode(Buffer.from('HI'), 'application/x-upper', 'utf-8')).toBe('hi')
      const err = thrown(() => r.decode(Buffer.from('BAD'), 'application/x-upper', 'utf-8')) as DecodeError
      expect(err).toBeInstanceOf(DecodeError)
      expect(err.cause).toBeInstanceOf(RangeError)
      const invalid = thrown(() => r.decode(Buffer.from('{'), 'application/json', 'utf-8')) as DecodeError
      expect(invalid).toBeInstanceOf(DecodeError)
      expect(invalid.cause).toBeInstanceOf(SyntaxError)
    })
  })

  describe('resolveAccept (Kombu prepare_accept_content)', () => {
    const registry = new SerializerRegistry()

    it('maps names to content types and keeps content types as they are', () => {
      expect(registry.resolveAccept(['json', 'msgpack', 'raw', 'text', 'application/x-yaml'])).toEqual(
        new Set([
          'application/json',
          'application/x-msgpack',
          'application/data',
          'text/plain',
          'application/x-yaml',
        ]),
      )
    })

    it('throws InvalidOptionError with a suggestion for a misspelt name', () => {
      const err = thrown(() => registry.resolveAccept(['jsno'])) as InvalidOptionError
      expect(err).toBeInstanceOf(InvalidOptionError)
      expect(err.message).toContain("unknown serializer 'jsno'")
      expect(err.message).toContain("did you mean 'json'?")
    })

    it('explains that pickle and yaml are Python-only', () => {
      expect(() => registry.resolveAccept(['json', 'pickle'])).toThrow(/Python-only/)
      expect(() => registry.resolveAccept(['protobuf'])).toThrow(
        /known serializers: json, msgpack, raw, text/,
      )
    })
  })
})
