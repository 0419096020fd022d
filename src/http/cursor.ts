import { ValidationProblem } from '../plugins/errors.js'

/**
 * Opaque pagination cursors: the sort key of the last item returned, base64url JSON. Lists use
 * keyset pagination on a unique, immutable key, so pages stay stable while new rows arrive.
 */
export function encodeCursor(position: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url')
}

/** What each field of a cursor must hold, exactly as the list encoded it. */
const FIELDS = {
  /** A bigint position. */
  seq: (v: string) => /^\d{1,19}$/.test(v),
  uuid: (v: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v),
  /** `Date.toISOString()`. */
  time: (v: string) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(v) && !Number.isNaN(Date.parse(v)),
  /** A calendar day, YYYY-MM-DD. */
  day: (v: string) => /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(`${v}T00:00:00Z`)),
} satisfies Record<string, (value: string) => boolean>

export type CursorField = keyof typeof FIELDS

/**
 * The fields of a cursor this list returned; anything else (not base64url JSON, a field missing or
 * of the wrong kind) is a 400, so a tampered cursor never reaches a query as an invalid date or id.
 */
export function decodeCursor<K extends string>(cursor: string, fields: Record<K, CursorField>): Record<K, string> {
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
  } catch {
    parsed = null
  }
  const values = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {}
  const entries = (Object.entries(fields) as Array<[K, CursorField]>).map(([key, kind]) => {
    const value = values[key]
    const text = typeof value === 'string' || (typeof value === 'number' && Number.isSafeInteger(value)) ? String(value) : null
    if (text === null || !FIELDS[kind](text)) {
      throw new ValidationProblem('The cursor is not one this list returned.', [{ path: 'querystring:$.cursor', message: 'invalid cursor' }])
    }
    return [key, text] as const
  })
  return Object.fromEntries(entries) as Record<K, string>
}

/** The cursor of a list ordered by a bigint `seq`. */
export function decodeSeqCursor(cursor: string): bigint {
  return BigInt(decodeCursor(cursor, { seq: 'seq' }).seq)
}
