import { ConfigurationError } from '@q/celery'
import { describe, expect, it } from 'vitest'
import { maskPassword, parseRedisUrl } from './url.js'

describe('parseRedisUrl', () => {
  it('reads host, port, db and a percent-encoded password', () => {
    expect(parseRedisUrl('redis://:p%40ss@cache.internal:6380/3')).toEqual({
      scheme: 'redis',
      hosts: [{ host: 'cache.internal', port: 6380 }],
      db: 3,
      password: 'p@ss',
      query: {},
    })
  })

  it('fills in the defaults: localhost, 6379, db 0', () => {
    for (const url of ['redis://', 'redis://localhost', 'redis://localhost/', 'redis://localhost:6379/0']) {
      const t = parseRedisUrl(url)
      expect([t.hosts, t.db]).toEqual([[{ host: 'localhost', port: 6379 }], 0])
    }
  })

  it('reads an ACL user, an IPv6 host and the query', () => {
    const t = parseRedisUrl('rediss://app:secret@[::1]:7000/2?ssl_cert_reqs=CERT_NONE')
    expect(t).toMatchObject({
      scheme: 'rediss',
      username: 'app',
      password: 'secret',
      hosts: [{ host: '::1', port: 7000 }],
      db: 2,
      query: { ssl_cert_reqs: 'CERT_NONE' },
    })
  })

  it('takes several sentinels separated by ";", db and password from the first', () => {
    const t = parseRedisUrl(
      'sentinel://:pw@s1:26380/4;sentinel://s2/4;sentinel://s3:26381?master_name=mymaster',
    )
    expect(t).toMatchObject({
      scheme: 'sentinel',
      password: 'pw',
      db: 4,
      hosts: [
        { host: 's1', port: 26380 },
        { host: 's2', port: 26379 },
        { host: 's3', port: 26381 },
      ],
      query: { master_name: 'mymaster' },
    })
  })

  it('refuses what Celery refuses, naming the problem and hiding the password', () => {
    const cases: Array<[string, RegExp]> = [
      ['redis://:secret@h/abc', /database 'abc'/],
      ['redis://:secret@h/-1', /database '-1'/],
      ['redis://:secret@h1;redis://h2', /only sentinel:\/\//],
      ['amqp://:secret@h', /scheme 'amqp:\/\/'/],
      ['not a url', /is not a URL/],
      ['', /empty/],
    ]
    for (const [url, message] of cases) {
      const err = (() => {
        try {
          parseRedisUrl(url)
        } catch (e) {
          return e as Error
        }
      })()
      expect(err, url).toBeInstanceOf(ConfigurationError)
      expect(err?.message).toMatch(message)
      expect(err?.message).not.toContain('secret')
    }
  })
})

describe('maskPassword', () => {
  it('masks every password, keeps user names', () => {
    expect(maskPassword('redis://:secret@h:6379/1')).toBe('redis://:**@h:6379/1')
    expect(maskPassword('rediss://app:secret@h/1')).toBe('rediss://app:**@h/1')
    expect(maskPassword('sentinel://:a@s1;sentinel://:b@s2')).toBe('sentinel://:**@s1;sentinel://:**@s2')
    expect(maskPassword('redis://h:6379/0')).toBe('redis://h:6379/0')
  })
})
