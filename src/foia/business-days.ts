import { createHash } from 'node:crypto'

/**
 * Illinois business days for FOIA deadlines (5 ILCS 140/3(d), 3(e), 3.1, 3.2). Dates are calendar
 * dates in Illinois, written YYYY-MM-DD; the arithmetic is done on UTC midnights so that no time
 * zone or daylight-saving change can move a date.
 *
 * The holidays are computed by rule for any year (no list to run out): the legal holidays of Illinois
 * (the State Commemorative Dates Act, 5 ILCS 490, and the legal holidays of the Promissory Note and
 * Bank Holiday Act, 205 ILCS 630/17, which name the same days: New Year's Day, Martin Luther King
 * Jr.'s Birthday, Lincoln's and Washington's Birthdays, Memorial Day, Juneteenth, Independence Day,
 * Labor Day, Columbus Day, Veterans' Day, Thanksgiving and Christmas), General Election Day in even
 * years (a State holiday since the 2020 general election), and the day after
 * Thanksgiving, which State offices close by practice (CMS, "State Holidays"). A holiday falling on
 * a Saturday is observed the Friday before, on a Sunday the Monday after, as State offices do. On
 * top of that, the city's own calendar from configuration: days it closes (FOIA_CLOSED_DAYS), days
 * it is open although the State is closed (FOIA_OPEN_DAYS), and State holidays it never observes
 * (FOIA_OPEN_HOLIDAYS). A city's business days are the days its offices are open.
 */

export interface Holiday {
  date: string
  name: string
}

/** A holiday rule: the actual (unshifted) date in a year, or null when it is not a holiday that year. */
export interface HolidayRule {
  id: string
  name: string
  /** The rule in words (the Acts are cited in the module comment and docs/foia.md). */
  rule: string
  date(year: number): string | null
}

const pad = (n: number) => String(n).padStart(2, '0')
const ymd = (year: number, month: number, day: number) => `${year}-${pad(month)}-${pad(day)}`
const weekdayOf = (date: string) => new Date(date + 'T00:00:00Z').getUTCDay()

/** The n-th `weekday` (0 Sunday … 6 Saturday) of a month; n = -1 for the last. */
export function nthWeekday(year: number, month: number, weekday: number, n: number): string {
  if (n > 0) {
    const first = new Date(Date.UTC(year, month - 1, 1)).getUTCDay()
    return ymd(year, month, 1 + ((weekday - first + 7) % 7) + (n - 1) * 7)
  }
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate()
  const last = new Date(Date.UTC(year, month - 1, lastDay)).getUTCDay()
  return ymd(year, month, lastDay - ((last - weekday + 7) % 7))
}

const fixed = (month: number, day: number) => (year: number) => ymd(year, month, day)
const LEGAL = 'fixed date'

/** The State of Illinois' holidays, by rule. */
export const ILLINOIS_HOLIDAY_RULES: readonly HolidayRule[] = [
  { id: 'new_years_day', name: "New Year's Day", rule: LEGAL, date: fixed(1, 1) },
  { id: 'martin_luther_king_day', name: 'Martin Luther King Jr. Day', rule: 'third Monday in January', date: (y) => nthWeekday(y, 1, 1, 3) },
  { id: 'lincolns_birthday', name: "Lincoln's Birthday", rule: 'February 12', date: fixed(2, 12) },
  { id: 'washingtons_birthday', name: "Washington's Birthday (Presidents' Day)", rule: 'third Monday in February', date: (y) => nthWeekday(y, 2, 1, 3) },
  { id: 'memorial_day', name: 'Memorial Day', rule: 'last Monday in May', date: (y) => nthWeekday(y, 5, 1, -1) },
  { id: 'juneteenth', name: 'Juneteenth', rule: 'June 19, from 2022', date: (y) => (y >= 2022 ? ymd(y, 6, 19) : null) },
  { id: 'independence_day', name: 'Independence Day', rule: LEGAL, date: fixed(7, 4) },
  { id: 'labor_day', name: 'Labor Day', rule: 'first Monday in September', date: (y) => nthWeekday(y, 9, 1, 1) },
  { id: 'columbus_day', name: 'Columbus Day', rule: 'second Monday in October', date: (y) => nthWeekday(y, 10, 1, 2) },
  {
    id: 'general_election_day',
    name: 'General Election Day',
    rule: 'even years from 2020: the Tuesday after the first Monday in November',
    // The first Tuesday after the first Monday: the Tuesday between November 2 and 8.
    date: (y) => (y % 2 === 0 && y >= 2020 ? nthWeekday(y, 11, 2, nthWeekday(y, 11, 2, 1) === ymd(y, 11, 1) ? 2 : 1) : null),
  },
  { id: 'veterans_day', name: "Veterans' Day", rule: LEGAL, date: fixed(11, 11) },
  { id: 'thanksgiving_day', name: 'Thanksgiving Day', rule: 'fourth Thursday in November', date: (y) => nthWeekday(y, 11, 4, 4) },
  {
    id: 'day_after_thanksgiving',
    name: 'Day after Thanksgiving',
    rule: 'the Friday after Thanksgiving, by State practice (CMS, "State Holidays"), not by statute',
    date: (y) => addDays(nthWeekday(y, 11, 4, 4), 1),
  },
  { id: 'christmas_day', name: 'Christmas Day', rule: LEGAL, date: fixed(12, 25) },
]

export const HOLIDAY_RULE_IDS = ILLINOIS_HOLIDAY_RULES.map((r) => r.id)

const DATE = /^\d{4}-\d{2}-\d{2}$/

/** True for a real calendar date written YYYY-MM-DD. */
export function isIsoDate(value: string): boolean {
  if (!DATE.test(value)) return false
  const d = new Date(value + 'T00:00:00Z')
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === value
}

const DAY_MS = 86_400_000

export function addDays(date: string, days: number): string {
  return new Date(new Date(date + 'T00:00:00Z').getTime() + days * DAY_MS).toISOString().slice(0, 10)
}

/** The day a holiday is observed: Saturday → the Friday before, Sunday → the Monday after. */
export function observedDate(date: string): string {
  const weekday = weekdayOf(date)
  if (weekday === 6) return addDays(date, -1)
  if (weekday === 0) return addDays(date, 1)
  return date
}

export interface CityCalendarOptions {
  /** Days the city's offices are closed besides the State holidays (FOIA_CLOSED_DAYS). */
  closedDays?: readonly string[]
  /** Days the city's offices are open although the State observes a holiday (FOIA_OPEN_DAYS). */
  openDays?: readonly string[]
  /** Rule ids of State holidays the city never observes (FOIA_OPEN_HOLIDAYS). */
  openHolidays?: readonly string[]
}

export interface HolidayCalendar {
  /**
   * Names the calendar a deadline was computed with: the rules' version and a digest of the city's
   * configuration, so two deadlines computed under different city calendars are told apart.
   */
  name: string
  /** The holidays observed in a year (the city's closing days included), by date. */
  holidays(year: number): Holiday[]
  isHoliday(date: string): string | null
}

/** Version of the rules above: changes when a rule changes, and with it every calendar's name. */
export const RULES_VERSION = 'illinois-490-v1'

export function holidayCalendar(options: CityCalendarOptions = {}): HolidayCalendar {
  const closed = [...new Set(options.closedDays ?? [])].sort()
  const open = [...new Set(options.openDays ?? [])].sort()
  const openRules = [...new Set(options.openHolidays ?? [])].sort()
  for (const d of [...closed, ...open]) if (!isIsoDate(d)) throw new RangeError(`not a date YYYY-MM-DD: ${d}`)
  for (const id of openRules) if (!HOLIDAY_RULE_IDS.includes(id)) throw new RangeError(`unknown holiday ${id}; one of ${HOLIDAY_RULE_IDS.join(', ')}`)
  const both = closed.filter((d) => open.includes(d))
  if (both.length) throw new RangeError(`both closed and open: ${both.join(', ')}`)
  const rules = ILLINOIS_HOLIDAY_RULES.filter((r) => !openRules.includes(r.id))
  const cache = new Map<number, Map<string, string>>()
  const ofYear = (year: number): Map<string, string> => {
    let days = cache.get(year)
    if (days) return days
    days = new Map()
    // A holiday of the next year can be observed in this one (January 1 on a Saturday: December 31).
    for (const y of [year - 1, year, year + 1]) {
      for (const rule of rules) {
        const actual = rule.date(y)
        if (!actual) continue
        const observed = observedDate(actual)
        if (!observed.startsWith(`${year}-`)) continue
        const suffix = observed === actual ? '' : ` (observed; ${actual} is a ${weekdayOf(actual) === 6 ? 'Saturday' : 'Sunday'})`
        days.set(observed, `${rule.name}${suffix}`)
      }
    }
    for (const d of open) if (d.startsWith(`${year}-`)) days.delete(d)
    for (const d of closed) if (d.startsWith(`${year}-`) && !days.has(d)) days.set(d, 'City offices closed (FOIA_CLOSED_DAYS)')
    if (cache.size > 200) cache.clear()
    cache.set(year, days)
    return days
  }
  const config = JSON.stringify({ closed, open, openRules })
  const custom = closed.length + open.length + openRules.length > 0
  const name = custom ? `${RULES_VERSION}+city-${createHash('sha256').update(config).digest('hex').slice(0, 12)}` : RULES_VERSION
  return {
    name,
    holidays: (year) => [...ofYear(year)].map(([date, n]) => ({ date, name: n })).sort((a, b) => a.date.localeCompare(b.date)),
    isHoliday: (date) => ofYear(Number(date.slice(0, 4))).get(date) ?? null,
  }
}

/** A plain-language description of a calendar's name, for letters and the API. */
export function describeCalendar(options: CityCalendarOptions): string {
  const parts = ["State of Illinois legal holidays (5 ILCS 490; 205 ILCS 630/17), General Election Day in even years and the day after Thanksgiving, a Saturday holiday observed the Friday before and a Sunday one the Monday after"]
  if (options.openHolidays?.length) parts.push(`less the holidays the city does not observe (${options.openHolidays.join(', ')})`)
  if (options.closedDays?.length) parts.push(`plus ${options.closedDays.length} day(s) city offices are closed`)
  if (options.openDays?.length) parts.push(`less ${options.openDays.length} day(s) city offices are open`)
  return parts.join(', ')
}

/** A weekday that is not a holiday of the calendar. */
export function isBusinessDay(date: string, calendar: HolidayCalendar): boolean {
  const weekday = weekdayOf(date)
  return weekday !== 0 && weekday !== 6 && calendar.isHoliday(date) === null
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

/** Business days counted from a date (exclusive) to another (inclusive). */
export function businessDaysBetween(from: string, to: string, calendar: HolidayCalendar): number {
  let n = 0
  for (let day = addDays(from, 1); day <= to; day = addDays(day, 1)) if (isBusinessDay(day, calendar)) n++
  return n
}

/**
 * Business days allowed for a first response: 5 (3(d)), or 21 for a commercial request (3.1(a)) or
 * a recurrent requester's (3.2(b)).
 */
export function responseDays(commercial: boolean, recurrent = false): number {
  return commercial || recurrent ? 21 : 5
}

/** One extension of 5 business days from the original due date (3(e)). */
export const EXTENSION_DAYS = 5

/** Today's date in Illinois (America/Chicago) for an instant. */
export function illinoisDate(at: Date): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Chicago', year: 'numeric', month: '2-digit', day: '2-digit' }).format(at)
}
