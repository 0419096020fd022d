import t from 'tap'
import { inTransaction } from '../../src/db/tx.js'
import { executeDisposal } from '../../src/retention/disposal.js'
import { placeHold } from '../../src/retention/holds.js'
import { adoptSchedules, call, DAY, deliverComments, manualClock, waitForLockWaiter } from '../factories/retention.js'
import { testApp } from '../helpers/app.js'

/** Two old comments, adopted schedules, and an approved disposal listing both whose notice period is over. */
async function approvedDisposal(t: Tauntable, texts: [string, string]) {
  const realNow = new Date()
  const clock = manualClock(new Date(realNow.getTime() - 800 * DAY))
  const env = await testApp(t, { clock })
  const { app, token } = env
  const clerkA = token('records_clerk', 'clerk-a')
  const ids = await deliverComments(app, texts.map((text, i) => ({ n: 100 + i, text, at: new Date(clock().getTime() - DAY) })))
  await adoptSchedules(app, clerkA, 365)
  await clock.set(new Date(realNow.getTime() - 100 * DAY))
  const disposal = (await call(app, clerkA, 'POST', '/v1/disposals', {})).json()
  const approval = await call(app, token('records_clerk', 'clerk-b'), 'POST', `/v1/disposals/${disposal.id}/approval`, { approvalReference: 'LRC cert 9', approvedOn: '2025-01-01' })
  t.equal(approval.statusCode, 200)
  await clock.set(new Date())
  return { ...env, clock, clerkA, ids, disposalId: disposal.id as string }
}
type Tauntable = Parameters<typeof testApp>[0]

t.test('holds on records and on a search, placement and release in the ledger, bad input refused', async (t) => {
  const clock = manualClock(new Date(Date.now() - 800 * DAY))
  const { app, token } = await testApp(t, { clock })
  const clerk = token('records_clerk', 'clerk-a')
  const [a, b] = await deliverComments(app, [
    { n: 1, text: 'The Court Street bridge is unsafe', at: new Date(clock().getTime() - DAY) },
    { n: 2, text: 'Parks are lovely', at: new Date(clock().getTime() - DAY) },
  ])
  await adoptSchedules(app, clerk, 365)

  t.equal((await call(app, clerk, 'POST', '/v1/holds', { reason: 'x' })).statusCode, 400, 'no reason, no target')
  t.equal((await call(app, clerk, 'POST', '/v1/holds', { reason: 'Case 1', recordIds: [a], query: { platform: 'x' } })).statusCode, 400, 'both targets')
  const unknown = await call(app, clerk, 'POST', '/v1/holds', { reason: 'Case 1', recordIds: ['00000000-0000-4000-8000-000000000000'] })
  t.equal(unknown.statusCode, 400)
  t.equal((await call(app, clerk, 'POST', '/v1/holds', { reason: 'Case 1', query: { q: '!!!' } })).statusCode, 400, 'a search with no words')
  t.equal(await app.db.prisma.legalHold.count(), 0, 'nothing was held')

  const search = await call(app, clerk, 'POST', '/v1/holds', { reason: 'Litigation 26-L-0042: bridge', query: { q: 'bridge' } })
  t.equal(search.statusCode, 201)
  t.match(search.json(), { status: 'active', query: { q: 'bridge' }, recordCount: 1, recordIds: [a], placedBy: 'user:clerk-a' })
  const entry = await app.db.prisma.ledgerEntry.findUnique({ where: { id: search.json().placedEntryId } })
  t.equal(entry!.kind, 'hold.placed')
  t.match(JSON.parse(entry!.payload!), { reason: 'Litigation 26-L-0042: bridge', query: { q: 'bridge' }, recordIds: [a] })

  await clock.set(new Date(Date.now() - 100 * DAY))
  const eligible = (await call(app, clerk, 'GET', '/v1/retention/eligible')).json()
  t.same(eligible.items.map((r: { recordId: string }) => r.recordId), [b], 'the held record is not eligible')

  // A record arriving after placement that matches the search is held too.
  const [late] = await deliverComments(app, [{ n: 3, text: 'Another bridge complaint', at: new Date(Date.now() - 500 * DAY) }])
  const now = (await call(app, clerk, 'GET', '/v1/retention/eligible')).json()
  t.same(now.items.map((r: { recordId: string }) => r.recordId), [b], `the later match ${late} is held by the search`)

  const ids = await call(app, clerk, 'POST', '/v1/holds', { reason: 'FOIA 2026-0009', recordIds: [b] })
  t.equal(ids.statusCode, 201)
  t.equal((await call(app, clerk, 'GET', '/v1/retention/eligible')).json().items.length, 0, 'everything is held')

  const released = await call(app, clerk, 'POST', `/v1/holds/${ids.json().id}/release`, { reason: 'Request closed' })
  t.match(released.json(), { status: 'released', releaseReason: 'Request closed', releasedBy: 'user:clerk-a' })
  t.equal((await app.db.prisma.ledgerEntry.findUnique({ where: { id: released.json().releasedEntryId } }))!.kind, 'hold.released')
  t.equal((await call(app, clerk, 'POST', `/v1/holds/${ids.json().id}/release`, { reason: 'Again' })).statusCode, 409, 'released once')
  t.equal((await call(app, clerk, 'POST', `/v1/holds/00000000-0000-4000-8000-000000000000/release`, { reason: 'None' })).statusCode, 404)
  t.same((await call(app, clerk, 'GET', '/v1/retention/eligible')).json().items.map((r: { recordId: string }) => r.recordId), [b], 'eligible again once released')

  const list = (await call(app, token('auditor'), 'GET', '/v1/holds?status=active')).json()
  t.same(list.items.map((h: { id: string }) => h.id), [search.json().id])
  t.match((await call(app, token('auditor'), 'GET', `/v1/holds/${search.json().id}`)).json(), { recordIds: [a] })
  t.equal((await call(app, token('auditor'), 'POST', '/v1/holds', { reason: 'Nope', recordIds: [a] })).statusCode, 403)
})

t.test('disposal refused under hold: a hold placed after listing skips the record, and the database refuses it', async (t) => {
  const { app, clerkA, ids, disposalId } = await approvedDisposal(t, ['First old remark', 'Second old remark'])
  const [a, b] = ids as [string, string]
  const hold = (await call(app, clerkA, 'POST', '/v1/holds', { reason: 'Case 26-L-0050', recordIds: [b] })).json()

  // The database itself refuses a disposal that would touch a held record, whatever the caller.
  const client = await app.db.pool.connect()
  try {
    await client.query('BEGIN')
    const entry = await client.query(
      `INSERT INTO ledger_entry (id, kind, subject, actor, payload, payload_salt, payload_commitment) VALUES (gen_random_uuid(), 'disposal', $1, 'x', '{}', sha256('salt'), encode(sha256('{}'), 'hex')) RETURNING id`,
      [disposalId],
    )
    await t.rejects(client.query('SELECT dispose_records($1, $2)', [disposalId, entry.rows[0].id]), /under an active legal hold/)
  } finally {
    await client.query('ROLLBACK')
    client.release()
  }

  const report = (await call(app, clerkA, 'POST', `/v1/disposals/${disposalId}/execute`)).json()
  t.match(report, { disposed: [a], skipped: [{ recordId: b, outcome: 'skipped_hold', heldBy: [hold.id] }] })
  t.match((await call(app, clerkA, 'GET', `/v1/comments/${b}`)).json(), { text: 'Second old remark', disposedAt: null })
  const detail = (await call(app, clerkA, 'GET', `/v1/disposals/${disposalId}`)).json()
  t.match(detail, { status: 'executed', counts: { disposed: 1, skipped_hold: 1 } })
})

t.test('the hold race: a hold committing while a disposal runs wins; a disposal that committed first is reported', async (t) => {
  const { app, clock, clerkA, ids, disposalId } = await approvedDisposal(t, ['Race remark one', 'Race remark two'])
  const [a, b] = ids as [string, string]
  let release!: () => void
  const gate = new Promise<void>((r) => (release = r))
  let placed!: () => void
  const placing = new Promise<void>((r) => (placed = r))

  // The hold's transaction has placed it and holds the retention lock, uncommitted.
  const holdTx = inTransaction(app.db.prisma, async (tx) => {
    const view = await placeHold(tx, 'user:clerk-c', { reason: 'Emergency hold', recordIds: [b] }, clock)
    placed()
    await gate
    return view
  })
  await placing
  const execution = call(app, clerkA, 'POST', `/v1/disposals/${disposalId}/execute`)
  await waitForLockWaiter(app.db.pool)
  release()
  const hold = await holdTx
  const report = (await execution).json()
  t.match(report, { disposed: [a], skipped: [{ recordId: b, outcome: 'skipped_hold', heldBy: [hold.hold.id] }] }, 'the disposal waited and saw the hold')
  t.equal((await app.db.prisma.comment.findUnique({ where: { id: b } }))!.currentText, 'Race remark two')
})

t.test('the hold race, other order: the disposal holds the lock, the hold waits and reports what was already disposed', async (t) => {
  const { app, clock, clerkA, ids, disposalId } = await approvedDisposal(t, ['Order remark one', 'Order remark two'])
  const [a] = ids as [string, string]
  let release!: () => void
  const gate = new Promise<void>((r) => (release = r))
  let executed!: () => void
  const executing = new Promise<void>((r) => (executed = r))
  const disposalTx = inTransaction(app.db.prisma, async (tx) => {
    const report = await executeDisposal(tx, 'user:clerk-a', disposalId, clock)
    executed()
    await gate
    return report
  })
  await executing
  const placement = call(app, clerkA, 'POST', '/v1/holds', { reason: 'Late hold', recordIds: [a] })
  await waitForLockWaiter(app.db.pool)
  release()
  const report = await disposalTx
  t.same(report.disposed.sort(), [...ids].sort(), 'the disposal committed first')
  const hold = await placement
  t.equal(hold.statusCode, 201)
  t.match(hold.json(), { recordIds: [a], alreadyDisposed: [a] }, 'the hold is placed and says the record was already disposed')
})
