/**
 * Values that cannot change: a frozen array or object whose own properties are all data
 * properties holding primitives. Encoders write such a value once and reuse the text (the JSON
 * serializer, the Redis envelope's headers); a getter, or an object inside, could answer
 * differently next time, so either disqualifies it.
 */

/** The answer for each object asked about (it never changes for one). */
const answers = new WeakMap<object, boolean>()

/** Whether `value` is a frozen array or object of primitives, in data properties only. */
export function isFrozenPrimitives(value: object): boolean {
  let frozen = answers.get(value)
  if (frozen === undefined) {
    frozen = Object.isFrozen(value)
    if (frozen)
      for (const d of Object.values(Object.getOwnPropertyDescriptors(value)))
        if (!('value' in d) || (typeof d.value === 'object' && d.value !== null)) frozen = false
    answers.set(value, frozen)
  }
  return frozen
}
