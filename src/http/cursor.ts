import { ValidationProblem } from '../plugins/errors.js'

/**
 * Opaque pagination cursors: the sort key of the last item returned, base64url JSON. Lists use
 * keyset pagination on a unique, immutable key, so pages stay stable while new rows arrive.
 */
export function encodeCursor(position: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url')
}

export function decodeCursor<K extends string>(cursor: string, keys: readonly K[]): Record<K, string> {
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    parsed = null
  }
  const ok =
    typeof parsed === 'object' &&
    parsed !== null &&
    keys.every((k) => ['string', 'number'].includes(typeof (parsed as Record<string, unknown>)[k]))
  if (!ok) throw new ValidationProblem('The cursor is not one this list returned.', [{ path: 'querystring:$.cursor', message: 'invalid cursor' }])
  return Object.fromEntries(keys.map((k) => [k, String((parsed as Record<string, unknown>)[k])])) as Record<K, string>
}

/** The cursor of a list ordered by a bigint `seq`; anything else is a 400, never a 500. */
export function decodeSeqCursor(cursor: string): bigint {
  const { seq } = decodeCursor(cursor, ['seq'])
  if (!/^\d{1,19}$/.test(seq)) throw new ValidationProblem('The cursor is not one this list returned.', [{ path: 'querystring:$.cursor', message: 'invalid cursor' }])
  return BigInt(seq)
}
