/**
 * SQS queue names as Kombu makes them (`kombu/transport/SQS.py` `entity_name`): SQS allows only
 * letters, digits, `-` and `_` (plus a `.fifo` suffix), so `.` becomes `-` and every other ASCII
 * punctuation character becomes `_`. The `queueNamePrefix` is added before mangling, as Kombu does.
 */

/** Python's `string.punctuation`, the characters Kombu rewrites. */
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~')

const FIFO_SUFFIX = '.fifo'

/**
 * The SQS-legal form of a queue name: `.` -> `-`, other punctuation except `-` and `_` -> `_`,
 * a trailing `.fifo` kept. Other characters (letters, digits, non-ASCII) are left alone, as Kombu
 * leaves them; SQS refuses the name if they are not allowed.
 *
 * @example entityName('golden.tasks.v1') === 'golden-tasks-v1'
 * @example entityName('odd:name@x') === 'odd_name_x'
 */
export function entityName(name: string): string {
  const fifo = name.endsWith(FIFO_SUFFIX)
  const base = fifo ? name.slice(0, -FIFO_SUFFIX.length) : name
  let out = ''
  for (const ch of base) {
    if (ch === '.') out += '-'
    else if (ch !== '-' && ch !== '_' && PUNCTUATION.has(ch)) out += '_'
    else out += ch
  }
  return fifo ? out + FIFO_SUFFIX : out
}

/** The physical SQS name of a logical queue: `entityName(prefix + name)`. */
export function physicalName(prefix: string, name: string): string {
  return entityName(prefix + name)
}

/** True for FIFO queues (name or URL ending in `.fifo`). */
export function isFifo(nameOrUrl: string): boolean {
  return nameOrUrl.endsWith(FIFO_SUFFIX)
}
