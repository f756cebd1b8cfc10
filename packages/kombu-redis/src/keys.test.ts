import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { topicPattern } from '@q/kombu/internal'
import { describe, expect, it } from 'vitest'
import { Keys } from './keys.js'
import { resolveOptions } from './options.js'

const dir = join(fileURLToPath(new URL('.', import.meta.url)), '../test/golden')
const golden = (name: string) => JSON.parse(readFileSync(join(dir, name), 'utf8'))

describe('keys', () => {
  const keys = new Keys(resolveOptions({}), 0)

  it('buckets priorities as Kombu: clamp to 0..9, largest step not above', () => {
    const checks = golden('redis_semantics_checks.json').priority
    const lists = (checks.published_in_order as number[]).map((p) => keys.bucket('golden.pri', keys.step(p)))
    expect(new Set(lists)).toEqual(new Set(Object.keys(checks.list_keys_and_lengths)))
    expect([-1, 0, 2, 3, 5, 6, 8, 9, 42, 'x', undefined].map((p) => keys.step(p))).toEqual([
      0, 0, 0, 3, 3, 6, 6, 9, 9, 0, 0,
    ])
    expect(keys.buckets('q')).toEqual(['q', 'q\x06\x163', 'q\x06\x166', 'q\x06\x169'])
    expect(keys.queueOf('q\x06\x166')).toBe('q')
    expect(keys.queueOf('a.b')).toBe('a.b')
  })

  it('names binding sets and members as Kombu', () => {
    const topology = golden('redis_topology_after_publish.json').keys
    expect(keys.bindings('golden.topic')).toBe('_kombu.binding.golden.topic')
    expect(keys.bindingMember('golden.#', topicPattern('golden.#'), 'golden.topicq')).toBe(
      topology['_kombu.binding.golden.topic'].raw[0],
    )
    expect(keys.bindingMember('celery', '', 'celery')).toBe(topology['_kombu.binding.celery'].raw[0])
    expect(keys.parseBindingMember('rk\x06\x16\x06\x16q')).toEqual({
      routingKey: 'rk',
      pattern: '',
      queue: 'q',
    })
    expect(keys.parseBindingMember('nonsense')).toBeUndefined()
  })

  it('names fanout channels as Kombu (fanout_prefix, fanout_patterns)', () => {
    expect(keys.fanoutTopic('celeryev', 'worker.heartbeat')).toBe('/0.celeryev/worker.heartbeat')
    expect(keys.fanoutTopic('celery.pidbox', '')).toBe('/0.celery.pidbox')
    expect(keys.fanoutPattern('celeryev', 'worker.#')).toBe('/0.celeryev/worker.*')
    expect(keys.exchangeOfChannel('/0.celeryev/task.multi')).toBe('celeryev')
    expect(keys.exchangeOfChannel('/0.celery.pidbox')).toBe('celery.pidbox')
    const plain = new Keys(resolveOptions({ fanoutPrefix: false, fanoutPatterns: false }), 3)
    expect(plain.fanoutTopic('ex', 'rk')).toBe('ex')
    expect(new Keys(resolveOptions({}), 3).fanoutTopic('ex', '')).toBe('/3.ex')
  })

  it('prefixes every key and channel with globalKeyprefix', () => {
    const checks = golden('redis_semantics_checks.json').global_keyprefix
    const pfx = new Keys(resolveOptions({ globalKeyprefix: 'pfx:' }), 0)
    expect([pfx.bindings('golden.gkp'), pfx.bucket('golden.gkp', pfx.step(9))]).toEqual(checks.keys)
    expect(pfx.prefix + pfx.fanoutTopic('golden.fan', 'rk')).toBe(checks.publish_channels[0])
    expect([pfx.unacked, pfx.unackedIndex, pfx.unackedMutex]).toEqual([
      'pfx:unacked',
      'pfx:unacked_index',
      'pfx:unacked_mutex',
    ])
    expect(pfx.delayed('q')).toBe('pfx:q\x06\x16delayed')
    expect(pfx.queueOf('pfx:q\x06\x169')).toBe('q')
  })
})
