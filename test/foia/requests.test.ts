import t from 'tap'
import { inTransaction } from '../../src/db/tx.js'
import { holidayCalendar } from '../../src/foia/business-days.js'
import { createRequest } from '../../src/foia/requests.js'
import { testApp } from '../helpers/app.js'
import { websiteComments } from './helpers.js'

t.test('request lifecycle: deadline, status history, extension, due_before', async (t) => {
  let now = new Date('2026-11-03T15:00:00Z')
  const { app, token } = await testApp(t, { clock: () => now })
  const clerk = { authorization: `Bearer ${token('records_clerk', 'clerk-1')}` }
  const auditor = { authorization: `Bearer ${token('auditor')}` }
  const create = (payload: object, headers: Record<string, string> = clerk) => app.inject({ method: 'POST', url: '/v1/foia/requests', headers, payload })

  const bad = await create({ requester: { name: '' }, receivedOn: '2026-02-30', description: 'x', commercial: 'no' })
  t.equal(bad.statusCode, 400)
  t.same(bad.json().errors.map((e: { path: string }) => e.path).sort(), ['body:$.commercial', 'body:$.receivedOn', 'body:$.requester.name'])
  t.equal(await app.db.prisma.foiaRequest.count(), 0, 'a bad request changes nothing')

  const res = await create({ requester: { name: 'A. Resident', contact: 'resident@example.org' }, receivedOn: '2026-11-02', description: 'All comments on the Court Street bridge post', commercial: false })
  t.equal(res.statusCode, 201, res.body)
  const r = res.json()
  t.match(r, {
    trackingNumber: '2026-0001',
    receivedOn: '2026-11-02',
    businessDays: 5,
    originalDueOn: '2026-11-10',
    dueOn: '2026-11-10',
    calendar: 'illinois-490-v1',
    recurrent: false,
    source: 'clerk',
    status: 'received',
    extension: null,
    createdBy: 'user:clerk-1',
  })
  t.same(r.history.map((h: { status: string }) => h.status), ['received'])

  const commercial = (await create({ requester: { name: 'Data Broker LLC' }, receivedOn: '2026-11-02', description: 'Everything', commercial: true })).json()
  t.match(commercial, { businessDays: 21, dueOn: '2026-12-07' })
  now = new Date('2026-11-20T15:00:00Z')
  const later = (await create({ requester: { name: 'B' }, receivedOn: '2026-11-20', description: 'x', commercial: false })).json()
  now = new Date('2026-11-03T15:00:00Z')
  t.equal(later.dueOn, '2026-12-01')

  t.same([commercial.trackingNumber, later.trackingNumber], ['2026-0002', '2026-0003'], 'numbered in order, per year')

  const future = await create({ requester: { name: 'C' }, receivedOn: '2026-11-04', description: 'x', commercial: false })
  t.match(future.json(), { status: 422, type: '/problems/foia-received-in-future', detail: 'receivedOn 2026-11-04 is after today (2026-11-03 in Illinois): a request is logged on or after the day it arrives.' })
  t.equal(await app.db.prisma.foiaRequest.count(), 3, 'a refused request changes nothing')
  const lastYear = (await create({ requester: { name: 'C' }, receivedOn: '2025-12-30', description: 'x', commercial: false })).json()
  t.match(lastYear, { trackingNumber: '2025-0001', dueOn: '2026-01-07' }, 'numbered by the year of receipt; no year limit on deadlines')
  const byNumber = await app.inject({ method: 'GET', url: '/v1/foia/requests/2026-0002', headers: auditor })
  t.equal(byNumber.json().id, commercial.id, 'looked up by tracking number')
  t.equal((await app.inject({ method: 'GET', url: '/v1/foia/requests/2026-0999', headers: auditor })).statusCode, 404)
  t.equal((await app.inject({ method: 'GET', url: '/v1/foia/requests/26-1', headers: auditor })).statusCode, 400)

  const status = (id: string, payload: object) => app.inject({ method: 'POST', url: `/v1/foia/requests/${id}/status`, headers: clerk, payload })
  const extend = (id: string, payload: object) => app.inject({ method: 'POST', url: `/v1/foia/requests/${id}/extension`, headers: clerk, payload })

  t.equal((await status(r.id, { status: 'in_progress', note: 'searching' })).statusCode, 200)
  t.equal((await status(r.id, { status: 'in_progress' })).statusCode, 409, 'already in progress')
  t.equal((await status(r.id, { status: 'extended' })).statusCode, 400, 'extended only through the extension route')
  t.equal((await extend(r.id, { reason: 'because' })).statusCode, 400, 'a reason of 3(e) is required')

  now = new Date('2026-11-09T16:00:00Z')
  const extended = await extend(r.id, { reason: 'exemption_review', note: 'told the requester by e-mail' })
  t.equal(extended.statusCode, 200, extended.body)
  t.match(extended.json(), {
    status: 'extended',
    originalDueOn: '2026-11-10',
    dueOn: '2026-11-18',
    extension: { reason: 'exemption_review', citation: '5 ILCS 140/3(e)(v)', note: 'told the requester by e-mail', by: 'user:clerk-1', at: '2026-11-09T16:00:00.000Z' },
  })
  t.match((await extend(r.id, { reason: 'consultation' })).json(), { status: 409, type: '/problems/foia-already-extended' }, 'one extension only')
  t.match((await extend(commercial.id, { reason: 'consultation' })).json(), { status: 409, type: '/problems/foia-extension-not-allowed' })
  now = new Date('2026-12-02T16:00:00Z')
  t.match((await extend(later.id, { reason: 'consultation' })).json(), { status: 409, type: '/problems/foia-extension-too-late' })

  const due = await app.inject({ method: 'GET', url: '/v1/foia/requests?due_before=2026-12-02', headers: auditor })
  t.equal(due.statusCode, 200)
  t.same(due.json().items.map((i: { id: string }) => i.id), [lastYear.id, r.id, later.id], 'open requests due before Dec 2, by due date')

  now = new Date('2026-11-17T16:00:00Z')
  t.equal((await status(r.id, { status: 'partially_denied', note: 'two comments withheld under 7(1)(c)' })).statusCode, 200)
  t.match((await status(r.id, { status: 'fulfilled' })).json(), { status: 409, type: '/problems/foia-request-closed' })
  const closed = (await app.inject({ method: 'GET', url: `/v1/foia/requests/${r.id}`, headers: auditor })).json()
  t.same(
    closed.history.map((h: { status: string; at: string; by: string }) => [h.status, h.at.slice(0, 10), h.by]),
    [
      ['received', '2026-11-03', 'user:clerk-1'],
      ['in_progress', '2026-11-03', 'user:clerk-1'],
      ['extended', '2026-11-09', 'user:clerk-1'],
      ['partially_denied', '2026-11-17', 'user:clerk-1'],
    ],
    'every status with its date',
  )
  t.match(closed.history[2].note, /^5 ILCS 140\/3\(e\)\(v\): the requested records require examination/)
  const dueAfterClose = await app.inject({ method: 'GET', url: '/v1/foia/requests?due_before=2026-12-31', headers: auditor })
  t.same(dueAfterClose.json().items.map((i: { id: string }) => i.id), [lastYear.id, later.id, commercial.id], 'closed requests are no longer coming due')

  const page1 = (await app.inject({ method: 'GET', url: '/v1/foia/requests?limit=2', headers: auditor })).json()
  const page2 = (await app.inject({ method: 'GET', url: `/v1/foia/requests?limit=2&cursor=${page1.nextCursor}`, headers: auditor })).json()
  const page3 = page2.nextCursor ? (await app.inject({ method: 'GET', url: `/v1/foia/requests?limit=2&cursor=${page2.nextCursor}`, headers: auditor })).json() : { items: [], nextCursor: null }
  t.equal(page1.items.length + page2.items.length + page3.items.length, 4)
  t.equal(page3.nextCursor, null)

  t.test('roles', async (t) => {
    t.equal((await create({ requester: { name: 'X' }, receivedOn: '2026-11-02', description: 'x', commercial: false }, auditor)).statusCode, 403)
    t.equal((await app.inject({ method: 'GET', url: '/v1/foia/requests', headers: { authorization: `Bearer ${token('tst_admin')}` } })).statusCode, 403)
    t.equal((await app.inject({ method: 'GET', url: '/v1/foia/requests' })).statusCode, 401)
    t.equal((await app.inject({ method: 'POST', url: `/v1/foia/requests/${later.id}/status`, headers: auditor, payload: { status: 'denied' } })).statusCode, 403)
  })

  t.test('Idempotency-Key: a retried create makes one request', async (t) => {
    const headers = { ...clerk, 'idempotency-key': 'foia-create-1' }
    const payload = { requester: { name: 'D' }, receivedOn: '2026-11-16', description: 'retry', commercial: false }
    const a = await create(payload, headers)
    const b = await create(payload, headers)
    t.equal(b.headers['idempotent-replayed'], 'true')
    t.equal(a.json().id, b.json().id)
  })
})

t.test('attach records from a kept search, by id, and re-run the search', async (t) => {
  const { app, token } = await testApp(t)
  const clerk = { authorization: `Bearer ${token('records_clerk', 'clerk-2')}` }
  const [bridge1, bridge2, other] = await websiteComments(app, [
    { text: 'The Court Street bridge needs repairs' },
    { text: 'When will the bridge on Court Street reopen?' },
    { text: 'Leaf pickup schedule please' },
  ])
  const r = (await app.inject({ method: 'POST', url: '/v1/foia/requests', headers: clerk, payload: { requester: { name: 'A' }, receivedOn: '2026-11-16', description: 'bridge', commercial: false } })).json()
  const attach = (payload: object) => app.inject({ method: 'POST', url: `/v1/foia/requests/${r.id}/records`, headers: clerk, payload })

  t.equal((await attach({})).statusCode, 400, 'a query or ids')
  t.equal((await attach({ query: { nope: 1 } })).statusCode, 400, 'an unknown query field')
  const unknown = await attach({ commentIds: [other, '00000000-0000-4000-8000-000000000000'] })
  t.match(unknown.json(), { status: 400, errors: [{ path: 'body:$.commentIds[1]' }] })
  t.equal(await app.db.prisma.foiaRequestRecord.count(), 0, 'nothing attached by a refused call')

  const bySearch = await attach({ query: { q: 'bridge' } })
  t.equal(bySearch.statusCode, 200, bySearch.body)
  const search = bySearch.json().search
  t.match(bySearch.json(), { attached: 2, records: 2, search: { matched: 2, query: { q: 'bridge' }, runBy: 'user:clerk-2', rerunOf: null } })
  t.match((await attach({ commentIds: [other, bridge1] })).json(), { attached: 1, records: 3, search: null })

  const records = (await app.inject({ method: 'GET', url: `/v1/foia/requests/${r.id}/records`, headers: clerk })).json()
  t.same(records.items.map((i: { commentId: string }) => i.commentId).sort(), [bridge1, bridge2, other].sort())
  t.same(records.items.find((i: { commentId: string }) => i.commentId === bridge1).searchId, search.id, 'attached first by the search')

  const [bridge3] = await websiteComments(app, [{ text: 'Bridge closed again today' }])
  const rerun = await app.inject({ method: 'POST', url: `/v1/foia/requests/${r.id}/searches/${search.id}/rerun`, headers: clerk, payload: {} })
  t.match(rerun.json(), { matchedThen: 2, matchedNow: 3, newMatches: 1, noLongerMatching: 0, search: null, attached: 0 })
  t.equal((await app.inject({ method: 'GET', url: `/v1/foia/requests/${r.id}`, headers: clerk })).json().records, 3, 'a comparison attaches nothing')

  const kept = await app.inject({ method: 'POST', url: `/v1/foia/requests/${r.id}/searches/${search.id}/rerun`, headers: clerk, payload: { attach: true } })
  t.match(kept.json(), { matchedNow: 3, attached: 1, search: { matched: 3, rerunOf: search.id } })
  const searches = (await app.inject({ method: 'GET', url: `/v1/foia/requests/${r.id}/searches`, headers: clerk })).json()
  t.equal(searches.nextCursor, null, 'the same list envelope as every other list')
  t.same(searches.items.map((s: { matched: number }) => s.matched), [2, 3], 'each run is kept with the list it resolved to')
  const { rows } = await app.db.pool.query<{ comment_id: string }>('SELECT comment_id::text FROM foia_search_result WHERE search_id = $1', [search.id])
  t.same(rows.map((x) => x.comment_id).sort(), [bridge1, bridge2].sort(), 'the first run still lists what it matched then')
  t.ok(bridge3)
})

t.test('tracking numbers: concurrent creations get every number once, and a rolled-back creation gives its number back', async (t) => {
  const { app, token } = await testApp(t)
  const clerk = { authorization: `Bearer ${token('records_clerk', 'clerk-3')}` }
  const create = (i: number, receivedOn = '2026-11-16') =>
    app.inject({ method: 'POST', url: '/v1/foia/requests', headers: clerk, payload: { requester: { name: `R${i}` }, receivedOn, description: `request ${i}`, commercial: false } })
  const answers = await Promise.all(Array.from({ length: 24 }, (_, i) => create(i, i % 4 === 3 ? '2025-06-02' : '2026-11-16')))
  t.same(answers.map((a) => a.statusCode), Array(24).fill(201))
  const numbers = answers.map((a) => a.json().trackingNumber as string)
  const of = (year: string) => numbers.filter((n) => n.startsWith(year)).sort()
  t.same(of('2026'), Array.from({ length: 18 }, (_, i) => `2026-${String(i + 1).padStart(4, '0')}`), '2026: 0001 to 0018, no gap, no duplicate')
  t.same(of('2025'), Array.from({ length: 6 }, (_, i) => `2025-${String(i + 1).padStart(4, '0')}`), '2025 has its own sequence')

  const deps = { clock: app.clock, calendar: holidayCalendar() }
  await t.rejects(
    inTransaction(app.db.prisma, async (tx) => {
      const id = await createRequest(tx, { requester: { name: 'X' }, receivedOn: '2026-11-16', description: 'x', commercial: false }, 'user:x', deps)
      t.equal((await tx.foiaRequest.findUniqueOrThrow({ where: { id } })).trackingNumber, '2026-0019')
      throw new Error('rolled back')
    }),
    /rolled back/,
  )
  t.equal((await create(99)).json().trackingNumber, '2026-0019', 'the rolled-back number is given to the next request')

  const first = answers[0]!.json()
  await t.rejects(app.db.prisma.foiaRequest.update({ where: { id: first.id }, data: { trackingNumber: '2026-9999' } }), /never change/, 'a number once given never changes, even for the service')
  await t.rejects(app.db.prisma.foiaRequest.update({ where: { id: first.id }, data: { receivedOn: new Date('2026-01-02T00:00:00Z') } }), /never change/, 'nor does the date of receipt')
})

t.test('detaching a record: recorded in the ledger, left out of the request, attachable again', async (t) => {
  const { app, token } = await testApp(t)
  const clerk = { authorization: `Bearer ${token('records_clerk', 'clerk-4')}` }
  const [a = '', b = ''] = await websiteComments(app, [{ text: 'First comment about the bridge', author: { id: 'u-a', name: 'Ann Author' } }, { text: 'Second one' }])
  const r = (await app.inject({ method: 'POST', url: '/v1/foia/requests', headers: clerk, payload: { requester: { name: 'A' }, receivedOn: '2026-11-16', description: 'bridge', commercial: false } })).json()
  await app.inject({ method: 'POST', url: `/v1/foia/requests/${r.id}/records`, headers: clerk, payload: { commentIds: [a, b] } })

  const list = (await app.inject({ method: 'GET', url: `/v1/foia/requests/${r.id}/records`, headers: clerk })).json()
  const first = list.items.find((i: { commentId: string }) => i.commentId === a)
  t.match(first, { platform: 'website', externalId: /^c-/, authorName: 'Ann Author', excerpt: 'First comment about the bridge', status: 'active', byCity: false, versions: 1 }, 'listed with its details')

  const detach = (commentId: string, payload: object) => app.inject({ method: 'DELETE', url: `/v1/foia/requests/${r.id}/records/${commentId}`, headers: clerk, payload })
  t.equal((await detach(a, {})).statusCode, 400, 'a reason is required')
  t.equal((await detach(a, { reason: '' })).statusCode, 400)
  const done = await detach(a, { reason: 'attached by mistake: not about the bridge' })
  t.equal(done.statusCode, 200, done.body)
  t.match(done.json(), { commentId: a, records: 1 })
  t.equal((await detach(a, { reason: 'again' })).statusCode, 404, 'already detached')
  const entry = await app.db.prisma.ledgerEntry.findUniqueOrThrow({ where: { id: done.json().ledgerEntryId } })
  t.match(entry, { kind: 'foia.record_detached', subject: r.id, actor: 'user:clerk-4' })
  t.match(JSON.parse(entry.payload!), { requestId: r.id, trackingNumber: r.trackingNumber, commentId: a, reason: 'attached by mistake: not about the bridge' })
  t.same((await app.inject({ method: 'GET', url: `/v1/foia/requests/${r.id}/records`, headers: clerk })).json().items.map((i: { commentId: string }) => i.commentId), [b])
  t.equal((await app.inject({ method: 'GET', url: `/v1/foia/requests/${r.id}`, headers: clerk })).json().records, 1)
  const withhold = await app.inject({ method: 'PUT', url: `/v1/foia/requests/${r.id}/records/${a}/withholding`, headers: clerk, payload: { citation: '5 ILCS 140/7(1)(c)' } })
  t.equal(withhold.statusCode, 404, 'a detached record cannot be withheld')

  const again = await app.inject({ method: 'POST', url: `/v1/foia/requests/${r.id}/records`, headers: clerk, payload: { commentIds: [a] } })
  t.match(again.json(), { attached: 1, records: 2 }, 'attached again')
  t.equal((await detach(a, { reason: 'x' })).statusCode, 200)

  const [c = ''] = await websiteComments(app, [{ text: 'Call me at 815-555-0199 about the bridge' }])
  await app.inject({ method: 'POST', url: `/v1/foia/requests/${r.id}/records`, headers: clerk, payload: { commentIds: [c] } })
  t.equal((await detach(c, { reason: 'outside the request' })).statusCode, 200)
  const scan = await app.inject({ method: 'POST', url: `/v1/foia/requests/${r.id}/redactions/suggestions`, headers: clerk })
  t.match(scan.json(), { suggested: 0, pending: 0 }, 'a detached record is not scanned for redactions')
  const r2 = (await app.inject({ method: 'POST', url: '/v1/foia/requests', headers: clerk, payload: { requester: { name: 'B' }, receivedOn: '2026-11-16', description: 'c', commercial: false } })).json()
  await app.inject({ method: 'POST', url: `/v1/foia/requests/${r2.id}/records`, headers: clerk, payload: { commentIds: [c] } })
  t.match((await app.inject({ method: 'POST', url: `/v1/foia/requests/${r2.id}/redactions/suggestions`, headers: clerk })).json(), { suggested: 1 }, 'while attached, it would be')
  t.equal((await app.inject({ method: 'DELETE', url: `/v1/foia/requests/${r.id}/records/${b}`, headers: { authorization: `Bearer ${token('auditor')}` }, payload: { reason: 'x' } })).statusCode, 403)
})
