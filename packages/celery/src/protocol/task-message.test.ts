/**
 * The task message against what Python Celery 5.2.6 put on the wire (test/golden, copied from
 * shared/protocol/golden): header keys and order, body layout, and reading every sample back.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { buildTaskMessage, InvalidTaskMessageError, readTaskMessage } from './task-message.js'
import { isoformatNaive, isoformatUtc, parseIso } from './time.js'

const GOLDEN = join(fileURLToPath(new URL('.', import.meta.url)), '../../test/golden')

interface GoldenMessage {
  envelope: { headers: Record<string, unknown>; properties: Record<string, unknown> }
  body_decoded: unknown
}

function golden(name: string): GoldenMessage[] {
  return (JSON.parse(readFileSync(join(GOLDEN, name), 'utf8')) as { messages: GoldenMessage[] }).messages
}

const plain = golden('publish_a_plain.redis.json')[0]!

describe('buildTaskMessage', () => {
  const base = {
    id: 'e2c597ba-755e-4b35-968d-e68d1e0598c7',
    task: 'proj.add',
    args: [2, 3],
    kwargs: { z: 4 },
    origin: 'gen1@js',
    replyTo: 'reply-oid',
  }

  it('writes the headers of publish_a_plain, keys in the same order', () => {
    const msg = buildTaskMessage(base)
    const expected = plain.envelope.headers
    expect(Object.keys(msg.headers)).toEqual(Object.keys(expected))
    const { lang, origin, ...ours } = msg.headers
    const { lang: pyLang, origin: pyOrigin, ...theirs } = expected
    expect(lang).toBe('js')
    expect(pyLang).toBe('py')
    expect(origin).toBe('gen1@js')
    expect(typeof pyOrigin).toBe('string')
    expect(ours).toEqual(theirs)
  })

  it('writes the body [args, kwargs, embed] with embed keys in Celery order', () => {
    const msg = buildTaskMessage(base)
    expect(msg.body).toEqual(plain.body_decoded)
    expect(JSON.stringify(msg.body)).toBe(JSON.stringify(plain.body_decoded))
    expect(msg.correlationId).toBe(base.id)
    expect(msg.replyTo).toBe('reply-oid')
  })

  it('writes the headers of the shadow/timelimit/ignore_result/headers sample', () => {
    const h = golden('publish_h_shadow_timelimit_ignore_result_headers.redis.json')[0]!
    const id = h.envelope.headers.id as string
    const msg = buildTaskMessage({
      ...base,
      id,
      kwargs: {},
      shadow: 'add-shadowed',
      timeLimit: 30,
      softTimeLimit: 20,
      ignoreResult: true,
      headers: { 'x-custom': 'hello' },
    })
    expect(Object.keys(msg.headers)).toEqual(Object.keys(h.envelope.headers))
    const { lang: _l, origin: _o, ...ours } = msg.headers
    const { lang: _pl, origin: _po, ...theirs } = h.envelope.headers
    expect(ours).toEqual(theirs)
    expect(msg.headers.timelimit).toEqual([30, 20])
  })

  it('writes eta and expires as isoformat with +00:00, root and parent ids, group', () => {
    const msg = buildTaskMessage({
      ...base,
      eta: new Date('2030-01-01T12:00:00.000Z'),
      expires: new Date('2026-11-21T15:17:28.179Z'),
      rootId: 'root',
      parentId: 'parent',
      group: 'g1',
      groupIndex: 2,
      retries: 3,
    })
    expect(msg.headers).toMatchObject({
      eta: '2030-01-01T12:00:00+00:00',
      expires: '2026-11-21T15:17:28.179000+00:00',
      root_id: 'root',
      parent_id: 'parent',
      group: 'g1',
      group_index: 2,
      retries: 3,
    })
  })

  it('puts callbacks, errbacks, chain and chord in the embed', () => {
    const sig = {
      task: 'proj.mul',
      args: [10],
      kwargs: {},
      options: {},
      subtask_type: null,
      immutable: false,
    }
    const msg = buildTaskMessage({ ...base, callbacks: [sig], errbacks: [sig], chain: [sig], chord: sig })
    expect(msg.body[2]).toEqual({ callbacks: [sig], errbacks: [sig], chain: [sig], chord: sig })
  })

  it('keeps given argsrepr/kwargsrepr (a retried message)', () => {
    const msg = buildTaskMessage({ ...base, argsrepr: '(<secret>,)', kwargsrepr: '{}' })
    expect(msg.headers.argsrepr).toBe('(<secret>,)')
    expect(msg.headers.kwargsrepr).toBe('{}')
  })
})

describe('times on the wire', () => {
  it('formats eta/expires as Python isoformat of an aware UTC datetime', () => {
    expect(isoformatUtc(new Date('2026-11-21T14:07:36.787Z'))).toBe('2026-11-21T14:07:36.787000+00:00')
    expect(isoformatUtc(new Date('2030-01-01T12:00:00Z'))).toBe('2030-01-01T12:00:00+00:00')
    expect(isoformatUtc(new Date('2026-01-02T03:04:05.007Z'))).toBe('2026-01-02T03:04:05.007000+00:00')
  })

  it('formats date_done as naive UTC isoformat', () => {
    expect(isoformatNaive(new Date('2026-11-21T14:17:46.344Z'))).toBe('2026-11-21T14:17:46.344000')
    expect(isoformatNaive(new Date('2026-11-21T14:17:46Z'))).toBe('2026-11-21T14:17:46')
  })

  it('parses offsets, Z, naive (UTC) and microseconds', () => {
    const t = Date.parse('2026-11-21T14:18:28.179Z')
    expect(parseIso('2026-11-21T14:18:28.179506+00:00')?.getTime()).toBe(t)
    expect(parseIso('2026-11-21T14:18:28.179506Z')?.getTime()).toBe(t)
    expect(parseIso('2026-11-21T14:18:28.179506')?.getTime()).toBe(t)
    expect(parseIso('2026-11-21 14:18:28.179')?.getTime()).toBe(t)
    expect(parseIso('2026-11-21T15:18:28.179+01:00')?.getTime()).toBe(t)
    expect(parseIso('2026-11-21T15:18:28.179+0100')?.getTime()).toBe(t)
    expect(parseIso('2026-11-21T14:18:28')?.getTime()).toBe(Date.parse('2026-11-21T14:18:28Z'))
  })

  it('gives undefined for null, empty and invalid values', () => {
    expect(parseIso(null)).toBeUndefined()
    expect(parseIso(undefined)).toBeUndefined()
    expect(parseIso('')).toBeUndefined()
    expect(parseIso('not a date')).toBeUndefined()
    expect(parseIso(12345)).toBeUndefined()
  })

  it('round-trips', () => {
    const d = new Date('2027-03-04T05:06:07.891Z')
    expect(parseIso(isoformatUtc(d))?.getTime()).toBe(d.getTime())
    expect(parseIso(isoformatNaive(d))?.getTime()).toBe(d.getTime())
  })
})

describe('readTaskMessage', () => {
  const files = readdirSync(GOLDEN).filter((f) => /^publish_.*\.redis\.json$/.test(f))

  it('has every publish sample to read', () => {
    expect(files.length).toBeGreaterThanOrEqual(18)
  })

  for (const file of files) {
    it(`reads every message of ${file}`, () => {
      for (const m of golden(file)) {
        const h = m.envelope.headers
        const r = readTaskMessage(h, m.body_decoded)
        if (file.includes('protocol_v1')) continue // checked below
        const [args, kwargs, embed] = m.body_decoded as [unknown[], object, Record<string, unknown>]
        const tl = h.timelimit as [number | null, number | null]
        expect(r).toMatchObject({
          id: h.id,
          task: h.task,
          shadow: h.shadow,
          args,
          kwargs,
          retries: h.retries,
          group: h.group,
          groupIndex: h.group_index,
          rootId: h.root_id,
          parentId: h.parent_id,
          timeLimit: tl[0],
          softTimeLimit: tl[1],
          argsrepr: h.argsrepr,
          kwargsrepr: h.kwargsrepr,
          origin: h.origin,
          ignoreResult: h.ignore_result,
          headers: h,
        })
        expect(r.eta?.getTime()).toBe(parseIso(h.eta)?.getTime())
        expect(r.expires?.getTime()).toBe(parseIso(h.expires)?.getTime())
        expect(r.embed.callbacks).toEqual(embed.callbacks ?? null)
        expect(r.embed.errbacks).toEqual(embed.errbacks ?? null)
        expect(r.embed.chain).toEqual(embed.chain ?? null)
        expect(r.embed.chord).toEqual(embed.chord ?? null)
      }
    })
  }

  it('reads eta and expires as Dates (countdown and datetime samples)', () => {
    const b = readTaskMessage(golden('publish_b_countdown_expires.redis.json')[0]!.envelope.headers, [
      [2, 3],
      {},
      {},
    ])
    expect(b.eta?.toISOString()).toBe('2026-11-21T14:18:28.179Z')
    expect(b.expires?.toISOString()).toBe('2026-11-21T15:17:28.179Z')
    const b2 = golden('publish_b2_eta_expires_datetime.redis.json')[0]!
    const r2 = readTaskMessage(b2.envelope.headers, b2.body_decoded)
    expect(r2.eta?.toISOString()).toBe('2030-01-01T12:00:00.000Z')
    expect(r2.expires?.toISOString()).toBe('2030-01-02T12:00:00.000Z')
  })

  it('reads the chain embed: next step last, options with task_id', () => {
    const c = golden('publish_c_chain.redis.json')[0]!
    const r = readTaskMessage(c.envelope.headers, c.body_decoded)
    expect(r.embed.chain?.map((s) => s.task)).toEqual(['proj.add', 'proj.mul'])
    expect(r.embed.chain?.at(-1)?.args).toEqual([10])
    expect(r.embed.chain?.[0]?.options.task_id).toBe('30757df4-50be-4ef4-a5ed-f41b7a0a2e05')
  })

  it('reads chord members: group, group_index and the body signature', () => {
    const e = golden('publish_e_chord.redis.json')
    const [first, second] = e.map((m) => readTaskMessage(m.envelope.headers, m.body_decoded))
    expect(first?.group).toBe('1c32aa7a-3206-487f-8a29-a2c1219647d3')
    expect(first?.groupIndex).toBe(1)
    expect(second?.groupIndex).toBe(0)
    expect(first?.embed.chord?.task).toBe('proj.xsum')
    expect(first?.embed.chord?.options.task_id).toBe('71be4a0e-05ab-4a66-996c-18384699fb06')
  })

  it('reads link and link_error, nested canvases and immutable signatures', () => {
    const g = golden('publish_g_link_link_error.redis.json')[0]!
    const rg = readTaskMessage(g.envelope.headers, g.body_decoded)
    expect(rg.embed.callbacks?.map((s) => s.task)).toEqual(['proj.mul'])
    expect(rg.embed.errbacks?.map((s) => s.task)).toEqual(['proj.on_error', 'proj.old_errback'])
    const o = golden('publish_o_link_group_and_immutable.redis.json')[0]!
    const ro = readTaskMessage(o.envelope.headers, o.body_decoded)
    expect(ro.embed.callbacks?.[0]).toMatchObject({ task: 'celery.group', subtask_type: 'group' })
    expect(ro.embed.callbacks?.[1]).toMatchObject({ task: 'proj.add', args: [7, 7], immutable: true })
    const n = golden('publish_n_chain_with_group.redis.json')[0]!
    const rn = readTaskMessage(n.envelope.headers, n.body_decoded)
    expect(rn.embed.chain?.some((s) => s.task === 'celery.chord')).toBe(true)
  })

  it('reads shadow, timelimit, ignore_result and custom headers', () => {
    const h = golden('publish_h_shadow_timelimit_ignore_result_headers.redis.json')[0]!
    const r = readTaskMessage(h.envelope.headers, h.body_decoded)
    expect(r).toMatchObject({ shadow: 'add-shadowed', timeLimit: 30, softTimeLimit: 20, ignoreResult: true })
    expect(r.headers['x-custom']).toBe('hello')
  })

  it('reads protocol v1 (empty headers, everything in a dict body)', () => {
    const m = golden('publish_m_protocol_v1.redis.json')[0]!
    expect(m.envelope.headers).toEqual({})
    const r = readTaskMessage(m.envelope.headers, m.body_decoded)
    expect(r).toMatchObject({
      id: '32903d52-f1f8-4564-9675-eb821437ccbc',
      task: 'proj.add',
      args: [2, 3],
      kwargs: { z: 4 },
      retries: 0,
      group: null,
      timeLimit: null,
      softTimeLimit: null,
      rootId: '32903d52-f1f8-4564-9675-eb821437ccbc',
      parentId: null,
      embed: { callbacks: null, errbacks: null, chain: null, chord: null },
    })
    expect(r.eta?.toISOString()).toBe('2026-11-21T14:17:44.760Z')
    expect(r.expires).toBeUndefined()
    expect(r.argsrepr).toBe('(2, 3)')
    expect(r.kwargsrepr).toBe("{'z': 4}")
  })

  it('reads a v1 taskset as the group, with callbacks and time limits', () => {
    const sig = { task: 't.cb', args: [], kwargs: {}, options: {}, subtask_type: null, immutable: false }
    const r = readTaskMessage(
      {},
      {
        task: 't.x',
        id: 'id1',
        args: [1],
        kwargs: {},
        taskset: 'g9',
        timelimit: [10, 5],
        retries: 2,
        callbacks: [sig],
        errbacks: null,
        expires: '2030-01-01T00:00:00+00:00',
      },
    )
    expect(r).toMatchObject({ group: 'g9', timeLimit: 10, softTimeLimit: 5, retries: 2 })
    expect(r.embed.callbacks).toEqual([sig])
    expect(r.expires?.toISOString()).toBe('2030-01-01T00:00:00.000Z')
  })

  it('reads a body without embed, and argsrepr when the header is missing', () => {
    const r = readTaskMessage({ task: 't.x', id: 'i' }, [[1, 'a'], { k: 2 }])
    expect(r.embed).toEqual({ callbacks: null, errbacks: null, chain: null, chord: null })
    expect(r.argsrepr).toBe("(1, 'a')")
    expect(r.kwargsrepr).toBe("{'k': 2}")
    expect(r.rootId).toBe('i')
    expect(r.retries).toBe(0)
  })

  it.each([
    ['a v2 body that is not a list', { task: 't', id: 'i' }, { args: [] }],
    ['a v2 body with one element', { task: 't', id: 'i' }, [[]]],
    ['v2 args that are not a list', { task: 't', id: 'i' }, ['x', {}, {}]],
    ['v2 kwargs that are null', { task: 't', id: 'i' }, [[], null, {}]],
    ['a v2 message without id', { task: 't' }, [[], {}, {}]],
    ['a v2 message with an empty id', { task: 't', id: '' }, [[], {}, {}]],
    ['no task header and no v1 body', {}, [[], {}, {}]],
    ['a v1 body without id', {}, { task: 't' }],
    ['a null body', {}, null],
    ['a string body', {}, 'hello'],
  ])('rejects %s with InvalidTaskMessageError', (_what, headers, body) => {
    expect(() => readTaskMessage(headers as Record<string, unknown>, body)).toThrow(InvalidTaskMessageError)
  })
})
