import { describe, expect, it } from 'vitest'
import {
  type BindingRow,
  direct,
  exchangeRouters,
  fanout,
  headers,
  headersMatch,
  topic,
  topicMatches,
  topicPattern,
} from './exchange-types.js'

describe('topicPattern (Kombu TopicExchange.key_to_pattern, byte for byte)', () => {
  it.each([
    ['golden.#', String.raw`^golden\..*?$`],
    ['*.error', String.raw`^.*?[^\.]\.error$`],
    ['a_b.c-d', String.raw`^a\_b\.c\-d$`],
    ['#', '^.*?$'],
    ['*', String.raw`^.*?[^\.]$`],
    ['a.*.b.#', String.raw`^a\..*?[^\.]\.b\..*?$`],
    ['', '^$'],
    ['celery', '^celery$'],
    ['a b/c:d', String.raw`^a\ b\/c\:d$`],
    ['x+y(z)', String.raw`^x\+y\(z\)$`],
  ])('%s -> %s', (key, pattern) => {
    expect(topicPattern(key)).toBe(pattern)
  })

  it('keeps letters and digits of any script unescaped, as str.isalnum()', () => {
    expect(topicPattern('café.2024')).toBe(String.raw`^café\.2024$`)
  })

  it('only turns whole words into wildcards', () => {
    expect(topicPattern('a*.b#')).toBe(String.raw`^a*\.b#$`)
  })

  it('writes NUL as \\000, as escape_regex does', () => {
    expect(topicPattern('a\0b')).toBe(String.raw`^a\000b$`)
  })

  it('is the pattern stored on topic binding rows', () => {
    expect(topic.prepareBind('q', 'ex', 'golden.#').pattern).toBe(String.raw`^golden\..*?$`)
    expect(direct.prepareBind('q', 'ex', 'golden.#').pattern).toBe('')
  })
})

describe('topicMatches (AMQP word semantics)', () => {
  it.each([
    ['a.*', 'a.b', true],
    ['a.*', 'a.b.c', false],
    ['a.*', 'a', false],
    ['a.#', 'a', true],
    ['a.#', 'a.b', true],
    ['a.#', 'a.b.c', true],
    ['a.#', 'b.a', false],
    ['#', '', true],
    ['#', 'a', true],
    ['#', 'a.b.c', true],
    ['*.b.#', 'x.b', true],
    ['*.b.#', 'x.b.c.d', true],
    ['*.b.#', 'b', false],
    ['*.b.#', 'x.y.b', false],
    ['#.b', 'b', true],
    ['#.b', 'a.a.b', true],
    ['#.b', 'a.b.c', false],
    ['a.#.z', 'a.z', true],
    ['a.#.z', 'a.b.c.z', true],
    ['a.#.z', 'a.b.c', false],
    ['*', 'a', true],
    ['*', 'a.b', false],
    ['*.*', 'a.b', true],
    ['golden.#', 'golden.rod', true],
    ['golden.#', 'goldenrod', false],
    ['a.b', 'a.b', true],
    ['a.b', 'a.bc', false],
    ['a_b.c-d', 'a_b.c-d', true],
    ['a.b', 'a.b.', false],
  ] as const)('%s vs %s -> %s', (bindingKey, routingKey, expected) => {
    expect(topicMatches(bindingKey, routingKey)).toBe(expected)
  })
})

const rows = (
  router: typeof direct,
  spec: Array<[queue: string, key: string, args?: Record<string, unknown>]>,
) => spec.map(([queue, key, args]) => router.prepareBind(queue, 'ex', key, args))

describe('direct', () => {
  it('routes on the exact key, in binding order, without duplicates', () => {
    const table = rows(direct, [
      ['q1', 'a'],
      ['q2', 'b'],
      ['q3', 'a'],
      ['q1', 'a'],
      ['q4', 'a.b'],
    ])
    expect(direct.lookup(table, 'a', {})).toEqual(['q1', 'q3'])
    expect(direct.lookup(table, 'b', {})).toEqual(['q2'])
    expect(direct.lookup(table, 'A', {})).toEqual([])
    expect(direct.lookup(table, 'a.*', {})).toEqual([])
    expect(direct.lookup([], 'a', {})).toEqual([])
  })

  it('builds rows with the key, no pattern and arguments only when given', () => {
    expect(direct.prepareBind('q', 'ex', 'k')).toEqual({
      queue: 'q',
      exchange: 'ex',
      routingKey: 'k',
      pattern: '',
    })
    expect(direct.prepareBind('q', 'ex', 'k', {})).toEqual({
      queue: 'q',
      exchange: 'ex',
      routingKey: 'k',
      pattern: '',
    })
    expect(direct.prepareBind('q', 'ex', 'k', { a: 1 }).arguments).toEqual({ a: 1 })
  })
})

describe('topic', () => {
  it('routes by words, each queue once', () => {
    const table = rows(topic, [
      ['all', '#'],
      ['errors', '*.error'],
      ['golden', 'golden.#'],
      ['all', 'golden.*'],
    ])
    expect(topic.lookup(table, 'golden.rod', {})).toEqual(['all', 'golden'])
    expect(topic.lookup(table, 'db.error', {})).toEqual(['all', 'errors'])
    expect(topic.lookup(table, 'db.x.error', {})).toEqual(['all'])
    expect(topic.lookup(table, 'golden', {})).toEqual(['all', 'golden'])
  })
})

describe('fanout', () => {
  it('routes to every bound queue whatever the key, each once', () => {
    const table = rows(fanout, [
      ['q1', 'x'],
      ['q2', ''],
      ['q1', 'y'],
    ])
    expect(fanout.lookup(table, 'anything', {})).toEqual(['q1', 'q2'])
    expect(fanout.lookup([], 'anything', {})).toEqual([])
  })
})

describe('headersMatch', () => {
  it("x-match 'all' (the default) needs every bound header", () => {
    const args = { format: 'pdf', type: 'report' }
    expect(headersMatch(args, { format: 'pdf', type: 'report', extra: 1 })).toBe(true)
    expect(headersMatch(args, { format: 'pdf' })).toBe(false)
    expect(headersMatch({ ...args, 'x-match': 'all' }, { format: 'pdf', type: 'log' })).toBe(false)
  })

  it("x-match 'any' needs one bound header", () => {
    const args = { 'x-match': 'any', format: 'pdf', type: 'report' }
    expect(headersMatch(args, { format: 'zip', type: 'report' })).toBe(true)
    expect(headersMatch(args, { format: 'zip', type: 'log' })).toBe(false)
    expect(headersMatch(args, {})).toBe(false)
  })

  it("ignores binding keys that start with 'x-'", () => {
    const args = { 'x-match': 'all', 'x-custom': 'ignored', format: 'pdf' }
    expect(headersMatch(args, { format: 'pdf' })).toBe(true)
  })

  it('compares values strictly', () => {
    expect(headersMatch({ n: 1 }, { n: '1' })).toBe(false)
    expect(headersMatch({ n: 1 }, { n: 1 })).toBe(true)
  })

  it("matches everything with 'all' and no header arguments", () => {
    expect(headersMatch(undefined, { a: 1 })).toBe(true)
    expect(headersMatch({ 'x-match': 'all' }, {})).toBe(true)
  })
})

describe('headers router', () => {
  it('routes on headers, not on the key, each queue once', () => {
    const table: BindingRow[] = rows(headers, [
      ['pdf', '', { format: 'pdf' }],
      ['reports', 'ignored', { 'x-match': 'any', type: 'report', format: 'doc' }],
      ['pdf', 'other', { type: 'report' }],
    ])
    expect(headers.lookup(table, 'whatever', { format: 'pdf', type: 'report' })).toEqual(['pdf', 'reports'])
    expect(headers.lookup(table, 'whatever', { format: 'doc' })).toEqual(['reports'])
    expect(headers.lookup(table, 'pdf', {})).toEqual([])
  })
})

describe('exchangeRouters', () => {
  it('has one router per exchange type and is frozen', () => {
    expect(Object.keys(exchangeRouters).sort()).toEqual(['direct', 'fanout', 'headers', 'topic'])
    expect(exchangeRouters.topic).toBe(topic)
    expect(Object.isFrozen(exchangeRouters)).toBe(true)
  })
})
