import t from 'tap'
import {
  addBusinessDays,
  businessDaysBetween,
  EXTENSION_DAYS,
  holidayCalendar,
  ILLINOIS_HOLIDAY_RULES,
  illinoisDate,
  isBusinessDay,
  nthWeekday,
  observedDate,
  responseDays,
} from '../../src/foia/business-days.js'
import { loadConfig } from '../../src/config.js'

const illinois = holidayCalendar()
const due = (received: string, commercial = false) => addBusinessDays(received, responseDays(commercial), illinois)
const dates = (year: number) => illinois.holidays(year).map((h) => h.date)

t.test('the rules give the State of Illinois holidays the project shipped for 2026 and 2027, day for day', async (t) => {
  t.same(dates(2026), [
    '2026-01-01', '2026-01-19', '2026-02-12', '2026-02-16', '2026-05-25', '2026-06-19', '2026-07-03',
    '2026-09-07', '2026-10-12', '2026-11-03', '2026-11-11', '2026-11-26', '2026-11-27', '2026-12-25',
  ])
  t.same(dates(2027), [
    '2027-01-01', '2027-01-18', '2027-02-12', '2027-02-15', '2027-05-31', '2027-06-18', '2027-07-05',
    '2027-09-06', '2027-10-11', '2027-11-11', '2027-11-25', '2027-11-26', '2027-12-24', '2027-12-31',
  ])
  for (let year = 2022; year <= 2100; year++) {
    for (const h of illinois.holidays(year)) {
      const weekday = new Date(h.date + 'T00:00:00Z').getUTCDay()
      if (weekday === 0 || weekday === 6) t.fail(`${h.date} ${h.name} is observed on a weekend`)
    }
  }
})

t.test('every observed-holiday shift: Saturday to the Friday before, Sunday to the Monday after', async (t) => {
  t.equal(observedDate('2026-07-04'), '2026-07-03', 'Saturday → Friday')
  t.equal(observedDate('2027-07-04'), '2027-07-05', 'Sunday → Monday')
  t.equal(observedDate('2026-07-06'), '2026-07-06', 'a weekday stays')
  // Each fixed-date holiday, in a year it falls on a Saturday and one it falls on a Sunday.
  const cases: Array<[string, string, string]> = [
    ['2028-01-01', '2027-12-31', "New Year's Day on a Saturday: observed on Friday, December 31 of the year before"],
    ['2034-01-01', '2034-01-02', "New Year's Day on a Sunday"],
    ['2028-02-12', '2028-02-11', "Lincoln's Birthday on a Saturday"],
    ['2034-02-12', '2034-02-13', "Lincoln's Birthday on a Sunday"],
    ['2027-06-19', '2027-06-18', 'Juneteenth on a Saturday'],
    ['2033-06-19', '2033-06-20', 'Juneteenth on a Sunday'],
    ['2026-07-04', '2026-07-03', 'Independence Day on a Saturday'],
    ['2027-07-04', '2027-07-05', 'Independence Day on a Sunday'],
    ['2028-11-11', '2028-11-10', "Veterans' Day on a Saturday"],
    ['2029-11-11', '2029-11-12', "Veterans' Day on a Sunday"],
    ['2027-12-25', '2027-12-24', 'Christmas on a Saturday'],
    ['2033-12-25', '2033-12-26', 'Christmas on a Sunday'],
  ]
  for (const [actual, observed, what] of cases) {
    const weekday = new Date(actual + 'T00:00:00Z').getUTCDay()
    t.ok(weekday === 0 || weekday === 6, `${actual} is on a weekend`)
    t.ok(illinois.isHoliday(observed), `${what}: ${observed} is a holiday`)
    t.match(illinois.isHoliday(observed), /observed/, `${what}: named as observed`)
    t.equal(isBusinessDay(actual, illinois), false)
  }
  t.equal(illinois.isHoliday('2027-12-31'), "New Year's Day (observed; 2028-01-01 is a Saturday)")
  t.notOk(illinois.holidays(2028).some((h) => h.date === '2028-01-01' || h.date === '2027-12-31'), '2028 has no New Year holiday of its own')
})

t.test('the moving holidays, by rule', async (t) => {
  t.equal(nthWeekday(2028, 1, 1, 3), '2028-01-17', 'MLK Day 2028')
  t.equal(nthWeekday(2035, 5, 1, -1), '2035-05-28', 'Memorial Day 2035: the last Monday')
  t.equal(nthWeekday(2026, 11, 4, 4), '2026-11-26', 'Thanksgiving 2026')
  t.same(
    [2026, 2028, 2030, 2032, 2034, 2036].map((y) => illinois.holidays(y).find((h) => h.name === 'General Election Day')?.date),
    ['2026-11-03', '2028-11-07', '2030-11-05', '2032-11-02', '2034-11-07', '2036-11-04'],
    'General Election Day: the Tuesday after the first Monday of November (2034: November 1 is a Wednesday; 2022: a Tuesday)',
  )
  t.equal(illinois.holidays(2022).find((h) => h.name === 'General Election Day')?.date, '2022-11-08', 'November 1, 2022 was a Tuesday: the election was on the 8th')
  t.notOk(illinois.holidays(2027).some((h) => h.name === 'General Election Day'), 'none in odd years')
  t.notOk(illinois.holidays(2021).some((h) => h.name === 'Juneteenth'), 'Juneteenth from 2022')
  t.equal(ILLINOIS_HOLIDAY_RULES.length, 14)
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

t.test('deadlines in 2027, 2028 and 2035: no year limit', async (t) => {
  t.equal(due('2027-12-20'), '2027-12-28', '2027: Christmas observed Friday December 24')
  t.equal(due('2027-12-27'), '2028-01-04', 'across into 2028: New Year 2028 observed on Friday December 31, 2027')
  t.equal(due('2028-02-07'), '2028-02-15', "2028: Lincoln's Birthday observed Friday February 11")
  t.equal(due('2028-11-06'), '2028-11-15', '2028: General Election Day (Nov 7) and Veterans Day observed Friday Nov 10')
  t.equal(due('2035-11-09'), '2035-11-19', "2035: Veterans' Day (a Sunday) observed Monday November 12")
  t.equal(due('2035-12-20', true), '2036-01-23', '2035, commercial (21 days): Christmas and New Year 2036 skipped, MLK Day 2036 too')
  t.equal(due('2099-12-30'), '2100-01-07', 'and long after')
})

t.test('received on a weekend or a holiday: counting starts at the next business day', async (t) => {
  t.equal(due('2026-02-07'), '2026-02-17', 'Saturday: Mon 9, Tue 10, Wed 11, Fri 13, Tue 17')
  t.equal(due('2026-02-08'), '2026-02-17', 'Sunday gives the same deadline')
  t.equal(due('2026-11-26'), '2026-12-04', 'Thanksgiving: Nov 30 to Dec 4')
  t.equal(due('2026-12-25'), '2027-01-04', "Christmas: across the new year and New Year's Day")
  t.equal(isBusinessDay('2026-11-26', illinois), false)
})

t.test('commercial and recurrent requests: 21 business days (3.1, 3.2); one extension of 5 (3(e))', async (t) => {
  t.equal(due('2026-12-01', true), '2026-12-31', 'December 2026 has Christmas on a Friday')
  t.equal(due('2026-11-02', true), '2026-12-07', 'across Election Day, Veterans Day and Thanksgiving')
  t.equal(responseDays(false, true), 21)
  t.equal(addBusinessDays(due('2026-11-02'), EXTENSION_DAYS, illinois), '2026-11-18', "Veterans' Day is skipped")
  t.equal(businessDaysBetween('2026-11-20', '2026-12-01', illinois), 5)
})

t.test("the city's own calendar: closing days, open days and holidays it does not observe", async (t) => {
  const city = holidayCalendar({ closedDays: ['2026-11-17', '2026-12-24'], openDays: ['2026-11-27'], openHolidays: ['columbus_day', 'lincolns_birthday'] })
  t.equal(addBusinessDays('2026-11-16', 5, city), '2026-11-24', 'a closing day is skipped')
  t.equal(city.isHoliday('2026-11-17'), 'City offices closed (FOIA_CLOSED_DAYS)')
  t.equal(city.isHoliday('2026-11-27'), null, 'open on the day after Thanksgiving')
  t.equal(addBusinessDays('2026-11-25', 1, city), '2026-11-27')
  t.equal(city.isHoliday('2026-10-12'), null, 'Columbus Day not observed')
  t.equal(city.isHoliday('2031-02-12'), null, "Lincoln's Birthday not observed, any year")
  t.equal(city.isHoliday('2026-12-25'), 'Christmas Day')
  t.not(city.name, illinois.name, "the calendar's name tells the city's calendar from the State's")
  t.match(city.name, /^illinois-490-v1\+city-[0-9a-f]{12}$/)
  t.equal(illinois.name, 'illinois-490-v1')
  t.equal(holidayCalendar({ closedDays: ['2026-12-24', '2026-11-17'] }).name, holidayCalendar({ closedDays: ['2026-11-17', '2026-12-24'] }).name, 'order does not matter')

  t.throws(() => holidayCalendar({ closedDays: ['2026-02-30'] }), /not a date/)
  t.throws(() => holidayCalendar({ openHolidays: ['festivus'] }), /unknown holiday festivus/)
  t.throws(() => holidayCalendar({ closedDays: ['2026-12-24'], openDays: ['2026-12-24'] }), /both closed and open/)
  t.throws(() => loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40), FOIA_OPEN_HOLIDAYS: 'festivus' }), /FOIA calendar: unknown holiday festivus/, 'refused at startup')
})

t.test('bad arguments', async (t) => {
  t.throws(() => addBusinessDays('2026-02-30', 5, illinois), RangeError)
  t.throws(() => addBusinessDays('2026-02-03', 0, illinois), RangeError)
})

t.test("Illinois' date of an instant", async (t) => {
  t.equal(illinoisDate(new Date('2026-11-17T04:59:00Z')), '2026-11-16', '10:59 pm in Chicago')
  t.equal(illinoisDate(new Date('2026-11-17T06:00:00Z')), '2026-11-17')
})
