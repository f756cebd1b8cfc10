/**
 * The objects of decoded header tables. Stored key by key, an object of more than ~16 keys falls
 * into V8's dictionary mode: slow to build and slower for Celery to read. Every Celery message
 * carries the same ~19 header keys in the same order, so once a sequence of keys has been seen
 * twice in a row it gets an object literal of its own, compiled once: a fast object with
 * in-object fields, built in one go. Without code generation from strings (a hardened process),
 * tables are built key by key, as before.
 */

/** Tables with fewer keys stay fast key by key. */
const MIN_KEYS = 10
/** Distinct key sequences compiled at most; later ones are built key by key. */
const MAX_SHAPES = 16

interface Shape {
  readonly keys: readonly string[]
  readonly make: (values: readonly unknown[]) => Record<string, unknown>
}

const shapes: Shape[] = []
/** The last key sequence without a shape: compiled if the next table has it too. */
let candidate: readonly string[] | undefined
let codegen = true

function sameKeys(a: readonly string[], b: readonly string[], n: number): boolean {
  if (a.length !== n) return false
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false
  return true
}

function compile(keys: readonly string[]): Shape | undefined {
  // `__proto__` in a literal would set the prototype: leave such a table to the slow path.
  if (keys.includes('__proto__')) return undefined
  const fields = keys.map((key, i) => `${JSON.stringify(key)}: v[${i}]`).join(', ')
  try {
    const make = new Function('v', `'use strict'; return { ${fields} }`) as Shape['make']
    return { keys, make }
  } catch {
    codegen = false // --disallow-code-generation-from-strings
    return undefined
  }
}

/**
 * The table of the first `n` keys and values (a later duplicate key wins, as key by key). A
 * `__proto__` key is an own property, as any other key: it never sets the table's prototype.
 */
export function buildTable(
  keys: readonly string[],
  values: readonly unknown[],
  n: number,
): Record<string, unknown> {
  if (n >= MIN_KEYS && codegen) {
    for (const shape of shapes) if (sameKeys(shape.keys, keys, n)) return shape.make(values)
    if (candidate && shapes.length < MAX_SHAPES && sameKeys(candidate, keys, n)) {
      candidate = undefined
      const shape = compile(keys.slice(0, n))
      if (shape) {
        shapes.push(shape)
        return shape.make(values)
      }
    } else candidate = keys.slice(0, n)
  }
  const table: Record<string, unknown> = {}
  for (let i = 0; i < n; i++) {
    const key = keys[i]!
    // An own `__proto__` key from the wire, not a new prototype for the table.
    if (key === '__proto__')
      Object.defineProperty(table, key, {
        value: values[i],
        enumerable: true,
        writable: true,
        configurable: true,
      })
    else table[key] = values[i]
  }
  return table
}
