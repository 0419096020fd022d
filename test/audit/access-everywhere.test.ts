// Every route that returns record content to a person logs the read (DESIGN principle 7): the
// comments, decisions, queue, appeals, ledger entries and raw deliveries, each with exactly the ids
// of the comments whose content it returned, in order.
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import type { LightMyRequestResponse } from 'fastify'
import pg from 'pg'
import t, { type Test } from 'tap'
import { inTransaction } from '../../src/db/tx.js'
import { seedDefaultPolicy } from '../../src/policy/seed.js'
import { testApp, type TestApp } from '../helpers/app.js'
import { appendCommitted } from '../factories/ledger.js'
import { appealReferenceIn, commentOf, decideOn, postWebsite } from '../factories/records.js'

const MISSING = '00000000-0000-4000-8000-000000000000'

async function appWithThread(t: Test) {
  const ctx = await testApp(t)
  await postWebsite(ctx.app, [
    { id: 'p1', text: 'Why is the library closing early on Saturdays?', at: '2026-02-01T10:00:00Z', author: { id: 'u-1', name: 'Pat Reader', email: 'pat@example.org' } },
    { id: 'r1', text: 'Staffing, per the budget hearing.', at: '2026-02-01T10:05:00Z', parentId: 'p1' },
    { id: 'r2', text: 'It should stay open until six.', at: '2026-02-01T10:09:00Z', parentId: 'p1' },
  ])
  await postWebsite(ctx.app, [{ id: 'solo', text: 'Snow plows skipped River Road again', at: '2026-02-02T08:00:00Z' }])
  // A policy in force only now: the comments above wait unevaluated in the queue, and decisions can cite rules.
  await inTransaction(ctx.app.db.prisma, (tx) => seedDefaultPolicy(tx, () => new Date('2025-12-01T00:00:00Z')))
  const ids = {
    p1: (await commentOf(ctx.app, 'p1')).id,
    r1: (await commentOf(ctx.app, 'r1')).id,
    r2: (await commentOf(ctx.app, 'r2')).id,
    solo: (await commentOf(ctx.app, 'solo')).id,
  }
  return { ...ctx, ids }
}

/** The entries written since the last call: asserts there is exactly one and returns it. */
function logWatcher(t: Test, app: FastifyInstance) {
  let seen = 0n
  const since = async () => {
    const rows = await app.db.prisma.accessLogEntry.findMany({ where: { seq: { gt: seen } }, orderBy: { seq: 'asc' } })
    if (rows.length > 0) seen = rows[rows.length - 1]!.seq
    return rows
  }
  return {
    since,
    async one(res: LightMyRequestResponse, what: string) {
      const rows = await since()
      t.equal(rows.length, 1, `${what}: exactly one access log entry`)
      t.equal(rows[0]?.requestId, res.headers['x-request-id'], `${what}: the entry is this request's`)
      return rows[0]!
    },
    async none(what: string) {
      t.same(await since(), [], `${what}: not logged`)
    },
  }
}

const bearer = (ctx: TestApp, role: Parameters<TestApp['token']>[0], sub: string) => ({ authorization: `Bearer ${ctx.token(role, sub)}` })

t.test('comments: the list, one comment with its thread, and its decisions', async (t) => {
  const ctx = await appWithThread(t)
  const { app, ids } = ctx
  const log = logWatcher(t, app)
  const clerk = bearer(ctx, 'records_clerk', 'carol')
  const decided = await decideOn(app, ctx.token('tst_moderator', 'mod'), 'solo', { action: 'remove', ruleCodes: ['4.a'], note: 'reported twice' })
  await log.since()

  const page1 = await app.inject({ url: '/v1/comments?limit=3', headers: clerk })
  t.equal(page1.statusCode, 200)
  const items1 = page1.json().items.map((c: { id: string }) => c.id)
  t.same(items1, [ids.solo, ids.r2, ids.r1], 'newest first')
  t.match(await log.one(page1, 'list'), { actor: 'user:carol', roles: ['records_clerk'], action: 'comments.list', route: 'GET /v1/comments', query: { limit: 3 }, recordIds: items1, count: 3 })
  const page2 = await app.inject({ url: `/v1/comments?limit=3&cursor=${page1.json().nextCursor}`, headers: clerk })
  t.match(await log.one(page2, 'second page'), { action: 'comments.list', query: { cursor: page1.json().nextCursor }, recordIds: [ids.p1] })
  const none = await app.inject({ url: '/v1/comments?platform=x', headers: clerk })
  t.same(none.json().items, [])
  t.match(await log.one(none, 'empty list'), { action: 'comments.list', recordIds: [], count: 0 })

  const parent = await app.inject({ url: `/v1/comments/${ids.p1}`, headers: clerk })
  t.equal(parent.statusCode, 200)
  t.same(parent.json().thread.replies.map((r: { id: string }) => r.id), [ids.r1, ids.r2])
  t.match(await log.one(parent, 'read with replies'), { action: 'comments.read', route: 'GET /v1/comments/:id', query: { id: ids.p1 }, recordIds: [ids.p1, ids.r1, ids.r2], count: 3 })
  const reply = await app.inject({ url: `/v1/comments/${ids.r2}`, headers: bearer(ctx, 'tst_moderator', 'mod') })
  t.equal(reply.json().thread.parent.id, ids.p1)
  t.match(await log.one(reply, 'read with parent'), { actor: 'user:mod', action: 'comments.read', recordIds: [ids.r2, ids.p1] })
  const missing = await app.inject({ url: `/v1/comments/${MISSING}`, headers: clerk })
  t.equal(missing.statusCode, 404)
  t.match(await log.one(missing, 'read of a missing comment'), { action: 'comments.read', query: { id: MISSING }, recordIds: [], count: 0 })

  const decisions = await app.inject({ url: `/v1/comments/${ids.solo}/decisions`, headers: bearer(ctx, 'auditor', 'dana') })
  t.equal(decisions.statusCode, 200)
  t.same(decisions.json().items.map((d: { id: string }) => d.id), [decided.id])
  t.match(await log.one(decisions, 'decisions'), { actor: 'user:dana', action: 'comments.decisions', route: 'GET /v1/comments/:id/decisions', query: { id: ids.solo }, recordIds: [ids.solo] })
  const noDecisions = await app.inject({ url: `/v1/comments/${MISSING}/decisions`, headers: clerk })
  t.equal(noDecisions.statusCode, 404)
  t.match(await log.one(noDecisions, 'decisions of a missing comment'), { action: 'comments.decisions', recordIds: [] })

  // Refused requests read nothing.
  t.equal((await app.inject({ url: '/v1/comments', headers: bearer(ctx, 'auditor', 'dana') })).statusCode, 403)
  t.equal((await app.inject({ url: '/v1/comments?cursor=nope', headers: clerk })).statusCode, 400)
  t.equal((await app.inject({ url: '/v1/comments/not-a-uuid', headers: clerk })).statusCode, 400)
  t.equal((await app.inject({ url: `/v1/comments/${ids.p1}` })).statusCode, 401)
  await log.none('403, 400 and 401')
})

t.test('the moderation queue and the appeals list', async (t) => {
  const ctx = await appWithThread(t)
  const { app, ids } = ctx
  const log = logWatcher(t, app)
  // No policy is in force: every comment waits for a person, oldest first.
  const moderator = bearer(ctx, 'tst_moderator', 'mod')
  const queue = await app.inject({ url: '/v1/moderation/queue?limit=2', headers: moderator })
  t.equal(queue.statusCode, 200)
  const queued = queue.json().items.map((i: { comment: { id: string } }) => i.comment.id)
  t.equal(queued.length, 2)
  t.match(await log.one(queue, 'queue'), { actor: 'user:mod', roles: ['tst_moderator'], action: 'moderation.queue', route: 'GET /v1/moderation/queue', query: { limit: 2 }, recordIds: queued })
  const rest = await app.inject({ url: `/v1/moderation/queue?limit=10&cursor=${queue.json().nextCursor}`, headers: moderator })
  const restIds = rest.json().items.map((i: { comment: { id: string } }) => i.comment.id)
  t.same([...queued, ...restIds].sort(), Object.values(ids).sort())
  t.match(await log.one(rest, 'queue page 2'), { action: 'moderation.queue', recordIds: restIds })

  const hidden = await decideOn(app, ctx.token('tst_moderator', 'mod'), 'r1', { action: 'hide', ruleCodes: ['4.c'] })
  const removed = await decideOn(app, ctx.token('tst_moderator', 'mod'), 'solo', { action: 'remove', ruleCodes: ['4.a'] })
  for (const [noticeText, statement] of [[removed.noticeText, 'Plows matter.'], [hidden.noticeText, 'Just staffing facts.']] as const) {
    const filed = await app.inject({ method: 'POST', url: '/v1/appeals', payload: { reference: appealReferenceIn(noticeText), contact: 'sam@example.org', statement } })
    t.equal(filed.statusCode, 201)
  }
  await log.since()
  const admin = bearer(ctx, 'tst_admin', 'director')
  const appeals = await app.inject({ url: '/v1/appeals?status=open', headers: admin })
  t.equal(appeals.statusCode, 200)
  t.same(appeals.json().items.map((a: { commentId: string }) => a.commentId), [ids.solo, ids.r1], 'oldest first')
  t.match(await log.one(appeals, 'appeals'), { actor: 'user:director', action: 'appeals.list', route: 'GET /v1/appeals', query: { status: 'open' }, recordIds: [ids.solo, ids.r1] })
  const upheld = await app.inject({ url: '/v1/appeals?status=upheld', headers: admin })
  t.same(upheld.json().items, [])
  t.match(await log.one(upheld, 'no appeals'), { action: 'appeals.list', recordIds: [] })

  t.equal((await app.inject({ url: '/v1/appeals', headers: moderator })).statusCode, 403)
  t.equal((await app.inject({ url: '/v1/moderation/queue', headers: bearer(ctx, 'records_clerk', 'carol') })).statusCode, 403)
  t.equal((await app.inject({ url: '/v1/moderation/queue?cursor=xyz', headers: moderator })).statusCode, 400)
  await log.none('refused')
})

t.test('ledger entries: the comment the entry is about, or only the entry id', async (t) => {
  const ctx = await appWithThread(t)
  const { app, ids } = ctx
  const log = logWatcher(t, app)
  const auditor = bearer(ctx, 'auditor', 'dana')
  const version = await app.db.prisma.ledgerEntry.findFirstOrThrow({ where: { subject: ids.r1 } })
  const [notComment] = await appendCommitted(app, 1, { kind: 'policy.published', subject: 'policy-7' })
  const [strangerUuid] = await appendCommitted(app, 1, { kind: 'policy.published', subject: randomUUID() })
  await log.since()

  const read = await app.inject({ url: `/v1/ledger/entries/${version.id}`, headers: auditor })
  t.equal(read.statusCode, 200)
  t.equal(read.json().entry.subject, ids.r1)
  t.match(await log.one(read, 'comment entry'), { actor: 'user:dana', roles: ['auditor'], action: 'ledger.entry', route: 'GET /v1/ledger/entries/:id', query: { id: version.id }, recordIds: [ids.r1], count: 1 })
  for (const [entry, what] of [[notComment!, 'a subject that is not a uuid'], [strangerUuid!, 'a uuid that is no comment']] as const) {
    const res = await app.inject({ url: `/v1/ledger/entries/${entry.id}`, headers: bearer(ctx, 'records_clerk', 'carol') })
    t.equal(res.statusCode, 200, what)
    t.match(await log.one(res, what), { actor: 'user:carol', action: 'ledger.entry', query: { id: entry.id }, recordIds: [], count: 0 })
  }
  const missing = await app.inject({ url: `/v1/ledger/entries/${MISSING}`, headers: auditor })
  t.equal(missing.statusCode, 404)
  t.match(await log.one(missing, 'missing entry'), { action: 'ledger.entry', query: { id: MISSING }, recordIds: [] })
  const notCovered = await app.inject({ url: `/v1/ledger/entries/${version.id}?treeSize=1`, headers: auditor })
  t.equal(notCovered.statusCode, 404, 'no checkpoint of that size')
  t.match(await log.one(notCovered, 'no such checkpoint'), { action: 'ledger.entry', query: { id: version.id, treeSize: 1 }, recordIds: [] })

  t.equal((await app.inject({ url: `/v1/ledger/entries/${version.id}`, headers: bearer(ctx, 'tst_moderator', 'mod') })).statusCode, 403)
  t.equal((await app.inject({ url: '/v1/ledger/entries/nope', headers: auditor })).statusCode, 400)
  await log.none('refused')
})

t.test('a raw delivery: the comments whose events came from it', async (t) => {
  const ctx = await appWithThread(t)
  const { app, ids } = ctx
  await postWebsite(app, [{ id: 'p1', type: 'comment.edited', text: 'Why is the library closing early on Saturdays now?', at: '2026-02-03T10:00:00Z' }])
  const deliveries = await app.db.prisma.webhookDelivery.findMany({ orderBy: { receivedAt: 'asc' } })
  t.equal(deliveries.length, 3)
  const log = logWatcher(t, app)
  await log.since()
  const tst = bearer(ctx, 'tst_admin', 'director')

  const expected = [[ids.p1, ids.r1, ids.r2], [ids.solo], [ids.p1]]
  for (const [i, delivery] of deliveries.entries()) {
    const res = await app.inject({ url: `/v1/webhooks/deliveries/${delivery.id}`, headers: tst })
    t.equal(res.statusCode, 200)
    t.ok(res.json().bodyText.length > 0)
    t.match(await log.one(res, `delivery ${i}`), { actor: 'user:director', action: 'webhooks.delivery', route: 'GET /v1/webhooks/deliveries/:id', query: { id: delivery.id }, recordIds: expected[i] })
  }
  const missing = await app.inject({ url: `/v1/webhooks/deliveries/${MISSING}`, headers: tst })
  t.equal(missing.statusCode, 404)
  t.match(await log.one(missing, 'missing delivery'), { action: 'webhooks.delivery', recordIds: [] })

  // The list shows no bodies: not a read of content.
  t.equal((await app.inject({ url: '/v1/webhooks/deliveries', headers: tst })).statusCode, 200)
  t.equal((await app.inject({ url: `/v1/webhooks/deliveries/${deliveries[0]!.id}`, headers: bearer(ctx, 'records_clerk', 'carol') })).statusCode, 403)
  await log.none('the list, and a refused read')
})

t.test('no log entry, no content: when the entry cannot be written these reads fail', async (t) => {
  const ctx = await appWithThread(t)
  const { app, ids } = ctx
  const version = await app.db.prisma.ledgerEntry.findFirstOrThrow({ where: { subject: ids.p1 } })
  const delivery = await app.db.prisma.webhookDelivery.findFirstOrThrow()
  const client = new pg.Client({ connectionString: ctx.databaseUrl })
  await client.connect()
  t.teardown(() => client.end())
  await client.query(`CREATE FUNCTION refuse_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full (simulated)'; END $$`)
  await client.query('CREATE TRIGGER access_log_refuse BEFORE INSERT ON access_log FOR EACH ROW EXECUTE FUNCTION refuse_insert()')

  const clerk = bearer(ctx, 'records_clerk', 'carol')
  const admin = bearer(ctx, 'tst_admin', 'director')
  for (const [url, headers] of [
    ['/v1/comments', clerk],
    [`/v1/comments/${ids.p1}`, clerk],
    [`/v1/comments/${ids.p1}/decisions`, clerk],
    ['/v1/moderation/queue', admin],
    ['/v1/appeals', admin],
    [`/v1/ledger/entries/${version.id}`, clerk],
    [`/v1/webhooks/deliveries/${delivery.id}`, admin],
  ] as const) {
    const res = await app.inject({ url, headers })
    t.equal(res.statusCode, 500, url)
    t.notMatch(res.body, /library|staffing|snow|Pat Reader|pat@example/i, `${url}: no record content in the answer`)
  }
  t.equal(await app.db.prisma.accessLogEntry.count(), 0)
  // The pool is still usable: the failed transactions were rolled back and their clients released.
  await client.query('DROP TRIGGER access_log_refuse ON access_log')
  const after = await app.inject({ url: `/v1/ledger/entries/${version.id}`, headers: clerk })
  t.equal(after.statusCode, 200)
})
