import { describe, expect, it } from 'vitest'
import { InvalidUrlError } from './errors.js'
import { maskUrl, parseUrl, queryToOptions, splitUrls } from './url.js'

function thrown(fn: () => unknown): Error {
  try {
    fn()
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a throw')
}

describe('parseUrl (kombu.utils.url.url_to_parts)', () => {
  it('splits user, password, host, port and vhost', () => {
    const u = parseUrl('amqp://user:pass@host:5672/vhost')
    expect(u).toMatchObject({
      href: 'amqp://user:pass@host:5672/vhost',
      scheme: 'amqp',
      userid: 'user',
      password: 'pass',
      hostname: 'host',
      port: 5672,
      virtualHost: 'vhost',
      query: {},
    })
  })

  it("reads '//' and '/%2F' as the vhost '/'", () => {
    expect(parseUrl('amqp://host//').virtualHost).toBe('/')
    expect(parseUrl('amqp://host/%2F').virtualHost).toBe('/')
    expect(parseUrl('amqp://guest:guest@localhost:5672//').virtualHost).toBe('/')
  })

  it('gives an empty vhost and no port when there are none', () => {
    const u = parseUrl('amqp://host')
    expect(u.virtualHost).toBe('')
    expect(u.port).toBeUndefined()
    expect(u.userid).toBeUndefined()
    expect(u.password).toBeUndefined()
    expect(parseUrl('amqp://host/').virtualHost).toBe('')
  })

  it('keeps the rest of the path after the first slash', () => {
    expect(parseUrl('amqp://host/a/b').virtualHost).toBe('a/b')
  })

  it('reads a Redis URL with a password and no user', () => {
    const u = parseUrl('redis://:secret@localhost:6379/3')
    expect(u.userid).toBeUndefined()
    expect(u.password).toBe('secret')
    expect(u.hostname).toBe('localhost')
    expect(u.port).toBe(6379)
    expect(u.virtualHost).toBe('3')
  })

  it('reads a user without a password', () => {
    const u = parseUrl('amqp://guest@host')
    expect(u.userid).toBe('guest')
    expect(u.password).toBeUndefined()
  })

  it('percent-decodes the user, password and vhost', () => {
    const u = parseUrl('amqp://us%3Aer:p%40ss@host/my%20vhost')
    expect(u.userid).toBe('us:er')
    expect(u.password).toBe('p@ss')
    expect(u.virtualHost).toBe('my vhost')
  })

  it("takes the host after the last '@' (a raw '@' in the password)", () => {
    const u = parseUrl('amqp://user:p@ss@host:5672/')
    expect(u.userid).toBe('user')
    expect(u.password).toBe('p@ss')
    expect(u.hostname).toBe('host')
    expect(u.port).toBe(5672)
  })

  it('reads a bracketed IPv6 host with a port', () => {
    const u = parseUrl('amqp://guest:guest@[::1]:5672//')
    expect(u.hostname).toBe('::1')
    expect(u.port).toBe(5672)
    expect(u.virtualHost).toBe('/')
    expect(parseUrl('redis://[fe80::1]/0').hostname).toBe('fe80::1')
  })

  it('keeps the scheme as written, lower-cased, and the href verbatim', () => {
    expect(parseUrl('pyamqp://h').scheme).toBe('pyamqp')
    expect(parseUrl('REDISS://h').scheme).toBe('rediss')
    expect(parseUrl('REDISS://h').href).toBe('REDISS://h')
    expect(parseUrl('memory://').hostname).toBe('')
  })

  it('keeps the query string raw in `query`', () => {
    const u = parseUrl('redis://localhost:6379/0?visibility_timeout=3600&ssl_cert_reqs=none&x=a%20b')
    expect(u.virtualHost).toBe('0')
    expect(u.query).toEqual({ visibility_timeout: '3600', ssl_cert_reqs: 'none', x: 'a b' })
  })

  it('returns a frozen value', () => {
    const u = parseUrl('amqp://h?a=1')
    expect(Object.isFrozen(u)).toBe(true)
    expect(Object.isFrozen(u.query)).toBe(true)
  })

  it('rejects a URL without a scheme, saying what a URL looks like', () => {
    const err = thrown(() => parseUrl('localhost:5672'))
    expect(err).toBeInstanceOf(InvalidUrlError)
    expect(err.message).toMatch(/no scheme/)
    expect(err.message).toMatch(/<transport>:\/\//)
  })

  it('rejects an empty URL', () => {
    const err = thrown(() => parseUrl('  '))
    expect(err).toBeInstanceOf(InvalidUrlError)
    expect(err.message).toMatch(/empty/)
  })

  it.each([
    'amqp://host:abc/',
    'amqp://host:0/',
    'amqp://host:65536/',
    'amqp://host:-1/',
    'amqp://host:1.5/',
  ])('rejects the invalid port in %s, naming the valid range', (url) => {
    const err = thrown(() => parseUrl(url))
    expect(err).toBeInstanceOf(InvalidUrlError)
    expect(err.message).toMatch(/invalid port/)
    expect(err.message).toMatch(/1-65535/)
  })

  it('accepts the port bounds', () => {
    expect(parseUrl('amqp://h:1').port).toBe(1)
    expect(parseUrl('amqp://h:65535').port).toBe(65535)
  })

  it('rejects bad percent-encoding, naming the part', () => {
    const err = thrown(() => parseUrl('amqp://user:%E0%A4%A@host/'))
    expect(err).toBeInstanceOf(InvalidUrlError)
    expect(err.message).toMatch(/password/)
  })

  it('never puts the password in an error message', () => {
    const err = thrown(() => parseUrl('amqp://user:topsecret@host:notaport/'))
    expect(err).toBeInstanceOf(InvalidUrlError)
    expect(err.message).not.toContain('topsecret')
    expect(err.message).toContain('amqp://user:**@host')
  })
})

describe('splitUrls', () => {
  it("splits a ';'-separated failover list, trimming and dropping empty items", () => {
    expect(splitUrls('amqp://a//;amqp://b//')).toEqual(['amqp://a//', 'amqp://b//'])
    expect(splitUrls(' amqp://a ; ;amqp://b; ')).toEqual(['amqp://a', 'amqp://b'])
  })

  it('takes an array as it is', () => {
    const list = ['redis://a', ' redis://b ']
    expect(splitUrls(list)).toEqual(['redis://a', 'redis://b'])
    expect(list).toEqual(['redis://a', ' redis://b ']) // not mutated
  })

  it('gives an empty list for an empty string', () => {
    expect(splitUrls('')).toEqual([])
  })
})

describe('maskUrl', () => {
  it('hides the password', () => {
    expect(maskUrl('amqp://user:pass@host:5672/vhost')).toBe('amqp://user:**@host:5672/vhost')
    expect(maskUrl('redis://:secret@localhost:6379/3')).toBe('redis://:**@localhost:6379/3')
  })

  it('leaves URLs without a password alone', () => {
    expect(maskUrl('amqp://host:5672//')).toBe('amqp://host:5672//')
    expect(maskUrl('amqp://user@host//')).toBe('amqp://user@host//')
    expect(maskUrl('memory://')).toBe('memory://')
  })

  it("hides all of a password that contains a raw '@' (parsed up to the last '@')", () => {
    expect(maskUrl('amqp://user:p@ss@host/')).toBe('amqp://user:**@host/')
    expect(maskUrl('amqp://user:p@ss@host?a=b')).toBe('amqp://user:**@host?a=b')
  })

  it("does not touch an '@' in the path or the query", () => {
    expect(maskUrl('amqp://host/v@h')).toBe('amqp://host/v@h')
    expect(maskUrl('sqs://host?queue=a:b@c')).toBe('sqs://host?queue=a:b@c')
  })
})

describe('queryToOptions', () => {
  it('turns snake_case keys into camelCase', () => {
    expect(
      queryToOptions({ visibility_timeout: '3600', region: 'eu-west-1', ssl_cert_reqs: 'CERT_NONE' }),
    ).toEqual({
      visibilityTimeout: 3600,
      region: 'eu-west-1',
      sslCertReqs: 'CERT_NONE',
    })
  })

  it('converts numbers and booleans, and leaves other strings', () => {
    expect(
      queryToOptions({
        a: '10',
        b: '-2.5',
        c: 'true',
        d: 'no',
        e: 'ON',
        f: 'off',
        g: '1e3',
        h: 'abc',
        i: '',
      }),
    ).toEqual({ a: 10, b: -2.5, c: true, d: false, e: true, f: false, g: '1e3', h: 'abc', i: '' })
  })

  it('works on a parsed URL', () => {
    const { query } = parseUrl('redis://h/0?socket_timeout=5&retry_on_timeout=yes')
    expect(queryToOptions(query)).toEqual({ socketTimeout: 5, retryOnTimeout: true })
  })
})
