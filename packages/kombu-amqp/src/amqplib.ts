/**
 * Loads amqplib, first putting our field-table codec (field-table.ts) into amqplib's codec
 * module. amqplib's frame definitions (`lib/defs.js`) copy `encodeTable` and `decodeFields` into
 * local variables when they load, so the codec must be replaced before that first load; when
 * something else loaded amqplib earlier in this process, amqplib keeps its own codec and we say so.
 */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { type Logger, TransportNotInstalledError } from '@q/kombu'
import type * as Amqplib from 'amqplib'
import { decodeFields } from './field-decode.js'
import { setLonglongSupported } from './headers.js'
import { encodeAnyTable } from './py-table.js'

/** amqplib's promise API. */
export type AmqplibApi = typeof Amqplib

interface Loaded {
  readonly api: AmqplibApi
  /** False when amqplib was loaded before us and kept its own codec. */
  readonly codecInstalled: boolean
}

let loaded: Loaded | undefined

function load(): Loaded {
  const require = createRequire(import.meta.url)
  const main = require.resolve('amqplib')
  const lib = join(dirname(main), 'lib')
  const defs = require.resolve(join(lib, 'defs.js'))
  const codecInstalled = !(defs in require.cache)
  if (codecInstalled) {
    const codec = require(join(lib, 'codec.js')) as Record<string, unknown>
    codec.encodeTable = encodeAnyTable
    codec.decodeFields = decodeFields
  }
  setLonglongSupported(codecInstalled)
  return { api: require('amqplib') as AmqplibApi, codecInstalled }
}

/**
 * amqplib, loaded on first use. A missing amqplib is reported with the command that installs it.
 */
export function amqplib(logger?: Logger): AmqplibApi {
  if (!loaded) {
    try {
      loaded = load()
    } catch (err) {
      const e = err as { code?: string }
      if (e.code === 'MODULE_NOT_FOUND')
        throw new TransportNotInstalledError(
          '@q/kombu-amqp needs amqplib beside it: npm install amqplib',
          'amqplib',
          {
            cause: err,
          },
        )
      throw err
    }
    if (!loaded.codecInstalled) {
      logger?.warn(
        'amqplib was loaded before @q/kombu-amqp: headers holding 64-bit integers from Python peers (tag L) cannot be decoded; import @q/kombu-amqp first',
      )
    }
  }
  return loaded.api
}

/** Whether our codec is the one amqplib uses (for tests and diagnostics). */
export function codecInstalled(): boolean {
  return loaded?.codecInstalled ?? false
}
