import { describe, expect, it } from 'vitest'
import { LamportClock } from './clock.js'
import { globToRegExp, matchHostname } from './matcher.js'

describe('LamportClock', () => {
  it('forwards by one and adjusts past a received value', () => {
    const c = new LamportClock()
    expect(c.forward()).toBe(1)
    expect(c.adjust(7)).toBe(8)
    expect(c.adjust(3)).toBe(9)
    expect(c.forward()).toBe(10)
    expect(c.value).toBe(10)
  })

  it('treats garbage as 0', () => {
    const c = new LamportClock(4)
    expect(c.adjust(Number.NaN)).toBe(5)
    expect(c.adjust('12' as unknown as number)).toBe(13)
  })
})

describe('matchHostname', () => {
  it('globs as fnmatch: the whole name, case-sensitive', () => {
    expect(matchHostname('capture@golden', 'capture@*')).toBe(true)
    expect(matchHostname('capture@golden', 'capture@*', 'glob')).toBe(true)
    expect(matchHostname('capture@golden', 'capture')).toBe(false)
    expect(matchHostname('w1@h', 'w?@h')).toBe(true)
    expect(matchHostname('w12@h', 'w?@h')).toBe(false)
    expect(matchHostname('w1@h', 'w[0-2]@h')).toBe(true)
    expect(matchHostname('w3@h', 'w[!0-2]@h')).toBe(true)
    expect(matchHostname('w1@h', 'w[!0-2]@h')).toBe(false)
    expect(matchHostname('W1@h', 'w*')).toBe(false)
    expect(matchHostname('a.b(c)+', 'a.b(c)+')).toBe(true)
    expect(matchHostname('axb', 'a.b')).toBe(false)
    expect(matchHostname('[x', '[x')).toBe(true)
  })

  it('matches pcre as re.match: anchored at the start only', () => {
    expect(matchHostname('celery@web1', 'celery@web\\d', 'pcre')).toBe(true)
    expect(matchHostname('celery@web1.example', 'celery@web', 'pcre')).toBe(true)
    expect(matchHostname('x-celery@web1', 'celery', 'pcre')).toBe(false)
    expect(matchHostname('w1@h', '(?P<n>w)\\d', 'pcre')).toBe(true)
  })

  it('refuses unknown matchers', () => {
    expect(() => matchHostname('a', 'a', 'regex')).toThrow(/No matcher installed for regex/)
  })

  it('translates globs to anchored expressions', () => {
    expect(globToRegExp('a*').source).toBe('^(?:a[\\s\\S]*)$')
  })
})
