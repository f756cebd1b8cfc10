/**
 * Matching node names against a request's `pattern`, as Kombu's matcher registry does:
 * `glob` is Python's `fnmatch` (the whole name, case-sensitive) and `pcre` is `re.match` (the
 * pattern must match at the start of the name; the end is free).
 */
import { InvalidOptionError } from '../errors.js'

/** The matchers a request may name. */
export type PidboxMatcher = 'glob' | 'pcre'

/** Python's `fnmatch.translate`: a shell glob (`*`, `?`, `[seq]`, `[!seq]`) as an anchored RegExp. */
export function globToRegExp(pattern: string): RegExp {
  let out = ''
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!
    if (c === '*') out += '[\\s\\S]*'
    else if (c === '?') out += '[\\s\\S]'
    else if (c === '[') {
      // A set runs to the next ']' (a ']' right after '[' or '[!' belongs to the set).
      let j = i + 1
      if (pattern[j] === '!') j++
      if (pattern[j] === ']') j++
      while (j < pattern.length && pattern[j] !== ']') j++
      if (j >= pattern.length) out += '\\['
      else {
        let set = pattern.slice(i + 1, j).replace(/\\/g, '\\\\')
        if (set.startsWith('!')) set = `^${set.slice(1)}`
        else if (set.startsWith('^')) set = `\\${set}`
        out += `[${set}]`
        i = j
      }
    } else out += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')
  }
  return new RegExp(`^(?:${out})$`)
}

/** Python's `re.match(pattern, name)`: the regular expression matches at the start of `name`. */
function pcreMatch(name: string, pattern: string): boolean {
  // Python's named groups `(?P<n>...)` and back references `(?P=n)` in JavaScript spelling.
  const js = pattern.replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>')
  return new RegExp(js, 'y').test(name)
}

/**
 * Whether a node name matches `pattern` with `matcher` (default `glob`). Throws for an unknown
 * matcher or an invalid pattern, as Kombu raises `MatcherNotInstalled` or `re.error`.
 */
export function matchHostname(name: string, pattern: string, matcher: string = 'glob'): boolean {
  if (matcher === 'glob') return globToRegExp(pattern).test(name)
  if (matcher === 'pcre') return pcreMatch(name, pattern)
  throw new InvalidOptionError(`No matcher installed for ${matcher}`)
}
