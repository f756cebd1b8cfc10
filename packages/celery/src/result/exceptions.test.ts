/**
 * Task errors on the wire: `{exc_type, exc_message, exc_module}` as Celery 5.2 stores them, and
 * typed errors back from the metas a Python worker stored (test/golden).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import {
  ChordError,
  MaxRetriesExceededError,
  SoftTimeLimitExceeded,
  TaskError,
  TaskRevokedError,
  TimeLimitExceeded,
} from '../errors.js'
import { deserializeError, errorRepr, JS_ERROR_MODULE, serializeError } from './exceptions.js'

const GOLDEN = join(fileURLToPath(new URL('.', import.meta.url)), '../../test/golden')
const results = (
  JSON.parse(readFileSync(join(GOLDEN, 'results_redis_backend.redisbroker.json'), 'utf8')) as {
    results: Record<string, { decoded: { result: unknown; traceback: string | null; status: string } }>
  }
).results

describe('serializeError', () => {
  it('maps JS errors named like Python builtins to builtins', () => {
    expect(serializeError(new TypeError('bad type'))).toEqual({
      exc_type: 'TypeError',
      exc_message: ['bad type'],
      exc_module: 'builtins',
    })
    const e = new Error('nope')
    e.name = 'ValueError'
    expect(serializeError(e)).toEqual({
      exc_type: 'ValueError',
      exc_message: ['nope'],
      exc_module: 'builtins',
    })
    const k = new Error('k')
    k.name = 'KeyError'
    expect(serializeError(k).exc_module).toBe('builtins')
  })

  it('gives other JS errors a module Python does not know', () => {
    class PaymentDeclined extends Error {}
    expect(serializeError(new PaymentDeclined('card'))).toEqual({
      exc_type: 'PaymentDeclined',
      exc_message: ['card'],
      exc_module: JS_ERROR_MODULE,
    })
    expect(serializeError(new RangeError('r')).exc_module).toBe(JS_ERROR_MODULE)
    expect(serializeError(new Error('plain')).exc_type).toBe('Error')
  })

  it('keeps an `args` list as exc_message (ValueError("boom", 42) from Python)', () => {
    const e = Object.assign(new Error('boom'), { name: 'ValueError', args: ['boom', 42] })
    expect(serializeError(e)).toEqual({
      exc_type: 'ValueError',
      exc_message: ['boom', 42],
      exc_module: 'builtins',
    })
  })

  it('writes Celery’s own errors with their Celery/billiard modules', () => {
    expect(serializeError(new TaskRevokedError('expired'))).toEqual({
      exc_type: 'TaskRevokedError',
      exc_message: ['expired'],
      exc_module: 'celery.exceptions',
    })
    expect(serializeError(new TimeLimitExceeded(5))).toEqual({
      exc_type: 'TimeLimitExceeded',
      exc_message: [5],
      exc_module: 'billiard.exceptions',
    })
    expect(serializeError(new SoftTimeLimitExceeded())).toEqual({
      exc_type: 'SoftTimeLimitExceeded',
      exc_message: [],
      exc_module: 'billiard.exceptions',
    })
    expect(serializeError(new MaxRetriesExceededError('max')).exc_module).toBe('celery.exceptions')
  })

  it('wraps thrown non-errors as Exception', () => {
    expect(serializeError('just a string')).toEqual({
      exc_type: 'Exception',
      exc_message: ['just a string'],
      exc_module: 'builtins',
    })
  })

  it('shows an error as Celery logs it', () => {
    expect(errorRepr({ exc_type: 'ValueError', exc_message: ['boom', 42], exc_module: 'builtins' })).toBe(
      "ValueError('boom', 42)",
    )
    expect(
      errorRepr({ exc_type: 'ZeroDivisionError', exc_message: ['division by zero'], exc_module: 'builtins' }),
    ).toBe("ZeroDivisionError('division by zero')")
  })
})

describe('deserializeError of metas a Python worker stored', () => {
  it('gives a TaskError named as the Python exception for FAILURE', () => {
    const m = results.failure_valueerror!.decoded
    const err = deserializeError(m.result, m.traceback)
    expect(err).toBeInstanceOf(TaskError)
    expect(err.name).toBe('ValueError')
    expect(err.excType).toBe('ValueError')
    expect(err.excModule).toBe('builtins')
    expect(err.excArgs).toEqual(['boom', 42])
    expect(err.message).toBe("ValueError('boom', 42)")
    expect(err.traceback).toContain("ValueError: ('boom', 42)")
  })

  it('keeps a custom exception’s module and single message', () => {
    const m = results.failure_custom_exception!.decoded
    const err = deserializeError(m.result, m.traceback)
    expect(err).toMatchObject({ name: 'CustomError', excModule: 'proj', message: 'custom failure' })
  })

  it('gives TaskRevokedError for REVOKED (revoked and expired)', () => {
    const revoked = deserializeError(results.revoked!.decoded.result)
    expect(revoked).toBeInstanceOf(TaskRevokedError)
    expect(revoked.message).toBe('revoked')
    const expired = deserializeError(results.expired!.decoded.result)
    expect(expired).toBeInstanceOf(TaskRevokedError)
    expect(expired.message).toBe('expired')
    expect(expired.excArgs).toEqual(['expired'])
  })

  it('gives the retry reason for RETRY (KeyError, ZeroDivisionError)', () => {
    const r = deserializeError(results.retry_state!.decoded.result)
    expect(r).toMatchObject({ name: 'KeyError', excArgs: ['try again'], message: 'try again' })
    const z = deserializeError(results.autoretry_state!.decoded.result)
    expect(z).toMatchObject({ name: 'ZeroDivisionError', excModule: 'builtins' })
  })

  it('maps Celery’s and billiard’s errors to their q classes', () => {
    const de = (exc_type: string, exc_message: unknown[], exc_module = 'celery.exceptions') =>
      deserializeError({ exc_type, exc_message, exc_module })
    expect(de('TimeLimitExceeded', [30], 'billiard.exceptions')).toBeInstanceOf(TimeLimitExceeded)
    expect(de('SoftTimeLimitExceeded', [], 'billiard.exceptions')).toBeInstanceOf(SoftTimeLimitExceeded)
    expect(de('MaxRetriesExceededError', ["Can't retry"])).toBeInstanceOf(MaxRetriesExceededError)
    expect(de('ChordError', ['member failed'])).toBeInstanceOf(ChordError)
    expect(de('TaskRevokedError', ['terminated']).message).toBe('terminated')
  })

  it('round-trips q errors', () => {
    const back = deserializeError(serializeError(new TypeError('x')))
    expect(back).toMatchObject({ name: 'TypeError', excModule: 'builtins', message: 'x' })
    expect(deserializeError(serializeError(new TimeLimitExceeded(3)))).toBeInstanceOf(TimeLimitExceeded)
  })

  it('copes with results that are not exception dicts', () => {
    expect(deserializeError('boom').message).toBe('boom')
    expect(deserializeError({ exc_type: 'X', exc_message: 'single', exc_module: 'm' }).excArgs).toEqual([
      'single',
    ])
  })
})
