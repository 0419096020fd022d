import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import { PROJECT_ROOT } from '../../src/paths.js'
import { inTransaction } from '../../src/db/tx.js'
import { cronItems, RECONCILE_TASK, reconcileTask, type JobDeps } from '../../src/moderation/jobs.js'
import { seedDefaultPolicy } from '../../src/policy/seed.js'
import { reconcileAll } from '../../src/records/reconcile.js'
import { TEST_JWT_SECRET, testApp, testConfig } from '../helpers/app.js'
import { commentOf, decideOn, postWebsite } from '../factories/records.js'
import { deliver, FIXTURE_SOURCES, fixture } from '../factories/webhooks.js'

// Issue 23, item 5: the comment projections can be changed without touching the ledger (the
// runtime role may UPDATE comment; an owner can switch comment_event's triggers off). The
// reconciliation recomputes every comment from the ledger and names each divergence.

const PAT = { id: 'u-1', name: 'Pat Q. Public', email: 'pat@example.org' }
const SECRET_TEXT = 'The Court Street bridge repaving is taking forever'

/** Every platform's fixtures (unevaluated, in the queue), website comments with an edit, a deletion and a thread, and decisions. */
async function recordsApp(t: Test) {
  const ctx = await testApp(t)
  const { app, token } = ctx
  // The fixtures arrive before any policy is in force: they wait unevaluated in the review queue.
  for (const [name, source] of Object.entries(FIXTURE_SOURCES)) await deliver(app, source, fixture(name))
  await inTransaction(app.db.prisma, (tx) => seedDefaultPolicy(tx, () => new Date('2025-12-01T00:00:00Z')))
  await postWebsite(app, [
    { id: 'w1', text: SECRET_TEXT, at: '2026-02-01T10:00:00Z', author: PAT },
    { id: 'w1', type: 'comment.edited', text: 'The repaving is finally done, thanks', at: '2026-02-01T10:30:00Z', author: PAT },
    { id: 'w2', text: 'When will the library reopen after the flood?', at: '2026-02-02T10:00:00Z', author: { id: 'u-2', name: 'Jordan Lee' } },
    { id: 'w3', text: 'Parking downtown is impossible on weekends', at: '2026-02-04T10:00:00Z', author: { id: 'u-3', name: 'Sam Smith' } },
    { id: 'w4', text: 'Replying to the library question', at: '2026-02-05T10:00:00Z', author: PAT, parentId: 'w2' },
    { id: 'w4', type: 'comment.deleted', at: '2026-02-05T11:00:00Z', author: PAT },
  ])
  await decideOn(app, token('tst_moderator', 'alice'), 'w3', { action: 'remove', ruleCodes: ['4.a'] })
  await decideOn(app, token('tst_moderator', 'bob'), 'w2', { action: 'approve' })
  const auditor = { authorization: `Bearer ${token('auditor', 'dana')}` }
  const clerk = { authorization: `Bearer ${token('records_clerk', 'carol')}` }
  const reconcile = async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/ledger/reconcile', headers: auditor })
    t.equal(res.statusCode, 200, 'POST /v1/ledger/reconcile answers 200')
    return res.json()
  }
  return { ...ctx, auditor, clerk, reconcile }
}

t.test('a clean database: every comment checked, no divergence', async (t) => {
  const { app, reconcile, clerk } = await recordsApp(t)
  const comments = (await app.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM comment')).rows[0]!.n
  const report = await reconcile()
  t.match(report, { ok: true, trigger: 'request', actor: 'user:dana', commentsChecked: comments, divergenceCount: 0, divergentComments: 0, divergences: [] })
  t.ok(report.eventsChecked > comments && report.entriesChecked > report.eventsChecked, 'events and entries (decisions too) were read')
  // Keyset batches smaller than the table give the same answer.
  t.match(await reconcileAll(app.db.pool, app.clock, { batchSize: 2 }), { ok: true, commentsChecked: comments, divergenceCount: 0 })
  const { id } = await commentOf(app, 'w1')
  const record = (await app.inject({ url: `/v1/records/${id}`, headers: clerk })).json()
  t.match(record, { ledger: { verified: true, disposed: false, divergentFields: [] }, versions: [{ verified: true }, { verified: true }] })
  t.notOk('ledgerText' in record.versions[0], 'the ledger text is given only where it differs')
})

t.test('current_text changed by the runtime role: reported, and the record shows it unverified', async (t) => {
  const { app, reconcile, clerk, token } = await recordsApp(t)
  const { id } = await commentOf(app, 'w1')
  // The service's own connection (the runtime role) may UPDATE comment: it is a projection.
  const changed = await app.db.pool.query(`UPDATE comment SET current_text = 'The city did a great job' WHERE id = $1`, [id])
  t.equal(changed.rowCount, 1, 'the runtime role could change it')

  const report = await reconcile()
  t.match(report, { ok: false, divergentComments: 1, divergenceCount: 1 })
  t.same(report.divergences, [{ commentId: id, field: 'currentText', eventId: null, ledgerEntryId: null }], 'named by id and field; the texts are not in the report')

  const record = await app.inject({ url: `/v1/records/${id}`, headers: clerk })
  t.equal(record.statusCode, 200)
  t.match(record.json(), { text: 'The city did a great job', ledger: { verified: false, divergentFields: ['currentText'], text: 'The repaving is finally done, thanks' } })
  t.ok(record.json().versions.every((v: { verified: boolean }) => v.verified), 'each version still equals its ledger entry')

  // The moderators' view of the comment says so too.
  const view = await app.inject({ url: `/v1/comments/${id}`, headers: { authorization: `Bearer ${token('tst_moderator', 'alice')}` } })
  t.match(view.json(), { text: 'The city did a great job', ledger: { verified: false, divergentFields: ['currentText'], text: 'The repaving is finally done, thanks' } })
  // And the review queue, item by item: the comment of the first item altered too.
  const queue = async () =>
    (await app.inject({ url: '/v1/moderation/queue', headers: { authorization: `Bearer ${token('tst_moderator', 'alice')}` } })).json().items as Array<{
      comment: { id: string }
      ledger: { verified: boolean; divergentFields: string[] }
    }>
  const before = await queue()
  t.ok(before.length > 1, 'the queue has items')
  t.ok(before.every((item) => item.ledger.verified), 'each agrees with the ledger')
  const queued = before[0]!.comment.id
  await app.db.pool.query(`UPDATE comment SET current_text = 'Nothing to review here' WHERE id = $1`, [queued])
  for (const item of await queue()) t.equal(item.ledger.verified, item.comment.id !== queued, `queue item of ${item.comment.id === queued ? 'the altered' : 'an intact'} comment`)
})

t.test('status and moderation status changed by the runtime role are reported with their values', async (t) => {
  const { app, reconcile } = await recordsApp(t)
  const w2 = await commentOf(app, 'w2')
  const w3 = await commentOf(app, 'w3')
  await app.db.pool.query(`UPDATE comment SET moderation_status = 'allowed' WHERE id = $1`, [w3.id])
  await app.db.pool.query(`UPDATE comment SET status = 'hidden_on_platform', version_count = 7 WHERE id = $1`, [w2.id])
  const report = await reconcile()
  t.equal(report.divergenceCount, 3)
  t.match(report.divergences, [
    ...[
      { commentId: w2.id, field: 'versionCount', projection: '7', ledger: '1' },
      { commentId: w2.id, field: 'status', projection: 'hidden_on_platform', ledger: 'active' },
      { commentId: w3.id, field: 'moderationStatus', projection: 'allowed', ledger: 'removed' },
    ].sort((a, b) => (a.commentId < b.commentId ? -1 : a.commentId > b.commentId ? 1 : 0)),
  ])
})

t.test("comment_event.text changed by the owner with the triggers off: reported, and the version shows unverified", async (t) => {
  const { app, reconcile, clerk, ownerPool } = await recordsApp(t)
  const { id, versionId } = await commentOf(app, 'w1')
  const refused = await app.db.pool.query(`UPDATE comment_event SET text = 'rewritten' WHERE id = $1`, [versionId]).catch((e: Error) => e)
  t.match(refused, { message: /permission denied/ }, 'the runtime role cannot UPDATE comment_event')

  const owner = await ownerPool().connect()
  try {
    await owner.query('BEGIN')
    await owner.query('SET LOCAL session_replication_role = replica')
    await owner.query(`UPDATE comment_event SET text = 'The city did a great job' WHERE id = $1`, [versionId])
    await owner.query(`UPDATE comment SET current_text = 'The city did a great job' WHERE id = $1`, [id])
    await owner.query('COMMIT')
  } finally {
    owner.release()
  }

  const report = await reconcile()
  t.match(report, { ok: false, divergentComments: 1 })
  t.same(
    report.divergences.map((d: { field: string; eventId: string | null }) => [d.field, d.eventId]),
    [['event.text', versionId], ['currentText', null]],
    'the event and the current text, both named',
  )
  const record = (await app.inject({ url: `/v1/records/${id}`, headers: clerk })).json()
  const version = record.versions.find((v: { id: string }) => v.id === versionId)
  t.match(version, { text: 'The city did a great job', verified: false, ledgerText: 'The repaving is finally done, thanks' })
  t.match(record.ledger, { verified: false })
})

t.test('the latest result is on the status route; the scheduled task runs and logs ids only, at error level', async (t) => {
  const { app, config, auditor } = await recordsApp(t)
  const empty = await app.inject({ url: '/v1/ledger/status', headers: auditor })
  t.match(empty.json(), { reconciliation: null, reconcileSchedule: '30 3 * * *' })

  const lines: Array<{ level: string; obj: Record<string, unknown>; msg: string }> = []
  const log = {
    info: (obj: Record<string, unknown>, msg: string) => lines.push({ level: 'info', obj, msg }),
    error: (obj: Record<string, unknown>, msg: string) => lines.push({ level: 'error', obj, msg }),
  }
  const deps = { prisma: app.db.prisma, pool: app.db.pool, config, clock: app.clock, log } as unknown as JobDeps
  await reconcileTask(deps)
  t.match(lines, [{ level: 'info', obj: { divergenceCount: 0 } }])
  t.match((await app.inject({ url: '/v1/ledger/status', headers: auditor })).json(), { reconciliation: { ok: true, trigger: 'schedule', actor: 'system', divergenceCount: 0 } })

  const { id } = await commentOf(app, 'w1')
  await app.db.pool.query(`UPDATE comment SET current_text = $2 WHERE id = $1`, [id, 'Something else entirely'])
  await reconcileTask(deps)
  t.match(lines[1], { level: 'error', obj: { divergenceCount: 1, divergences: [{ commentId: id, field: 'currentText' }] } })
  t.notMatch(JSON.stringify(lines), /Something else|repaving|Pat Q/, 'no record content in the log')
  const status = (await app.inject({ url: '/v1/ledger/status', headers: auditor })).json()
  t.match(status.reconciliation, { ok: false, trigger: 'schedule', divergenceCount: 1, divergences: [{ commentId: id, field: 'currentText' }] })

  // The task as the worker runs it: a job of the task's name, taken by the job queue.
  await app.db.pool.query(`SELECT graphile_worker.add_job($1)`, [RECONCILE_TASK])
  await app.jobs.runDue()
  const byWorker = (await app.inject({ url: '/v1/ledger/status', headers: auditor })).json().reconciliation
  t.not(byWorker.id, status.reconciliation.id, 'the job queue ran the reconciliation')
  t.match(byWorker, { trigger: 'schedule', ok: false, divergenceCount: 1 })

  const forbidden = await app.inject({ url: '/v1/ledger/status', headers: { authorization: `Bearer ${app.jwt.sign({ sub: 'm', roles: ['tst_moderator'] })}` } })
  t.equal(forbidden.statusCode, 403, 'auditors and records clerks only')
})

t.test('the schedule: daily by default, off when RECONCILE_SCHEDULE=off', async (t) => {
  const env = { DATABASE_URL: 'postgresql://townsquare@127.0.0.1:5432/townsquare' }
  const [item, ...rest] = cronItems(testConfig(env))
  t.equal(rest.length, 0)
  t.match(item, { task: RECONCILE_TASK, identifier: RECONCILE_TASK })
  const at = (hour: number, min: number, date = 7) => item!.match({ min, hour, date, month: 12, dow: (date + 6) % 7 })
  t.ok(at(3, 30) && at(3, 30, 8), 'daily at 03:30 UTC')
  t.notOk(at(3, 31) || at(4, 30), 'and at no other time')
  t.same(cronItems(testConfig({ ...env, RECONCILE_SCHEDULE: 'off' })), [])
  t.throws(() => testConfig({ ...env, RECONCILE_SCHEDULE: 'every day' }), /RECONCILE_SCHEDULE/)
})

t.test('npm run ledger:reconcile: OK, or each divergence by id and field and exit 1', async (t) => {
  const { app, runtimeUrl } = await recordsApp(t)
  const run = (args: string[] = []) =>
    promisify(execFile)(join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/ledger-reconcile.ts', ...args], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, NODE_ENV: 'test', DATABASE_URL: runtimeUrl, JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'silent' },
    }).then(
      (r) => ({ code: 0, stdout: r.stdout }),
      (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
    )
  const clean = await run()
  t.match(clean, { code: 0, stdout: /^OK: 12 comments \(0 disposed\), 18 events, 20 ledger entries checked .*; 0 divergence\(s\)/ })

  const { id } = await commentOf(app, 'w3')
  await app.db.pool.query(`UPDATE comment SET current_text = 'Parking is fine', moderation_status = 'approved' WHERE id = $1`, [id])
  const divergent = await run(['--batch-size', '5'])
  t.equal(divergent.code, 1)
  t.match(divergent.stdout, new RegExp(`DIVERGES ${id} currentText\n`))
  t.match(divergent.stdout, new RegExp(`DIVERGES ${id} moderationStatus entry \\S+ \\(tables: approved; ledger: removed\\)`))
  t.notMatch(divergent.stdout, /Parking/, 'no content printed')
  t.match(await app.db.pool.query(`SELECT trigger, ok FROM ledger_reconciliation ORDER BY seq`), { rows: [{ trigger: 'command', ok: true }, { trigger: 'command', ok: false }] })
})
