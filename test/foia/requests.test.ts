import t from 'tap'
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
  t.match(r, { receivedOn: '2026-11-02', businessDays: 5, originalDueOn: '2026-11-10', dueOn: '2026-11-10', status: 'received', extension: null, createdBy: 'user:clerk-1' })
  t.same(r.history.map((h: { status: string }) => h.status), ['received'])

  const commercial = (await create({ requester: { name: 'Data Broker LLC' }, receivedOn: '2026-11-02', description: 'Everything', commercial: true })).json()
  t.match(commercial, { businessDays: 21, dueOn: '2026-12-07' })
  const later = (await create({ requester: { name: 'B' }, receivedOn: '2026-11-20', description: 'x', commercial: false })).json()
  t.equal(later.dueOn, '2026-12-01')

  const outside = await create({ requester: { name: 'C' }, receivedOn: '2027-12-28', description: 'x', commercial: false })
  t.match(outside.json(), { status: 422, type: '/problems/holiday-calendar-incomplete', detail: /2028/ })

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
  t.same(due.json().items.map((i: { id: string }) => i.id), [r.id, later.id], 'open requests due before Dec 2, by due date')

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
  t.same(dueAfterClose.json().items.map((i: { id: string }) => i.id), [later.id, commercial.id], 'closed requests are no longer coming due')

  const page1 = (await app.inject({ method: 'GET', url: '/v1/foia/requests?limit=2', headers: auditor })).json()
  const page2 = (await app.inject({ method: 'GET', url: `/v1/foia/requests?limit=2&cursor=${page1.nextCursor}`, headers: auditor })).json()
  t.equal(page1.items.length + page2.items.length, 3)
  t.equal(page2.nextCursor, null)

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
