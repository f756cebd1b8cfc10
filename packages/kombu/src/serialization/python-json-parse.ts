import { randomBytes } from 'node:crypto'
import { DecodeError } from '../errors.js'

/**
 * Prefix of the placeholder strings that stand for bare tokens (NaN, Infinity, big
 * integers) while the text passes through JSON.stringify / JSON.parse. The random part
 * makes a clash with a real string value practically impossible.
 */
export const RAW_MARK = `@q-raw-${randomBytes(6).toString('hex')}:`

const BARE_TOKENS = ['NaN', 'Infinity', '-Infinity'] as const
const BARE_VALUES: Record<string, number> = { NaN: Number.NaN, Infinity: Infinity, '-Infinity': -Infinity }

/**
 * Replaces Python's bare `NaN`, `Infinity` and `-Infinity` tokens that stand outside
 * strings with quoted placeholders. Returns undefined when there are none, so the caller
 * knows the text is invalid for another reason.
 */
function quoteBareTokens(text: string): string | undefined {
  const parts: string[] = []
  let last = 0
  let i = 0
  const n = text.length
  while (i < n) {
    const c = text.charCodeAt(i)
    if (c === 34) {
      // Skip a string literal, honouring backslash escapes, so words inside stay untouched.
      i++
      while (i < n) {
        const d = text.charCodeAt(i)
        if (d === 92) i += 2
        else if (d === 34) break
        else i++
      }
      i++
      continue
    }
    // N, I and - only start these tokens (or numbers): no JSON literal contains N or I.
    if (c === 78 || c === 73 || c === 45) {
      const token = BARE_TOKENS.find((t) => text.startsWith(t, i))
      if (token !== undefined) {
        parts.push(text.slice(last, i), `"${RAW_MARK}${token}"`)
        i += token.length
        last = i
        continue
      }
    }
    i++
  }
  if (parts.length === 0) return undefined
  parts.push(text.slice(last))
  return parts.join('')
}

function revive(_key: string, value: unknown): unknown {
  if (typeof value === 'string' && value.startsWith(RAW_MARK)) {
    return BARE_VALUES[value.slice(RAW_MARK.length)] ?? value
  }
  return value
}

/**
 * Parses JSON as Python's `json.loads` does: standard JSON plus bare `NaN`, `Infinity`
 * and `-Infinity` (which Python's encoder emits for non-finite floats). Strings are
 * returned as strings: Kombu's JSON carries no type tags, so no Date revival.
 *
 * @throws DecodeError when the text is not valid JSON.
 */
export function parsePythonJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch (err) {
    // The fast path failed: the text is either invalid or uses Python's bare constants.
    const quoted = quoteBareTokens(text)
    if (quoted !== undefined) {
      try {
        return JSON.parse(quoted, revive)
      } catch {
        // Fall through and report the original error, which points at the real text.
      }
    }
    throw new DecodeError(
      `Body is not valid JSON (${(err as Error).message}); check the producer's serializer and content_type`,
      { cause: err },
    )
  }
}
