import t from 'tap'
import { instantOf, isDateParam, startOfDayIn } from '../../src/http/dates.js'
import { testApp } from '../helpers/app.js'
import { deliver, fixture } from '../factories/webhooks.js'

t.test('a plain date is a day in the city time zone, daylight saving included', async (t) => {
  t.equal(instantOf('2026-12-07', 'America/Chicago').toISOString(), '2026-12-07T06:00:00.000Z', 'CST, UTC-6')
  t.equal(instantOf('2026-07-04', 'America/Chicago').toISOString(), '2026-07-04T05:00:00.000Z', 'CDT, UTC-5')
  t.equal(instantOf('2026-12-07', 'America/Chicago', 'end').toISOString(), '2026-12-08T06:00:00.000Z', 'an end bound includes the whole day')
  t.equal(instantOf('2026-03-08', 'America/Chicago', 'end').toISOString(), '2026-03-09T05:00:00.000Z', 'the day clocks go forward is 23 hours long')
  t.equal(startOfDayIn(2026, 3, 8, 'America/Chicago').toISOString(), '2026-03-08T06:00:00.000Z')
  t.equal(instantOf('2026-12-31', 'UTC', 'end').toISOString(), '2027-01-01T00:00:00.000Z', 'across a year end')
  t.equal(instantOf('2026-12-07T09:30:00-06:00', 'America/Chicago').toISOString(), '2026-12-07T15:30:00.000Z', 'a datetime is taken as given')
  t.equal(instantOf('2026-12-07T09:30:00Z', 'America/Chicago', 'end').toISOString(), '2026-12-07T09:30:00.000Z', 'a datetime end is not moved')
  for (const bad of ['2026-02-30', '2026-13-01', '07/12/2026', '2026-12-07T09:30:00', 'yesterday', '']) t.notOk(isDateParam(bad), bad)
})

t.test('plain dates through HTTP: comments, records, the access log and the public statistics', async (t) => {
  const { app, token } = await testApp(t, { env: { CITY_TIME_ZONE: 'America/Chicago' } })
  // Posted 2026-01-01T00:00:04Z: still 31 December in Chicago.
  await deliver(app, 'meta', fixture('meta-facebook-comment-add.json'))
  const clerk = token('records_clerk')
  const count = async (url: string) => {
    const res = await app.inject({ url, headers: { authorization: `Bearer ${clerk}` } })
    t.equal(res.statusCode, 200, `${url}: ${res.body}`)
    return res.json().items.length as number
  }
  t.equal(await count('/v1/comments?from=2025-12-31'), 1)
  t.equal(await count('/v1/comments?from=2026-01-01'), 0, 'not posted on 1 January in the city')
  t.equal(await count('/v1/comments?to=2025-12-31'), 1, 'to includes the whole day')
  t.equal(await count('/v1/comments?from=2025-12-31&to=2025-12-31'), 1)
  t.equal(await count('/v1/records/search?from=2025-12-31&to=2025-12-31'), 1)
  t.equal(await count('/v1/records/search?to=2025-12-30'), 0)
  t.equal(await count('/v1/records/search?from=2025-12-31T17:00:00-06:00'), 1, 'a datetime with its offset still works')
  const auditor = token('auditor')
  const audit = await app.inject({ url: '/v1/audit/access?from=2025-01-01&to=2030-12-31', headers: { authorization: `Bearer ${auditor}` } })
  t.equal(audit.statusCode, 200, audit.body)

  for (const url of ['/v1/comments?from=07%2F12%2F2026', '/v1/records/search?to=2026-02-30', '/v1/audit/access?from=tomorrow']) {
    const res = await app.inject({ url, headers: { authorization: `Bearer ${url.startsWith('/v1/audit') ? auditor : clerk}` } })
    t.equal(res.statusCode, 400, url)
    t.match(res.json().detail, /YYYY-MM-DD.*ISO 8601 datetime with its offset/, `${url}: the error names the accepted formats`)
  }

  const stats = await app.inject({ url: '/v1/transparency/stats?from=2025-12-01&to=2026-01-31' })
  t.equal(stats.statusCode, 200, stats.body)
  t.equal(stats.json().range.from, '2025-12-01T06:00:00.000Z', "public statistics take a plain date in the city's zone")
  const bad = await app.inject({ url: '/v1/transparency/stats?from=2025-1-1' })
  t.equal(bad.statusCode, 400)
  t.match(bad.json().detail, /YYYY-MM .*YYYY-MM-DD.*ISO 8601/)
})
