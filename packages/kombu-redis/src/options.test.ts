import { InvalidOptionError, parseUrl } from '@q/kombu'
import { queryToOptions } from '@q/kombu/internal'
import { describe, expect, it } from 'vitest'
import { databaseOf } from './client.js'
import { classifyError } from './errors.js'
import { resolveOptions } from './options.js'

describe('options', () => {
  it("has Kombu's defaults", () => {
    expect(resolveOptions({})).toMatchObject({
      sep: '\x06\x16',
      unackedKey: 'unacked',
      unackedIndexKey: 'unacked_index',
      unackedMutexKey: 'unacked_mutex',
      unackedMutexExpire: 300,
      visibilityTimeout: 3600,
      leaseInterval: 1200,
      prioritySteps: [0, 3, 6, 9],
      fanoutPrefix: true,
      fanoutPatterns: true,
      globalKeyprefix: '',
      queueOrderStrategy: 'round_robin',
      fanoutExchanges: ['celery.pidbox', 'celeryev'],
      fetchBatchSize: 200,
    })
  })

  it("takes Kombu's option names from a URL query, in camelCase", () => {
    const url = parseUrl(
      'redis://h/2?visibility_timeout=30&priority_steps=0,5&global_keyprefix=p:&fanout_exchanges=a,b',
    )
    const o = resolveOptions(queryToOptions(url.query))
    expect(o).toMatchObject({
      visibilityTimeout: 30,
      leaseInterval: 10,
      prioritySteps: [0, 5],
      globalKeyprefix: 'p:',
    })
    expect(o.fanoutExchanges).toEqual(['celery.pidbox', 'celeryev', 'a', 'b'])
    expect(databaseOf(url)).toBe(2)
    expect(databaseOf(parseUrl('redis://h'))).toBe(0)
    expect(() => databaseOf(parseUrl('redis://h/x'))).toThrow(InvalidOptionError)
  })

  it('names the bad option', () => {
    expect(() => resolveOptions({ visibilityTimeout: -1 })).toThrow(/visibilityTimeout/)
    expect(() => resolveOptions({ prioritySteps: [3, 6] })).toThrow(/prioritySteps/)
    expect(() => resolveOptions({ queueOrderStrategy: 'random' })).toThrow(/queueOrderStrategy/)
    expect(() => resolveOptions({ fetchBatchSize: 0 })).toThrow(/fetchBatchSize/)
    expect(() => resolveOptions({ fetchBatchSize: 2.5 })).toThrow(/fetchBatchSize.*whole number/)
    expect(resolveOptions({ fetchBatchSize: 400 }).fetchBatchSize).toBe(400)
  })

  it('classifies ioredis errors', () => {
    const sys = (code: string) => Object.assign(new Error(code), { code })
    expect(classifyError(sys('ECONNREFUSED'))).toBe('connection')
    expect(classifyError(new Error('Connection is closed.'))).toBe('connection')
    expect(classifyError(new Error('something else'))).toBe('fatal')
  })
})
