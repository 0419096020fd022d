// Dates in queries and bodies (README.md, "Dates in requests"): a plain date (2026-12-07) or an ISO 8601
// datetime with its offset (2026-12-07T09:30:00-06:00, 2026-12-07T15:30:00Z). A plain date is a
// day in the city's time zone (CITY_TIME_ZONE): as a start bound (`from`) it is the first instant
// of that day; as an end bound (`to`, exclusive for a datetime) it includes the whole day, i.e. it
// is the first instant of the next day. The schemas keep the text; the route resolves it with the
// configured zone (instantOf), so one schema serves every city.
import { z } from 'zod'

const PLAIN_DATE = /^(\d{4})-(\d{2})-(\d{2})$/

export const DATE_FORMATS =
  "a date YYYY-MM-DD (a day in the city's time zone, CITY_TIME_ZONE) or an ISO 8601 datetime with its offset, e.g. 2026-12-07T09:30:00-06:00 or 2026-12-07T15:30:00Z"

function validPlainDate(text: string): boolean {
  const m = PLAIN_DATE.exec(text)
  if (!m) return false
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const t = new Date(Date.UTC(y, mo - 1, d))
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d
}

const isoDateTime = z.iso.datetime({ offset: true })

/** True for the text DateParam accepts. */
export function isDateParam(text: string): boolean {
  return validPlainDate(text) || isoDateTime.safeParse(text).success
}

/**
 * The one schema of a date given by a client, in a query or a body: a plain date or an ISO
 * datetime; the error says both formats. Resolve with instantOf().
 */
export const DateParam = z.string().max(40).refine(isDateParam, { message: `must be ${DATE_FORMATS}` }).meta({ description: `${DATE_FORMATS[0]!.toUpperCase()}${DATE_FORMATS.slice(1)}` })

/** The offset of `zone` from UTC at the instant `t`, in ms (positive east of Greenwich). */
function zoneOffsetMs(t: number, zone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(t))
  const get = (type: string) => Number(parts.find((p) => p.type === type)!.value)
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'))
  return asUtc - Math.floor(t / 1000) * 1000
}

/** The first instant of the day y-m-d in `zone` (correct across daylight-saving changes). */
export function startOfDayIn(y: number, m: number, d: number, zone: string): Date {
  const wall = Date.UTC(y, m - 1, d)
  let t = wall - zoneOffsetMs(wall, zone)
  // The offset at the guess may differ from the offset at the answer (a change that day): once more.
  t = wall - zoneOffsetMs(t, zone)
  return new Date(t)
}

/**
 * The instant a DateParam names. `edge` says which bound it is: `start` (a plain date is the
 * start of that day) or `end` (a plain date includes that day: the start of the next one).
 */
export function instantOf(text: string, zone: string, edge: 'start' | 'end' = 'start'): Date {
  const m = PLAIN_DATE.exec(text)
  if (!m) return new Date(text)
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
  return edge === 'start' ? startOfDayIn(y, mo, d, zone) : startOfDayIn(y, mo, d + 1, zone)
}

/** instantOf for an optional value. */
export function optionalInstant(text: string | undefined, zone: string, edge: 'start' | 'end' = 'start'): Date | undefined {
  return text === undefined ? undefined : instantOf(text, zone, edge)
}

/**
 * A query's `from` and `to` with plain dates resolved to ISO datetimes (from: the day's start; to:
 * the next day's start, so the day is included), for domains that take instants as text and for
 * saved searches, which then keep the instant meant when they were made.
 */
export function resolveRange<T extends { from?: string | undefined; to?: string | undefined }>(query: T, zone: string): T {
  const out = { ...query }
  if (query.from !== undefined) out.from = instantOf(query.from, zone, 'start').toISOString()
  if (query.to !== undefined) out.to = instantOf(query.to, zone, 'end').toISOString()
  return out
}

/** A body whose optional records `query` gets resolveRange (legal holds, FOIA requests and searches). */
export function withResolvedQuery<T extends { query?: { from?: string | undefined; to?: string | undefined } | undefined }>(body: T, zone: string): T {
  return body.query === undefined ? body : { ...body, query: resolveRange(body.query, zone) }
}
