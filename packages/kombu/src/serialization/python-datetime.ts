import { EncodeError } from '../errors.js'

/**
 * Formats a Date the way Kombu's JSON encoder formats an aware UTC `datetime`:
 * `isoformat()` with `+00:00` rewritten to `Z`. Python prints microseconds only when
 * they are non-zero, so a Date on a whole second has no fraction:
 * `2026-01-02T03:04:05.123000Z`, `2026-01-02T03:04:05Z`.
 *
 * @throws EncodeError for an invalid Date or a year outside Python's 1..9999.
 */
export function toPythonIsoString(date: Date): string {
  const time = date.getTime()
  if (Number.isNaN(time)) {
    throw new EncodeError('Cannot encode an invalid Date (its time value is NaN); pass a valid Date or null')
  }
  const year = date.getUTCFullYear()
  if (year < 1 || year > 9999) {
    throw new EncodeError(
      `Cannot encode the Date ${date.toISOString()}: Python's datetime only holds years 1 to 9999; send it as a string or number instead`,
    )
  }
  // For years 1..9999 toISOString is always `YYYY-MM-DDTHH:mm:ss.sssZ`.
  const iso = date.toISOString()
  return date.getUTCMilliseconds() === 0 ? `${iso.slice(0, 19)}Z` : `${iso.slice(0, 23)}000Z`
}
