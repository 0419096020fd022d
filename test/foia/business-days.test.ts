import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import {
  addBusinessDays,
  CalendarNotCoveredError,
  EXTENSION_DAYS,
  holidayCalendar,
  ILLINOIS_STATE_HOLIDAYS,
  illinoisDate,
  isBusinessDay,
  loadHolidayCalendar,
  responseDays,
} from '../../src/foia/business-days.js'

const illinois = holidayCalendar(ILLINOIS_STATE_HOLIDAYS)
const due = (received: string, commercial = false) => addBusinessDays(received, responseDays(commercial), illinois)

t.test('the shipped State of Illinois holidays: weekdays only, one list per year', async (t) => {
  for (const h of ILLINOIS_STATE_HOLIDAYS.holidays) {
    const weekday = new Date(h.date + 'T00:00:00Z').getUTCDay()
    t.ok(weekday >= 1 && weekday <= 5, `${h.date} ${h.name} is observed on a weekday`)
  }
  const perYear = (y: string) => ILLINOIS_STATE_HOLIDAYS.holidays.filter((h) => h.date.startsWith(y)).length
  t.equal(perYear('2026'), 14, '2026: 13 holidays and General Election Day')
  t.equal(perYear('2027'), 14, '2027: 13 holidays and New Year 2028 observed on Friday, December 31')
})

t.test('five business days after receipt, the day of receipt not counted', async (t) => {
  t.equal(due('2026-11-16'), '2026-11-23', 'Monday: Tue-Fri and the next Monday')
  t.equal(due('2026-11-20'), '2026-12-01', 'a Friday skips the weekend, Thanksgiving and the day after')
  t.equal(due('2026-01-16'), '2026-01-26', 'MLK Day is skipped')
  t.equal(due('2026-02-06'), '2026-02-17', "Lincoln's Birthday (Thu) and Washington's Birthday (Mon) are skipped")
  t.equal(due('2026-11-02'), '2026-11-10', 'General Election Day (even years) is skipped')
  t.equal(due('2026-07-01'), '2026-07-09', 'Independence Day observed on Friday July 3')
  t.equal(due('2027-06-16'), '2027-06-24', 'Juneteenth 2027 (a Saturday) observed on Friday June 18')
  t.equal(due('2027-11-02'), '2027-11-09', 'no election holiday in odd years')
})

t.test('received on a weekend or a holiday: counting starts at the next business day', async (t) => {
  t.equal(due('2026-02-07'), '2026-02-17', 'Saturday: Mon 9, Tue 10, Wed 11, Fri 13, Tue 17')
  t.equal(due('2026-02-08'), '2026-02-17', 'Sunday gives the same deadline')
  t.equal(due('2026-11-26'), '2026-12-04', 'Thanksgiving: Nov 30 to Dec 4')
  t.equal(due('2026-12-25'), '2027-01-04', 'Christmas: across the new year and New Year\'s Day')
  t.equal(isBusinessDay('2026-11-26', illinois), false)
})

t.test('commercial requests: 21 business days (3.1)', async (t) => {
  t.equal(due('2026-12-01', true), '2026-12-31', 'December 2026 has Christmas on a Friday')
  t.equal(due('2026-11-02', true), '2026-12-07', 'across Election Day, Veterans Day and Thanksgiving')
})

t.test('one extension of 5 business days from the original due date (3(e))', async (t) => {
  const original = due('2026-11-02')
  t.equal(addBusinessDays(original, EXTENSION_DAYS, illinois), '2026-11-18', "Veterans' Day is skipped")
  t.equal(addBusinessDays(due('2026-11-20'), EXTENSION_DAYS, illinois), '2026-12-08')
})

t.test('a deadline in a year the calendar does not cover is refused, not guessed', async (t) => {
  t.throws(() => due('2027-12-27'), CalendarNotCoveredError)
  t.throws(() => due('2025-12-30'), /no holidays for 2025/)
  t.equal(due('2027-12-20'), '2027-12-28', 'inside the covered years it works up to the end')
})

t.test('bad arguments', async (t) => {
  t.throws(() => addBusinessDays('2026-02-30', 5, illinois), RangeError)
  t.throws(() => addBusinessDays('2026-02-03', 0, illinois), RangeError)
})

t.test('operators add days or replace the calendar', async (t) => {
  const extra = loadHolidayCalendar({ file: null, extra: ['2026-11-17'] })
  t.equal(addBusinessDays('2026-11-16', 5, extra), '2026-11-24', 'a local closing day is skipped')

  const dir = mkdtempSync(join(tmpdir(), 'townsquare-holidays-'))
  const file = join(dir, 'holidays.json')
  writeFileSync(file, JSON.stringify({ years: [2028], holidays: [{ date: '2028-01-03', name: 'Observed' }] }))
  const replaced = loadHolidayCalendar({ file, extra: [] })
  t.equal(addBusinessDays('2027-12-31', 1, { ...replaced, years: new Set([2027, 2028]) }), '2028-01-04')
  t.throws(() => addBusinessDays('2026-11-16', 5, replaced), /no holidays for 2026/, 'the file replaces the shipped list')

  writeFileSync(file, JSON.stringify({ years: [2028], holidays: [{ date: '2028-02-30', name: 'Bad' }] }))
  t.throws(() => loadHolidayCalendar({ file, extra: [] }), /holidays\.0\.date: must be a date/)
  t.throws(() => loadHolidayCalendar({ file: join(dir, 'missing.json'), extra: [] }), /unreadable/)
})

t.test("Illinois' date of an instant", async (t) => {
  t.equal(illinoisDate(new Date('2026-11-17T04:59:00Z')), '2026-11-16', '10:59 pm in Chicago')
  t.equal(illinoisDate(new Date('2026-11-17T06:00:00Z')), '2026-11-17')
})
