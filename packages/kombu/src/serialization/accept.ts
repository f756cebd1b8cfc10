import { ContentDisallowedError, InvalidOptionError } from '../errors.js'
import { didYouMean as suggestClosest } from '../util.js'
import type { Serializer } from './types.js'

/** Content types Kombu decodes whatever the accept list says (they are not code). */
const TRUSTED = new Set(['application/data', 'application/text', 'text/plain'])

/** Serializers Python Kombu has that q deliberately does not implement. */
const PYTHON_ONLY = new Set(['pickle', 'yaml'])

/** Joins names for an error message. */
export function listOf(items: Iterable<string>): string {
  return [...items].join(', ') || 'none'
}

/**
 * Enforces a consumer's accept list as Kombu's `loads` does. Trusted raw and text types
 * always pass; the list may hold content types or serializer names.
 *
 * @throws ContentDisallowedError naming the content type and the accepted ones.
 */
export function checkAccept(
  contentType: string,
  serializer: Serializer | undefined,
  accept: ReadonlySet<string> | undefined,
): void {
  if (accept === undefined || TRUSTED.has(contentType) || accept.has(contentType)) return
  if (serializer !== undefined && accept.has(serializer.name)) return
  const name = serializer ? ` (${serializer.name})` : ''
  throw new ContentDisallowedError(
    `Refusing to decode a message of content type '${contentType}'${name}: it is not in the accept list [${listOf(accept)}]; add '${serializer?.name ?? contentType}' to accept to allow it`,
  )
}

/** The error for an accept-list entry that names no registered serializer. */
export function unknownAcceptError(name: string, known: readonly string[]): InvalidOptionError {
  const knownText = `known serializers: ${listOf(known)}`
  if (PYTHON_ONLY.has(name)) {
    return new InvalidOptionError(
      `accept lists '${name}', a Python-only serializer that q cannot decode (${knownText}); remove it or register a serializer named '${name}'`,
    )
  }
  const hint = suggestClosest(name, known)
  return new InvalidOptionError(
    `accept lists unknown serializer '${name}' (${knownText})${hint ? `; did you mean '${hint}'?` : ''}; use a registered name or a full content type such as 'application/json'`,
  )
}
