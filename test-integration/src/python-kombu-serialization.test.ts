import { spawnSync } from 'node:child_process'
import { SerializerRegistry } from '@q/kombu'
import { describe, expect, it } from 'vitest'
import { PYTHON, requirePeer } from './peers.js'

/**
 * Talks to the real Python Kombu when the machine has it (Debian: python3-kombu, plus
 * python3-msgpack for the msgpack cases): Python encodes, we decode, and the reverse.
 */

function python(script: string, args: string[], input?: Buffer): string {
  const out = spawnSync(PYTHON, ['-c', script, ...args], { input, encoding: 'utf8', timeout: 30_000 })
  if (out.status !== 0) throw new Error(`python failed (${out.status}): ${out.stderr}`)
  return out.stdout
}

const hasKombu = !requirePeer('kombu').skip
const hasMsgpack = hasKombu && !requirePeer('msgpack').skip

/** Python side: kombu.serialization.dumps of a typical mixed-type value, as JSON lines. */
const PY_DUMPS = `
import base64, datetime, decimal, json, sys, uuid
from kombu.serialization import dumps
value = {
    'when': datetime.datetime(2022, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.timezone.utc),
    'naive': datetime.datetime(2022, 1, 2, 3, 4, 5),
    'price': decimal.Decimal('3.14'),
    'id': uuid.UUID('12345678-1234-5678-1234-567812345678'),
    'text': 'h\\u00e9llo \\u2713 \\U0001F600',
    'nested': [[1, [2, [3]]], (4, 5)],
    'nan': float('nan'),
    'inf': [float('inf'), float('-inf')],
    'big': 2 ** 70,
}
serializer = sys.argv[1]
if serializer == 'msgpack':  # Kombu's msgpack cannot carry datetime, Decimal or UUID
    value = {k: v for k, v in value.items() if k in ('text', 'nested', 'nan', 'inf')}
ctype, encoding, data = dumps(value, serializer=serializer)
raw = data.encode('utf-8') if isinstance(data, str) else data
print(json.dumps([ctype, encoding, base64.b64encode(raw).decode()]))
`

/** Python side: kombu.serialization.loads of stdin, printed back as JSON with type names. */
const PY_LOADS = `
import json, sys
from kombu.serialization import loads
ctype, encoding = sys.argv[1], sys.argv[2]
value = loads(sys.stdin.buffer.read(), ctype, encoding, accept={ctype})
def types(v):
    if isinstance(v, dict): return {k: types(x) for k, x in v.items()}
    if isinstance(v, list): return [types(x) for x in v]
    return type(v).__name__
print(json.dumps({'value': value, 'types': types(value)}, default=repr))
`

describe.skipIf(!hasKombu)(
  `Python Kombu peer${hasKombu ? '' : ' [skipped: python3-kombu not installed]'}`,
  () => {
    const registry = new SerializerRegistry()

    function pythonDumps(serializer: string): { contentType: string; contentEncoding: string; body: Buffer } {
      const line = python(PY_DUMPS, [serializer])
      const [contentType, contentEncoding, b64] = JSON.parse(line) as [string, string, string]
      return { contentType, contentEncoding, body: Buffer.from(b64, 'base64') }
    }

    function pythonLoads(value: unknown, serializer: string): { value: unknown; types: unknown } {
      const encoded = registry.encode(value, serializer)
      const printed = python(PY_LOADS, [encoded.contentType, encoded.contentEncoding], encoded.body)
      return registry.decode(Buffer.from(printed), 'application/json', 'utf-8') as never
    }

    it('decodes what kombu.serialization.dumps writes as json', () => {
      const message = pythonDumps('json')
      expect(message.contentType).toBe('application/json')
      expect(message.contentEncoding).toBe('utf-8')
      const value = registry.decode(
        message.body,
        message.contentType,
        message.contentEncoding,
        registry.resolveAccept(['json']),
      ) as Record<string, unknown>
      expect(value.nan).toBeNaN()
      expect({ ...value, nan: 0 }).toEqual({
        when: '2022-01-02T03:04:05.678901Z',
        naive: '2022-01-02T03:04:05',
        price: '3.14',
        id: '12345678-1234-5678-1234-567812345678',
        text: 'héllo ✓ 😀',
        nested: [
          [1, [2, [3]]],
          [4, 5],
        ],
        nan: 0,
        inf: [Infinity, -Infinity],
        big: 2 ** 70,
      })
    })

    it('encodes json that kombu.serialization.loads reads back with the right types', () => {
      const when = new Date(Date.UTC(2022, 0, 2, 3, 4, 5, 678))
      const { value, types } = pythonLoads(
        {
          when,
          text: 'héllo ✓ 😀',
          nested: [[1, [2.5, [3]]]],
          nan: Number.NaN,
          inf: [Infinity, -Infinity],
          big: 2n ** 70n,
          none: null,
          flag: true,
        },
        'json',
      ) as { value: Record<string, unknown>; types: Record<string, unknown> }
      expect(value.nan).toBeNaN()
      expect({ ...value, nan: 0, big: String(value.big) }).toEqual({
        when: '2022-01-02T03:04:05.678000Z',
        text: 'héllo ✓ 😀',
        nested: [[1, [2.5, [3]]]],
        nan: 0,
        inf: [Infinity, -Infinity],
        big: String(2 ** 70),
        none: null,
        flag: true,
      })
      expect(types).toEqual({
        when: 'str',
        text: 'str',
        nested: [['int', ['float', ['int']]]],
        nan: 'float',
        inf: ['float', 'float'],
        big: 'int',
        none: 'NoneType',
        flag: 'bool',
      })
    })

    it.skipIf(!hasMsgpack)(
      `round-trips msgpack both ways${hasMsgpack ? '' : ' [skipped: python3-msgpack not installed]'}`,
      () => {
        const message = pythonDumps('msgpack')
        expect(message.contentType).toBe('application/x-msgpack')
        const value = registry.decode(message.body, message.contentType, message.contentEncoding) as Record<
          string,
          unknown
        >
        expect(value.nan).toBeNaN()
        expect({ ...value, nan: 0 }).toEqual({
          text: 'héllo ✓ 😀',
          nested: [
            [1, [2, [3]]],
            [4, 5],
          ],
          nan: 0,
          inf: [Infinity, -Infinity],
        })

        const back = pythonLoads(
          {
            when: new Date(Date.UTC(2022, 0, 2)),
            wide: 2 ** 40,
            bin: Buffer.from([0, 255]),
            text: 'é',
            list: [1, 1.5],
          },
          'msgpack',
        ) as { value: Record<string, unknown>; types: Record<string, unknown> }
        expect(back.value).toEqual({
          when: '2022-01-02T00:00:00Z',
          wide: 2 ** 40,
          bin: "b'\\x00\\xff'",
          text: 'é',
          list: [1, 1.5],
        })
        expect(back.types).toEqual({
          when: 'str',
          wide: 'int',
          bin: 'bytes',
          text: 'str',
          list: ['int', 'float'],
        })
      },
    )
  },
)
