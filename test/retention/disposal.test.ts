import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { illinoisDate } from '../../src/foia/business-days.js'
import { verifyLedgerBundle, writeLedgerBundle } from '../../src/ledger/bundle.js'
import { extractTar } from '../../src/foia/tar.js'
import { verifyProduction, verifyProductionArchive } from '../../src/foia/verify-production.js'
import { tarMembers } from '../foia/helpers.js'
import { adoptSchedules, call, DAY, deliverComments, manualClock, tablesContaining } from '../factories/retention.js'
import { publishedVersion } from '../factories/moderation.js'
import { sealNow } from '../factories/ledger.js'
import { testApp } from '../helpers/app.js'

const MARKER = 'Zqxv7731wq'
const AUTHOR = 'Marlowe Ptarmiganfield'

t.test('schedules: examples until adopted, adoption recorded in the ledger, bad input refused', async (t) => {
  const { app, token } = await testApp(t)
  const clerk = token('records_clerk', 'clerk-a')
  const before = (await call(app, clerk, 'GET', '/v1/retention/schedules')).json()
  t.match(before.items, [{ recordKind: 'comment', adopted: false, retentionDays: 730, scheduleReference: null }, { recordKind: 'removed_comment', adopted: false }, { recordKind: 'city_comment', adopted: false }])
  const bad = await call(app, clerk, 'PUT', '/v1/retention/schedules/comment', { retentionDays: 0, scheduleReference: '' })
  t.equal(bad.statusCode, 400)
  t.equal((await call(app, clerk, 'PUT', '/v1/retention/schedules/tweets', { retentionDays: 10, scheduleReference: 'x' })).statusCode, 400, 'unknown kind')
  t.equal(await app.db.prisma.retentionSchedule.count(), 0, 'nothing changed')
  const set = await call(app, clerk, 'PUT', '/v1/retention/schedules/comment', { retentionDays: 1095, scheduleReference: 'LRC 26-0001 item 3' })
  t.equal(set.statusCode, 200)
  t.match(set.json(), { recordKind: 'comment', adopted: true, retentionDays: 1095, scheduleReference: 'LRC 26-0001 item 3', updatedBy: 'user:clerk-a' })
  const entry = await app.db.prisma.ledgerEntry.findUnique({ where: { id: set.json().ledgerEntryId } })
  t.match(JSON.parse(entry!.payload!), { recordKind: 'comment', retentionDays: 1095, previous: null })
  t.equal(entry!.kind, 'retention.schedule_set')
  const auditor = await call(app, token('auditor'), 'GET', '/v1/retention/schedules')
  t.equal(auditor.statusCode, 200)
  t.equal((await call(app, token('auditor'), 'PUT', '/v1/retention/schedules/comment', { retentionDays: 5, scheduleReference: 'x' })).statusCode, 403)
})

t.test('the disposal workflow: eligibility, listing, approval, notice period, execution, verification', async (t) => {
  const realNow = new Date()
  const start = new Date(realNow.getTime() - 1000 * DAY)
  const clock = manualClock(start)
  const { app, token, ownerPool } = await testApp(t, { clock })
  const prisma = app.db.prisma
  const clerkA = token('records_clerk', 'clerk-a')
  const clerkB = token('records_clerk', 'clerk-b')

  // A policy that removes "term-R9", so the comment has an evaluation, a decision with evidence and notices.
  await publishedVersion(prisma, { version: 1, effectiveFrom: new Date(start.getTime() - 10 * DAY), rules: [{ code: 'R9', title: 'Spam', category: 'spam_or_commercial_solicitation', action: 'remove' }] })
  const [old, kept] = await deliverComments(app, [{ n: 1, text: `Bridge is late term-R9 ${MARKER}`, name: AUTHOR, at: new Date(start.getTime() - DAY) }])
    .then(async ([a]) => [a!, (await deliverComments(app, [{ n: 2, text: 'Please fix Court Street', at: new Date(start.getTime() + 300 * DAY) }]))[0]!])
  t.ok(await prisma.moderationDecision.findFirst({ where: { commentId: old } }), 'the comment was removed automatically (decision with evidence)')
  t.same(await tablesContaining(app.db.pool, MARKER).then((x) => x.length > 0), true, 'the marker is stored before disposal')

  await clock.set(new Date(start.getTime() + 400 * DAY))
  t.equal((await call(app, clerkA, 'GET', '/v1/retention/eligible')).json().items.length, 0, 'no adopted schedule: nothing eligible')
  t.equal((await call(app, clerkA, 'POST', '/v1/disposals', {})).statusCode, 409, 'nothing to list')
  await adoptSchedules(app, clerkA, 365)
  const eligible = (await call(app, clerkA, 'GET', '/v1/retention/eligible')).json()
  t.same(eligible.items.map((r: { recordId: string }) => r.recordId), [old], 'only the comment past its 365 days is eligible')
  t.match(eligible.items[0], { recordKind: 'removed_comment', scheduleReference: 'LRC application 26-0001, item removed_comment' })

  const created = await call(app, clerkA, 'POST', '/v1/disposals', { note: 'FY2024 comments' })
  t.equal(created.statusCode, 201)
  const disposal = created.json()
  t.match(disposal, { status: 'listed', noticeDays: 30, createdBy: 'user:clerk-a', records: [{ recordId: old, outcome: 'pending' }] })
  t.equal((await call(app, clerkA, 'GET', '/v1/retention/eligible')).json().items.length, 0, 'a listed record is not listed twice')
  const csv = await call(app, clerkA, 'GET', `/v1/disposals/${disposal.id}/certificate?format=csv`)
  t.match(csv.headers['content-type'], /text\/csv/)
  t.match(csv.body, new RegExp(`^"?record_id"?,.*\\r\\n"${old}","removed_comment","facebook"`))
  t.notMatch(csv.body, MARKER, 'the certificate lists ids and dates, not content')

  // Approval is required and must be recorded by someone else.
  t.equal((await call(app, clerkA, 'POST', `/v1/disposals/${disposal.id}/execute`)).statusCode, 409, 'no approval: refused')
  t.match((await call(app, clerkA, 'POST', `/v1/disposals/${disposal.id}/approval`, { approvalReference: 'LRC cert 2026-117', approvedOn: '2024-01-01' })).json(), { type: '/problems/same-person-approval' })
  t.equal((await call(app, clerkB, 'POST', `/v1/disposals/${disposal.id}/approval`, { approvalReference: '', approvedOn: 'tomorrow' })).statusCode, 400)

  // Approved 40 days ago: the 30-day notice period is over.
  // At 02:00 UTC it is still the evening before in Kankakee (CITY_TIME_ZONE America/Chicago): the
  // UTC date is tomorrow there, so approving on it is approving in the future.
  const evening = new Date(realNow.getTime() - 40 * DAY)
  evening.setUTCHours(2, 0, 0, 0)
  await clock.set(evening)
  const cityDay = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/Chicago' }).format(evening)
  const early = await call(app, clerkB, 'POST', `/v1/disposals/${disposal.id}/approval`, { approvalReference: 'LRC cert 2026-117', approvedOn: evening.toISOString().slice(0, 10) })
  t.equal(early.statusCode, 400, "a date that has not begun in the city's time zone is in the future")
  t.match(early.json(), { errors: [{ path: 'body:$.approvedOn', message: 'must not be in the future' }] })
  const approved = await call(app, clerkB, 'POST', `/v1/disposals/${disposal.id}/approval`, { approvalReference: 'LRC cert 2026-117', approvedOn: cityDay })
  t.equal(approved.statusCode, 200)
  t.match(approved.json(), { status: 'approved', approvedBy: 'user:clerk-b', approvalReference: 'LRC cert 2026-117' })
  t.equal((await call(app, clerkB, 'POST', `/v1/disposals/${disposal.id}/approval`, { approvalReference: 'again', approvedOn: '2024-01-01' })).statusCode, 409, 'approved once')
  await clock.set(new Date())
  await sealNow(app)
  const executed = await call(app, clerkA, 'POST', `/v1/disposals/${disposal.id}/execute`)
  t.equal(executed.statusCode, 200, executed.body)
  const report = executed.json()
  t.match(report, { replayed: false, disposed: [old], skipped: [], disposal: { status: 'executed' } })
  t.ok(report.destroyedLedgerEntries >= 2, 'the comment version and the decision lost their payloads')
  t.equal(report.destroyedDeliveries, 1, 'its raw delivery carried only it')

  t.same(await tablesContaining(app.db.pool, MARKER), [], 'no trace of the text in any column of any table, raw bytes included')
  t.same(await tablesContaining(app.db.pool, AUTHOR), [], 'no trace of the author')
  const keys = await prisma.commentEvent.findMany({ where: { commentId: old }, select: { id: true, eventKey: true } })
  t.same(keys.map((k) => k.eventKey), keys.map((k) => `disposed:${k.id}`), 'its event keys (derived from its text) went with the text')
  const evaluation = await prisma.commentEvaluation.findFirst({ where: { commentId: old } })
  t.notMatch(JSON.stringify(evaluation!.matches), /"text"/, 'evaluation evidence keeps offsets, not words')
  t.match(evaluation!.matches, [{ ruleCode: 'R9', evidence: [{ start: Number, end: Number }] }])

  const comment = (await call(app, clerkA, 'GET', `/v1/comments/${old}`)).json()
  t.match(comment, { id: old, text: null, author: { id: null, name: null }, disposalId: disposal.id, disposedAt: String, versions: [{ text: null }] })
  t.match((await call(app, clerkA, 'GET', `/v1/comments/${kept}`)).json(), { text: 'Please fix Court Street', disposedAt: null }, 'the other comment is untouched')

  // A FOIA request that asks for both: the clerk sees which was disposed, and a production holds the other.
  const request = await call(app, clerkA, 'POST', '/v1/foia/requests', { requester: { name: 'A resident' }, receivedOn: illinoisDate(new Date()), description: 'Bridge comments', commercial: false })
  t.equal(request.statusCode, 201, request.body)
  const requestId = request.json().id as string
  t.equal((await call(app, clerkA, 'POST', `/v1/foia/requests/${requestId}/records`, { commentIds: [old, kept] })).statusCode, 200)
  const attached = (await call(app, clerkA, 'GET', `/v1/foia/requests/${requestId}/records`)).json()
  t.same(
    Object.fromEntries(attached.items.map((r: { commentId: string; disposedAt: string | null }) => [r.commentId, r.disposedAt !== null])),
    { [old!]: true, [kept!]: false },
    'the attached records say which one was disposed',
  )
  await sealNow(app)
  const production = await call(app, clerkA, 'POST', `/v1/foia/requests/${requestId}/productions`)
  t.equal(production.statusCode, 201, production.body)
  t.match(production.json(), { records: 1 }, 'the production leaves the disposed record out')
  // ... and lists it as disposed, with its disposal's three entries proven and its certificate.
  const archive = (await app.inject({ method: 'GET', url: production.json().downloadUrl, headers: { authorization: `Bearer ${clerkA}` } })).rawPayload
  const members = tarMembers(archive)
  const file = (name: string) => archive.subarray(members.get(name)!.offset, members.get(name)!.offset + members.get(name)!.size).toString('utf8')
  const absent = file('not-produced.jsonl').trim().split('\n').map((l) => JSON.parse(l))
  t.match(absent, [{ commentId: old, status: 'disposed', disposalId: disposal.id, approvalReference: 'LRC cert 2026-117', listedEntryId: disposal.listedEntryId, disposalEntryId: String, approvalEntryId: String }])
  t.notMatch(file('records.jsonl'), old!, 'none of its content is produced')
  t.match(file('records.html'), /Records not produced[\s\S]*disposed .*LRC cert 2026-117/)
  const tarFile = join(mkdtempSync(join(tmpdir(), 'retention-production-')), 'p.tar')
  writeFileSync(tarFile, archive)
  const checked = await verifyProductionArchive(tarFile, { trustedKeys: [app.ledger.signingKey.verifierKey] })
  t.match(checked, { ok: true, records: 1, proven: { leafIndex: Number } }, JSON.stringify(checked.problems))
  const entryKinds = file('entries.jsonl').trim().split('\n').map((l) => JSON.parse(l).entry.kind)
  t.same(entryKinds.filter((k: string) => k.startsWith('disposal')).sort(), ['disposal', 'disposal.approved', 'disposal.listed'], 'its disposal entries, each with its inclusion proof')
  // A requester who drops the line (and fixes the manifest) is caught by the production's own entry.
  const forgedDir = mkdtempSync(join(tmpdir(), 'retention-forged-'))
  await extractTar(tarFile, forgedDir)
  writeFileSync(join(forgedDir, 'not-produced.jsonl'), '')
  const forged = await verifyProduction(forgedDir, { trustedKeys: [app.ledger.signingKey.verifierKey] })
  t.notOk(forged.ok, 'a dropped disposed-record line fails')
  t.ok(forged.problems.some((p) => p.item === 'not-produced.jsonl' || p.item.startsWith('entries.jsonl')), JSON.stringify(forged.problems))

  // The ledger still verifies, on the server and offline from an exported bundle.
  await sealNow(app)
  const verified = await call(app, token('auditor'), 'POST', '/v1/ledger/verify')
  t.match(verified.json(), { ok: true, divergence: null })
  t.equal(verified.json().disposedEntries, report.destroyedLedgerEntries)
  // The projections agree with the ledger: a disposed record is reported as disposed, not divergent.
  const reconciled = await call(app, token('auditor'), 'POST', '/v1/ledger/reconcile')
  t.match(reconciled.json(), { ok: true, disposedComments: 1, divergenceCount: 0 }, 'a lawfully disposed record is counted, not divergent')
  t.match((await call(app, clerkA, 'GET', `/v1/records/${old}`)).json(), { ledger: { verified: true, disposed: true, divergentFields: [] }, versions: [{ text: null, verified: true }] })
  const dir = mkdtempSync(join(tmpdir(), 'retention-bundle-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  await writeLedgerBundle(app.db.pool, join(dir, 'all'), { selection: { all: true } })
  const offline = await verifyLedgerBundle(join(dir, 'all'))
  t.match(offline, { ok: true, problems: [], entriesDisposed: report.destroyedLedgerEntries })
  const versionEntry = (await prisma.commentEvent.findFirst({ where: { commentId: old } }))!.ledgerEntryId
  await writeLedgerBundle(app.db.pool, join(dir, 'one'), { selection: { ids: [versionEntry] } })
  t.match(await verifyLedgerBundle(join(dir, 'one')), { ok: true, entriesVerified: 2, entriesDisposed: 1 }, 'a bundle of one disposed entry brings its disposal entry')

  // Format 2: the salt goes with the content; the commitment stays, and the disposal entry lists it.
  const destroyed = await prisma.ledgerEntry.findMany({ where: { subject: old } })
  t.ok(destroyed.length > 0 && destroyed.every((e) => e.format === 2 && e.payload === null && e.payloadSalt === null && /^[0-9a-f]{64}$/.test(e.payloadCommitment!) && e.payloadSha256 === null), 'payloads and salts destroyed, commitments kept')
  const disposalEntry = await prisma.ledgerEntry.findUnique({ where: { id: report.disposal.executionEntryId } })
  t.same(
    (JSON.parse((await prisma.ledgerEntry.findUnique({ where: { id: report.disposal.executionEntryId } }))!.payload!) as { ledgerEntries: unknown[] }).ledgerEntries,
    destroyed.map((e) => ({ id: e.id, payloadCommitment: e.payloadCommitment })).sort((a, b) => a.id.localeCompare(b.id)),
    'the disposal entry lists each destroyed entry with its commitment',
  )
  t.match(JSON.parse(disposalEntry!.payload!), { disposalId: disposal.id, disposed: [old], approvalReference: 'LRC cert 2026-117', ledgerEntries: Array })

  // Executing again changes nothing and reports the first outcome.
  const again = await call(app, clerkA, 'POST', `/v1/disposals/${disposal.id}/execute`)
  t.match(again.json(), { replayed: true, disposed: [old], destroyedLedgerEntries: report.destroyedLedgerEntries })
  t.equal(await prisma.ledgerEntry.count({ where: { kind: 'disposal' } }), 1, 'one disposal entry')

  // A payload nulled without a disposal is tampering (by the owner, with triggers off), on the server and offline.
  const keptEntry = (await prisma.commentEvent.findFirst({ where: { commentId: kept } }))!.ledgerEntryId
  const client = await ownerPool().connect()
  try {
    await client.query('BEGIN')
    await client.query('SET LOCAL session_replication_role = replica')
    await client.query('UPDATE ledger_entry SET payload = NULL, payload_salt = NULL WHERE id = $1', [keptEntry])
    await client.query('COMMIT')
  } finally {
    client.release()
  }
  const tampered = await call(app, token('auditor'), 'POST', '/v1/ledger/verify')
  t.match(tampered.json(), { ok: false, divergence: { kind: 'payload_missing', entryId: keptEntry } })
  await writeLedgerBundle(app.db.pool, join(dir, 'tampered'), { selection: { all: true } })
  const offlineTampered = await verifyLedgerBundle(join(dir, 'tampered'))
  t.equal(offlineTampered.ok, false)
  t.match(offlineTampered.problems, [{ problem: new RegExp(`entry ${keptEntry}: payload missing`) }])
  const reconciledTampered = (await call(app, token('auditor'), 'POST', '/v1/ledger/reconcile')).json()
  t.match(reconciledTampered, { ok: false, disposedComments: 1, divergences: [{ commentId: kept, field: 'disposedAt', projection: null, ledger: '1 disposed payload(s)' }] }, 'and the reconciliation names the comment')
})

t.test('a raw delivery carrying a retained comment keeps its body', async (t) => {
  const realNow = new Date()
  const clock = manualClock(new Date(realNow.getTime() - 800 * DAY))
  const { app, token } = await testApp(t, { clock })
  const clerkA = token('records_clerk', 'clerk-a')
  const clerkB = token('records_clerk', 'clerk-b')
  const [a, b] = await deliverComments(app, [
    { n: 11, text: `Old remark ${MARKER}`, at: new Date(clock().getTime() - DAY) },
    { n: 12, text: 'Remark under hold', at: new Date(clock().getTime() - DAY) },
  ])
  await adoptSchedules(app, clerkA, 365)
  await clock.set(new Date(realNow.getTime() - 100 * DAY))
  const hold = await call(app, clerkA, 'POST', '/v1/holds', { reason: 'Case 26-L-0042', recordIds: [b] })
  t.equal(hold.statusCode, 201)
  const disposal = (await call(app, clerkA, 'POST', '/v1/disposals', {})).json()
  t.same(disposal.records.map((r: { recordId: string }) => r.recordId), [a], 'the held record is not eligible')
  await call(app, clerkB, 'POST', `/v1/disposals/${disposal.id}/approval`, { approvalReference: 'LRC cert 7', approvedOn: '2025-01-01' })
  await clock.set(new Date())
  const report = (await call(app, clerkA, 'POST', `/v1/disposals/${disposal.id}/execute`)).json()
  t.match(report, { disposed: [a], destroyedDeliveries: 0, keptDeliveries: [{ retainedFor: [b] }] })
  t.same(await tablesContaining(app.db.pool, MARKER), ['"public"."webhook_delivery".body (bytes)'], 'only the shared raw delivery still holds the text')
  t.match((await call(app, clerkA, 'GET', `/v1/comments/${a}`)).json(), { text: null, disposalId: disposal.id })
})

t.test('the notice period is enforced by the service and by the database', async (t) => {
  const realNow = new Date()
  const clock = manualClock(new Date(realNow.getTime() - 800 * DAY))
  const { app, token } = await testApp(t, { clock })
  const clerkA = token('records_clerk', 'clerk-a')
  await deliverComments(app, [{ n: 21, text: 'An old remark', at: new Date(clock().getTime() - DAY) }])
  await adoptSchedules(app, clerkA, 365)
  await clock.set(new Date(realNow.getTime() - 5 * DAY))
  const disposal = (await call(app, clerkA, 'POST', '/v1/disposals', {})).json()
  const approved = (await call(app, token('records_clerk', 'clerk-b'), 'POST', `/v1/disposals/${disposal.id}/approval`, { approvalReference: 'LRC cert 8', approvedOn: '2025-01-01' })).json()
  t.equal(approved.noticeEndsAt, new Date(clock().getTime() + 30 * DAY).toISOString())
  await clock.set(new Date())
  const early = await call(app, clerkA, 'POST', `/v1/disposals/${disposal.id}/execute`)
  t.equal(early.statusCode, 409)
  t.match(early.json(), { type: '/problems/notice-period', detail: new RegExp(approved.noticeEndsAt) })
  // Moving the date in the disposal row does not move it for the database: it reads the ledger.
  await t.rejects(app.db.pool.query(`UPDATE disposal SET notice_ends_at = now() - interval '1 day' WHERE id = $1`, [disposal.id]), /recorded step cannot be changed/)
  const entry = await app.db.pool.query(`INSERT INTO ledger_entry (id, kind, subject, actor, payload, payload_salt, payload_commitment) VALUES (gen_random_uuid(), 'disposal', $1, 'x', '{}', sha256('salt'), encode(sha256('{}'), 'hex')) RETURNING id`, [disposal.id])
  await t.rejects(app.db.pool.query('SELECT dispose_records($1, $2)', [disposal.id, entry.rows[0].id]), /notice period/)
  t.equal((await app.db.prisma.comment.findFirst())!.disposedAt, null, 'nothing disposed')
})
