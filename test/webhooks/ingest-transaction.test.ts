import { EventKeySecret } from '../../src/webhooks/event-keys.js'
import { createHash } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { inTransaction } from '../../src/db/tx.js'
import { inPgTransaction, type SqlClient } from '../../src/db/sql.js'
import { seedDefaultPolicy } from '../../src/policy/seed.js'
import { ingestDelivery, refreshComments } from '../../src/webhooks/ingest.js'
import { platformAdapters } from '../../src/webhooks/platforms/index.js'
import { testApp, testConfig } from '../helpers/app.js'
import { deliver, metaChanges } from '../factories/webhooks.js'

// Ingestion runs on a pg transaction with one statement for the delivery, its comments and events
// (src/webhooks/ingest.ts). These tests cover what that change could break.

async function counts(app: FastifyInstance) {
  const [row] = await app.db.prisma.$queryRaw<Array<Record<string, number>>>`
    SELECT (SELECT count(*)::int FROM webhook_delivery) AS deliveries, (SELECT count(*)::int FROM comment) AS comments,
           (SELECT count(*)::int FROM comment_event) AS events, (SELECT count(*)::int FROM ledger_entry) AS entries,
           (SELECT count(*)::int FROM review_item) AS items`
  return row!
}

async function commentRows(app: FastifyInstance) {
  const rows = await app.db.prisma.comment.findMany({ orderBy: { externalId: 'asc' }, omit: { updatedAt: true } })
  return rows.map((r) => ({ ...r, seq: String(r.seq) }))
}

t.test('a failure at any statement after the first leaves nothing stored, and the delivery is stored when sent again', async (t) => {
  const { app } = await testApp(t)
  const body = metaChanges([{ id: 'c-1' }, { id: 'c-2', parent: 'c-1' }, { id: 'c-2', verb: 'edited', message: 'changed' }])
  const normalized = platformAdapters.meta.normalize(body)
  const delivery = { source: 'meta' as const, body, headers: {}, signatureVariant: 'standard' }
  const deps = { clock: app.clock, resolver: app.policy.resolver, maxAttempts: 3, eventKeys: new EventKeySecret() }
  // Fail at the delivery statement (which also appends the ledger entries), the projection
  // refresh, and the review items (the last statement).
  for (const failAt of ['WITH published AS', 'UPDATE comment c SET', 'INSERT INTO review_item']) {
    const failing = (sql: SqlClient): SqlClient => ({
      query(statement, values) {
        const text = typeof statement === 'string' ? statement : statement.text
        if (text.trimStart().startsWith(failAt)) throw new Error(`injected failure at ${failAt}`)
        return sql.query(statement, values)
      },
    })
    await t.rejects(inPgTransaction(app.db.pool, (sql) => ingestDelivery(failing(sql), delivery, normalized, deps)), /injected failure/)
    t.same(await counts(app), { deliveries: 0, comments: 0, events: 0, entries: 0, items: 0 }, `failure at ${failAt}: nothing stored`)
  }
  t.equal(app.db.pool.idleCount, app.db.pool.totalCount, 'every connection went back to the pool outside a transaction')

  const res = await deliver(app, 'meta', body)
  t.equal(res.statusCode, 200)
  t.match(res.json(), { duplicateDelivery: false, accepted: 3 })
  t.same(await counts(app), { deliveries: 1, comments: 2, events: 3, entries: 3, items: 2 })
})

t.test('concurrent deliveries of the same change store one version and one ledger entry', async (t) => {
  const { app } = await testApp(t)
  const at = new Date().toISOString()
  // Different bytes (event ids), so each delivery is archived; the change itself is the same.
  const bodies = Array.from({ length: 8 }, (_, i) =>
    JSON.stringify({
      events: [
        { id: `evt-${i}`, type: 'comment.created', commentId: 'same-comment', pageUrl: 'https://www.citykankakee-il.gov/news/road-work', author: { id: 'u-1', name: 'Pat' }, text: 'Will Court St be closed?', occurredAt: at },
      ],
    }),
  )
  const receipts = await Promise.all(bodies.map((b) => deliver(app, 'website', b)))
  t.same(
    receipts.map((r) => r.statusCode),
    bodies.map(() => 200),
  )
  t.equal(
    receipts.reduce((sum, r) => sum + r.json().accepted, 0),
    1,
    'one delivery stored the version',
  )
  t.equal(
    receipts.reduce((sum, r) => sum + r.json().duplicates, 0),
    7,
    'the others found it stored',
  )
  t.same(await counts(app), { deliveries: 8, comments: 1, events: 1, entries: 1, items: 1 })
  const comment = await app.db.prisma.comment.findFirstOrThrow()
  t.match(comment, { versionCount: 1, currentText: 'Will Court St be closed?', status: 'active' })
})

t.test('the projection written at insert is what refreshComments computes, threads included', async (t) => {
  const { app } = await testApp(t)
  const deliveries: Array<[string, Buffer]> = [
    ['a new comment', metaChanges([{ id: 'a1' }])],
    ['a reply before its parent', metaChanges([{ id: 'r1', parent: 'p1' }])],
    ['the parent, linking the waiting reply', metaChanges([{ id: 'p1' }])],
    ['a reply to a stored comment', metaChanges([{ id: 'r2', parent: 'a1' }])],
    ['a parent and its reply together', metaChanges([{ id: 'r3', parent: 'p2' }, { id: 'p2' }])],
    ['a comment and its edit together', metaChanges([{ id: 'b1' }, { id: 'b1', verb: 'edited', message: 'edited text' }], 1767225800)],
    ['a new comment known only by its hide', metaChanges([{ id: 'h1', verb: 'hide' }])],
    ['a new comment known only by its removal', metaChanges([{ id: 'x1', verb: 'remove' }])],
    ['an edit of a stored comment', metaChanges([{ id: 'a1', verb: 'edited', message: 'a1 edited' }], 1767225900)],
    ['a stored comment and a new one', metaChanges([{ id: 'a1', verb: 'hide' }, { id: 'n1' }], 1767226000)],
  ]
  for (const [what, body] of deliveries) t.equal((await deliver(app, 'meta', body)).statusCode, 200, what)

  const stored = await commentRows(app)
  const byExternal = new Map(stored.map((c) => [c.externalId, c]))
  const parentOf = (id: string) => stored.find((c) => c.id === byExternal.get(id)!.parentId)?.externalId ?? null
  t.same(['r1', 'r2', 'r3'].map(parentOf), ['p1', 'a1', 'p2'], 'every reply is linked to its parent')
  t.match(byExternal.get('h1'), { status: 'hidden_on_platform', versionCount: 0, currentText: null })
  t.match(byExternal.get('x1'), { status: 'deleted_by_author', versionCount: 0, currentText: null })
  t.match(byExternal.get('b1'), { versionCount: 2, currentText: 'edited text' })
  t.match(byExternal.get('a1'), { versionCount: 2, currentText: 'a1 edited', status: 'hidden_on_platform' })

  await inPgTransaction(app.db.pool, (sql) => refreshComments(sql, stored.map((c) => c.id)))
  t.same(await commentRows(app), stored, 'recomputing every comment from its events changes nothing')
})

t.test('a policy version published by another instance is used by the next delivery', async (t) => {
  const { app, databaseUrl, runtimeUrl } = await testApp(t)
  const other = await buildApp(testConfig({ DATABASE_URL: runtimeUrl, MIGRATION_DATABASE_URL: databaseUrl, LEDGER_SEALER: 'off' }))
  t.teardown(() => other.close())
  const website = (id: string, text: string) =>
    JSON.stringify({ events: [{ id: `evt-${id}`, type: 'comment.created', commentId: id, pageUrl: 'https://www.citykankakee-il.gov/', author: { id: `u-${id}`, name: 'Pat' }, text, occurredAt: new Date().toISOString() }] })

  // This instance has read the (empty) list of published versions.
  t.equal((await deliver(app, 'website', website('c-1', 'My SSN is 123-45-6789'))).statusCode, 200)
  await inTransaction(other.db.prisma, (tx) => seedDefaultPolicy(tx, other.clock))
  t.equal((await deliver(app, 'website', website('c-2', 'My SSN is 123-45-6789'))).statusCode, 200)

  const status = async (id: string) => (await app.db.prisma.comment.findFirstOrThrow({ where: { externalId: id } })).moderationStatus
  t.equal(await status('c-1'), 'unevaluated', 'before the publication: no policy in force')
  t.equal(await status('c-2'), 'removed', 'after it: evaluated against the version the other instance published')
})

t.test('a policy version published between the evaluation and the delivery statement: nothing stale is written, the delivery is evaluated again', async (t) => {
  // Ingestion evaluates before it stores; the delivery statement checks, in its own snapshot, the
  // count of published versions the evaluation used, and writes nothing when it changed.
  const { app } = await testApp(t)
  const body = Buffer.from(
    JSON.stringify({ events: [{ id: 'evt-race', type: 'comment.created', commentId: 'race', pageUrl: 'https://www.citykankakee-il.gov/', author: { id: 'u-race', name: 'Pat' }, text: 'My SSN is 123-45-6789', occurredAt: new Date(Date.now() + 60_000).toISOString() }] }),
  )
  const normalized = platformAdapters.website.normalize(body)
  const delivery = { source: 'website' as const, body, headers: {}, signatureVariant: 'standard' }
  let statements = 0
  const publishingFirst = (sql: SqlClient): SqlClient => ({
    async query(statement, values) {
      const text = typeof statement === 'string' ? statement : statement.text
      if (text.trimStart().startsWith('WITH published') && statements++ === 0) {
        // Another connection publishes (and commits) just before the first delivery statement runs.
        await inTransaction(app.db.prisma, (tx) => seedDefaultPolicy(tx, app.clock))
      }
      return sql.query(statement, values)
    },
  })
  const deps = { clock: app.clock, resolver: app.policy.resolver, maxAttempts: 3, eventKeys: new EventKeySecret() }
  const result = await inPgTransaction(app.db.pool, (sql) => ingestDelivery(publishingFirst(sql), delivery, normalized, deps))
  t.match(result, { duplicateDelivery: false, accepted: 1 })
  t.equal(statements, 2, 'the delivery statement refused the stale evaluation once, then stored the delivery')
  const comment = await app.db.prisma.comment.findFirstOrThrow({ where: { externalId: 'race' } })
  t.equal(comment.moderationStatus, 'removed', 'evaluated against the version published meanwhile')
  t.match(await counts(app), { deliveries: 1, comments: 1, events: 1, items: 0 }, 'one of each; no unevaluated review item')
  t.equal(await app.db.prisma.ledgerEntry.count({ where: { kind: 'comment.version' } }), 1, 'the version appended once')
  t.equal(await app.db.prisma.moderationDecision.count(), 1, 'one automatic decision')
  t.equal(await app.db.prisma.commentEvaluation.count(), 1)
})

t.test("an automatic removal's decision, platform actions and jobs commit or roll back with the delivery", async (t) => {
  const { app } = await testApp(t)
  await inTransaction(app.db.prisma, (tx) => seedDefaultPolicy(tx, app.clock))
  const website = (id: string) =>
    Buffer.from(
      JSON.stringify({ events: [{ id: `evt-${id}`, type: 'comment.created', commentId: id, pageUrl: 'https://www.citykankakee-il.gov/', author: { id: `u-${id}`, name: 'Pat' }, text: 'My SSN is 123-45-6789', occurredAt: new Date().toISOString() }] }),
    )
  const moderation = async () => {
    const [row] = await app.db.prisma.$queryRaw<Array<Record<string, number>>>`
      SELECT (SELECT count(*)::int FROM moderation_decision) AS decisions, (SELECT count(*)::int FROM platform_action) AS actions,
             (SELECT count(*)::int FROM graphile_worker._private_jobs) AS jobs, (SELECT count(*)::int FROM comment) AS comments`
    return row!
  }

  // Fail at the last statement of the decision (closing open review items), after its jobs were added.
  const body = website('c-fail')
  const failing = (sql: SqlClient): SqlClient => ({
    query(statement, values) {
      const text = typeof statement === 'string' ? statement : statement.text
      if (text.startsWith('UPDATE review_item')) throw new Error('injected failure')
      return sql.query(statement, values)
    },
  })
  const deps = { clock: app.clock, resolver: app.policy.resolver, maxAttempts: 3, eventKeys: new EventKeySecret() }
  await t.rejects(inPgTransaction(app.db.pool, (sql) => ingestDelivery(failing(sql), { source: 'website', body, headers: {}, signatureVariant: 'standard' }, platformAdapters.website.normalize(body), deps)), /injected failure/)
  t.same(await moderation(), { decisions: 0, actions: 0, jobs: 0, comments: 0 }, 'nothing of the failed delivery, jobs included')

  t.equal((await deliver(app, 'website', website('c-ok'))).statusCode, 200)
  const comment = await app.db.prisma.comment.findFirstOrThrow({ where: { externalId: 'c-ok' } })
  t.equal(comment.moderationStatus, 'removed')
  const actions = await app.db.prisma.platformAction.findMany({ where: { commentId: comment.id } })
  t.ok(actions.length > 0, 'the removal has platform actions')
  const [jobs] = await app.db.prisma.$queryRaw<Array<{ n: number }>>`
    SELECT count(*)::int AS n FROM graphile_worker._private_jobs WHERE payload->>'actionId' = ANY(${actions.map((a) => a.id)}::text[])`
  t.equal(jobs!.n, actions.length, 'one job per platform action, committed with the delivery')
})

t.test("the database refuses a delivery whose digest is not its body's, whoever inserts it", async (t) => {
  const { app } = await testApp(t)
  const body = metaChanges([{ id: 'digest-1' }])
  const other = metaChanges([{ id: 'digest-2' }])
  const insert = (digestOf: Buffer) =>
    app.db.pool.query(
      `INSERT INTO webhook_delivery (id, source, received_at, body, body_sha256, headers, signature_variant, outcome, event_count, skipped)
       VALUES (gen_random_uuid(), 'meta', now(), $1, $2, '{}', 'standard', 'accepted', 1, '[]')`,
      [body, createHash('sha256').update(digestOf).digest('hex')],
    )
  await t.rejects(insert(other), /webhook_delivery_body_sha256_is_body_digest/, "another body's digest")
  t.equal((await counts(app)).deliveries, 0, 'nothing stored')
  await insert(body)
  t.equal((await counts(app)).deliveries, 1, 'its own digest is accepted')
  const [check] = await app.db.prisma.$queryRaw<Array<{ convalidated: boolean }>>`
    SELECT convalidated FROM pg_constraint WHERE conname = 'webhook_delivery_body_sha256_is_body_digest'`
  t.equal(check?.convalidated, true, 'the deliveries archived before the check were checked too')
})
