import { readFileSync } from 'node:fs'
import { z } from 'zod'

/**
 * Illinois business days for FOIA deadlines (5 ILCS 140/3(d), 3(e), 3.1). Dates are calendar dates
 * in Illinois, written YYYY-MM-DD; the arithmetic is done on UTC midnights so that no time zone or
 * daylight-saving change can move a date.
 */

export interface Holiday {
  date: string
  name: string
}

export interface HolidayCalendar {
  /** The years whose holidays are known: a deadline reaching into another year is refused. */
  years: ReadonlySet<number>
  holidays: ReadonlyMap<string, string>
}

/**
 * The State of Illinois holidays (CMS, "State Holidays", the schedule State offices close on; see
 * docs/foia.md for the source and how each date was checked). A holiday on a Saturday is observed
 * the Friday before, on a Sunday the Monday after; General Election Day only in even years.
 */
export const ILLINOIS_STATE_HOLIDAYS: { years: number[]; holidays: Holiday[] } = {
  years: [2026, 2027],
  holidays: [
    { date: '2026-01-01', name: "New Year's Day" },
    { date: '2026-01-19', name: 'Martin Luther King Jr. Day' },
    { date: '2026-02-12', name: "Lincoln's Birthday" },
    { date: '2026-02-16', name: "Washington's Birthday (Presidents' Day)" },
    { date: '2026-05-25', name: 'Memorial Day' },
    { date: '2026-06-19', name: 'Juneteenth' },
    { date: '2026-07-03', name: 'Independence Day (observed; July 4 is a Saturday)' },
    { date: '2026-09-07', name: 'Labor Day' },
    { date: '2026-10-12', name: 'Columbus Day' },
    { date: '2026-11-03', name: 'General Election Day' },
    { date: '2026-11-11', name: "Veterans' Day" },
    { date: '2026-11-26', name: 'Thanksgiving Day' },
    { date: '2026-11-27', name: 'Day after Thanksgiving' },
    { date: '2026-12-25', name: 'Christmas Day' },
    { date: '2027-01-01', name: "New Year's Day" },
    { date: '2027-01-18', name: 'Martin Luther King Jr. Day' },
    { date: '2027-02-12', name: "Lincoln's Birthday" },
    { date: '2027-02-15', name: "Washington's Birthday (Presidents' Day)" },
    { date: '2027-05-31', name: 'Memorial Day' },
    { date: '2027-06-18', name: 'Juneteenth (observed; June 19 is a Saturday)' },
    { date: '2027-07-05', name: 'Independence Day (observed; July 4 is a Sunday)' },
    { date: '2027-09-06', name: 'Labor Day' },
    { date: '2027-10-11', name: 'Columbus Day' },
    { date: '2027-11-11', name: "Veterans' Day" },
    { date: '2027-11-25', name: 'Thanksgiving Day' },
    { date: '2027-11-26', name: 'Day after Thanksgiving' },
    { date: '2027-12-24', name: 'Christmas Day (observed; December 25 is a Saturday)' },
    { date: '2027-12-31', name: "New Year's Day 2028 (observed; January 1, 2028 is a Saturday)" },
  ],
}

const DATE = /^\d{4}-\d{2}-\d{2}$/

/** True for a real calendar date written YYYY-MM-DD. */
export function isIsoDate(value: string): boolean {
  if (!DATE.test(value)) return false
  const d = new Date(value + 'T00:00:00Z')
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value
}

export const HolidayFile = z
  .object({
    years: z.array(z.number().int().min(2000).max(2200)).min(1),
    holidays: z.array(z.object({ date: z.string().refine(isIsoDate, 'must be a date YYYY-MM-DD'), name: z.string().min(1) })),
  })
  .strict()

export function holidayCalendar(source: { years: number[]; holidays: Holiday[] }, extra: readonly string[] = []): HolidayCalendar {
  const holidays = new Map(source.holidays.map((h) => [h.date, h.name]))
  for (const date of extra) if (!holidays.has(date)) holidays.set(date, 'Local holiday (FOIA_EXTRA_HOLIDAYS)')
  return { years: new Set(source.years), holidays }
}

/**
 * The calendar in force: the file named by FOIA_HOLIDAYS_FILE (it replaces the shipped list), else
 * the shipped State of Illinois holidays; plus FOIA_EXTRA_HOLIDAYS (e.g. a day the city closes).
 */
export function loadHolidayCalendar(options: { file: string | null; extra: readonly string[] }): HolidayCalendar {
  if (!options.file) return holidayCalendar(ILLINOIS_STATE_HOLIDAYS, options.extra)
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(options.file, 'utf8'))
  } catch (error) {
    throw new Error(`FOIA_HOLIDAYS_FILE ${options.file} is unreadable: ${(error as Error).message}`)
  }
  const result = HolidayFile.safeParse(parsed)
  if (!result.success) {
    throw new Error(`FOIA_HOLIDAYS_FILE ${options.file}: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
  }
  return holidayCalendar(result.data, options.extra)
}

export class CalendarNotCoveredError extends Error {
  constructor(readonly year: number) {
    super(`The FOIA holiday calendar has no holidays for ${year}; add that year (FOIA_HOLIDAYS_FILE) before computing deadlines in it.`)
    this.name = 'CalendarNotCoveredError'
  }
}

const DAY_MS = 86_400_000

function addDays(date: string, days: number): string {
  return new Date(new Date(date + 'T00:00:00Z').getTime() + days * DAY_MS).toISOString().slice(0, 10)
}

/** A weekday that is not a holiday. Throws when the calendar does not know the date's year. */
export function isBusinessDay(date: string, calendar: HolidayCalendar): boolean {
  const year = Number(date.slice(0, 4))
  if (!calendar.years.has(year)) throw new CalendarNotCoveredError(year)
  const weekday = new Date(date + 'T00:00:00Z').getUTCDay()
  return weekday !== 0 && weekday !== 6 && !calendar.holidays.has(date)
}

/**
 * The n-th business day after `date` (5 ILCS 140/3(d): "within 5 business days after its receipt").
 * The day itself is never counted, whatever it is: a request received on a Saturday or a holiday
 * counts from the next business day, as one received on a Friday counts from the Monday.
 */
export function addBusinessDays(date: string, n: number, calendar: HolidayCalendar): string {
  if (!isIsoDate(date)) throw new RangeError(`not a date: ${date}`)
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`)
  let day = date
  for (let counted = 0; counted < n; ) {
    day = addDays(day, 1)
    if (isBusinessDay(day, calendar)) counted++
  }
  return day
}

/** Business days allowed for a first response: 5 (3(d)), or 21 for a commercial request (3.1(a)). */
export function responseDays(commercial: boolean): number {
  return commercial ? 21 : 5
}

/** One extension of 5 business days from the original due date (3(e)). */
export const EXTENSION_DAYS = 5

/** Today's date in Illinois (America/Chicago) for an instant. */
export function illinoisDate(at: Date): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Chicago', year: 'numeric', month: '2-digit', day: '2-digit' }).format(at)
}
