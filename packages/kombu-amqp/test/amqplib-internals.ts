/**
 * amqplib's internals, for unit tests only: a pristine copy of its original codec (to compare
 * ours against, byte for byte) and its frame definitions with our codec installed.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { runInThisContext } from 'node:vm'
import { amqplib } from '../src/amqplib.js'

const require = createRequire(import.meta.url)
const lib = join(dirname(require.resolve('amqplib')), 'lib')

/** amqplib's own encodeTable/decodeFields, evaluated afresh (untouched by our patch). */
export interface Codec {
  encodeTable(buffer: Buffer, value: Record<string, unknown>, offset: number): number
  decodeFields(slice: Buffer): Record<string, unknown>
}

export function originalCodec(): Codec {
  const source = readFileSync(join(lib, 'codec.js'), 'utf8')
  const module = { exports: {} as Codec }
  const fn = runInThisContext(`(function (module, exports, require) {${source}\n})`) as (
    m: unknown,
    e: unknown,
    r: unknown,
  ) => void
  fn(module, module.exports, require)
  return module.exports
}

/** amqplib's frame definitions, loaded after our codec was installed. */
export function defs(): {
  BasicProperties: number
  decode(id: number, buffer: Buffer): Record<string, unknown>
} {
  amqplib()
  return require(join(lib, 'defs.js'))
}
