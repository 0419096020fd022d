import { platformEnv } from '../helpers/platform-env.js'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { inTransaction } from '../../src/db/tx.js'
import { seedDefaultPolicy } from '../../src/policy/seed.js'
import { testApp } from '../helpers/app.js'
import { startFakePlatform, type FakePlatform } from '../helpers/fake-platform.js'
import { startSmtpSink } from '../helpers/smtp-sink.js'
import { appealReferenceIn } from '../factories/records.js'
import { deliver, fixture } from '../factories/webhooks.js'

async function moderationApp(t: Test, clock?: () => Date) {
  const fake = await startFakePlatform()
  const smtp = await startSmtpSink({ tls: 'starttls' })
  t.teardown(async () => {
    await fake.close()
    await smtp.close()
  })
  const env = {
    ...platformEnv(fake.baseUrl, smtp.url()),
    JOB_MAX_ATTEMPTS: '3',
  }
  // The fixtures' comments were posted on 1 January 2026: deciding the next day keeps Meta's 7-day
  // window for a private reply open (tests of the window give their own clock).
  const ctx = await testApp(t, { env, clock: clock ?? (() => new Date('2026-01-02T12:00:00Z')) })
  // The fixtures were posted in January 2026: the policy must already have been in force then.
  await inTransaction(ctx.app.db.prisma, (tx) => seedDefaultPolicy(tx, () => new Date('2025-12-01T00:00:00Z')))
  return { ...ctx, fake, smtp }
}

/** The comment and the id of its current version, as a moderator sees them. */
async function current(app: FastifyInstance, token: string, externalId: string) {
  const comment = await app.db.prisma.comment.findFirstOrThrow({ where: { externalId } })
  const detail = (await app.inject({ url: `/v1/comments/${comment.id}`, headers: { authorization: `Bearer ${token}` } })).json()
  return { id: comment.id as string, versionId: detail.versions[detail.versions.length - 1].id as string }
}

function decide(app: FastifyInstance, token: string, commentId: string, body: object, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url: `/v1/comments/${commentId}/decisions`, headers: { authorization: `Bearer ${token}`, ...headers }, payload: body })
}

/** Makes every pending job due now (skipping the retry backoff), then runs them. */
async function runJobs(app: FastifyInstance) {
  await app.db.pool.query('UPDATE graphile_worker._private_jobs SET run_at = now() WHERE locked_at IS NULL')
  await app.jobs.runDue()
}

const requestsOf = (fake: FakePlatform) => fake.requests.map((r) => `${r.method} ${r.path}${r.query ? '?' + r.query : ''}`)

t.test('remove with notice, on each platform: the exact requests the platforms receive', async (t) => {
  const { app, token, fake, smtp } = await moderationApp(t)
  const moderator = token('tst_moderator', 'mgarcia')
  for (const name of ['meta-facebook-comment-add.json', 'meta-instagram-comment.json']) await deliver(app, 'meta', fixture(name))
  await deliver(app, 'x', fixture('x-reply.json'))
  await deliver(app, 'linkedin', fixture('linkedin-comment.json'))
  await deliver(app, 'website', fixture('website-comments.json'))

  const cases: Array<[string, string, string, string[]]> = [
    ['facebook', '122131676912594941_1213590066982748', 'remove', ['DELETE /122131676912594941_1213590066982748', 'POST /448242228374517/messages']],
    ['instagram', '17900000000000000', 'remove', ['DELETE /17900000000000000', 'POST /17841400000000000/messages']],
    ['x', '1901234567890123456', 'hide', ['PUT /2/tweets/1901234567890123456/hidden', 'POST /2/tweets']],
    ['website', 'c-1001', 'remove', ['DELETE /comments/c-1001', 'POST /comments/c-1001/notices']],
  ]
  for (const [platform, externalId, action, expected] of cases) {
    fake.reset()
    const { id, versionId } = await current(app, moderator, externalId)
    const res = await decide(app, moderator, id, { action, versionId, ruleCodes: ['4.a'], note: `test ${platform}` })
    t.equal(res.statusCode, 201, `${platform}: decision recorded`)
    const decision = res.json()
    t.match(decision, { action, actor: 'user:mgarcia', automatic: false, ruleCodes: ['4.a'], noticeText: /4\.a/ })
    t.same(requestsOf(fake), [], 'nothing is sent before the job runs')
    await runJobs(app)
    t.same(requestsOf(fake), expected, `${platform}: platform requests`)
    const decided = (await app.inject({ url: `/v1/comments/${id}/decisions`, headers: { authorization: `Bearer ${moderator}` } })).json()
    t.ok(decided.items.at(-1).actions.every((a: { status: string }) => a.status === 'succeeded'), `${platform}: every action succeeded`)
  }

  // What the platforms received, exactly.
  fake.reset()
  await deliver(app, 'meta', fixture('meta-facebook-batch.json'))
  const fb = await current(app, moderator, '122131676912594941_1213590066990002')
  await decide(app, moderator, fb.id, { action: 'hide', versionId: fb.versionId, ruleCodes: ['4.c'] })
  await runJobs(app)
  const [hide, message] = fake.requests
  t.match(hide, { method: 'POST', path: '/122131676912594941_1213590066990002', body: 'is_hidden=true', headers: { authorization: 'Bearer fb-page-token' } })
  t.match(message, { method: 'POST', path: '/448242228374517/messages', headers: { authorization: 'Bearer fb-page-token', 'content-type': /application\/json/ } })
  const sent = JSON.parse(message!.body)
  t.equal(sent.recipient.comment_id, '122131676912594941_1213590066990002')
  t.match(sent.message.text, /4\.c/, 'the private reply carries the notice')
  const fbDecision = await app.db.prisma.moderationDecision.findFirstOrThrow({ where: { commentId: fb.id } })
  t.equal(sent.message.text, fbDecision.noticeText, 'the notice sent is the notice recorded, byte for byte')
  t.ok(appealReferenceIn(sent.message.text), 'and carries the appeal reference')

  const xRequests = await app.db.prisma.ledgerEntry.findMany({ where: { kind: { in: ['platform.action', 'notice.delivery'] } } })
  t.ok(xRequests.every((e) => !e.payload!.includes('token')), 'no token ever reaches the ledger')

  t.equal(smtp.messages.length, 1, 'the website author, whose address is known, is e-mailed too')
  t.match(smtp.messages[0], { rcptTo: ['pat@example.org'] })

  const linkedin = await current(app, moderator, 'urn:li:comment:(urn:li:activity:7100000000000000001,7100000000000000002)')
  const refused = await decide(app, moderator, linkedin.id, { action: 'hide', versionId: linkedin.versionId, ruleCodes: ['4.a'] })
  t.equal(refused.statusCode, 422)
  t.match(refused.json(), { type: '/problems/unsupported-platform-action', detail: /linkedin cannot hide.*it can remove/ })
  fake.reset()
  t.equal((await decide(app, moderator, linkedin.id, { action: 'remove', versionId: linkedin.versionId, ruleCodes: ['4.a'] })).statusCode, 201)
  await runJobs(app)
  const [liDelete, liReply] = fake.requests
  t.match(liDelete, {
    method: 'DELETE',
    path: `/rest/socialActions/${encodeURIComponent('urn:li:share:7100000000000000000')}/comments/7100000000000000002`,
    query: `actor=${encodeURIComponent('urn:li:organization:12345')}`,
    headers: { authorization: 'Bearer li-token', 'x-restli-protocol-version': '2.0.0' },
  })
  t.match(liReply, { method: 'POST', path: /^\/rest\/socialActions\/.*\/comments$/, headers: { authorization: 'Bearer li-token' } })
  t.match(JSON.parse(liReply!.body), { actor: 'urn:li:organization:12345', message: { text: /4\.a/ } }, 'the notice is a reply from the city')
  const xComment = await current(app, moderator, '1901234567890123456')
  t.match((await decide(app, moderator, xComment.id, { action: 'approve', versionId: xComment.versionId })).statusCode, 201)
})

t.test('hide then restore unhides; approve sends nothing; the ledger records each step', async (t) => {
  const { app, token, fake } = await moderationApp(t)
  const moderator = token('tst_moderator')
  await deliver(app, 'meta', fixture('meta-facebook-comment-add.json'))
  const c = await current(app, moderator, '122131676912594941_1213590066982748')
  t.equal((await decide(app, moderator, c.id, { action: 'hide', versionId: c.versionId, ruleCodes: ['4.e'] })).statusCode, 201)
  const read = { authorization: `Bearer ${moderator}` }
  t.equal((await app.inject({ url: `/v1/comments/${c.id}`, headers: read })).json().moderationStatus, 'hidden', 'the TST sees the decision on the comment')
  t.same(
    (await app.inject({ url: '/v1/comments?limit=200', headers: read })).json().items.filter((x: { id: string }) => x.id === c.id).map((x: { moderationStatus: string }) => x.moderationStatus),
    ['hidden'],
    'and in the list',
  )
  await runJobs(app)
  fake.reset()
  // The notice of the hide reached the author: its moderator may no longer undo it alone.
  const own = await decide(app, moderator, c.id, { action: 'restore', versionId: c.versionId })
  t.equal(own.statusCode, 409)
  t.match(own.json(), { type: '/problems/self-reversal', detail: /notice of your decision has reached the author.*MODERATION_SELF_CORRECTION_MINUTES/ })
  const restored = await decide(app, token('tst_moderator', 'second-moderator'), c.id, { action: 'restore', versionId: c.versionId })
  // The author was told of the hide, so is told of the restore; Meta allows one private reply per comment.
  t.match(restored.json(), { action: 'restore', platformAction: 'unhide', noticeText: /^Your comment on Facebook has been restored after review/ })
  t.match(restored.json().noticeDelivery, { channels: [], platformNotTold: /one private reply per comment/ })
  await runJobs(app)
  t.same(requestsOf(fake), ['POST /122131676912594941_1213590066982748'])
  t.equal(fake.requests[0]!.body, 'is_hidden=false')
  fake.reset()
  t.match((await decide(app, moderator, c.id, { action: 'approve', versionId: c.versionId })).json(), { platformAction: 'none', noticeText: null })
  await runJobs(app)
  t.same(requestsOf(fake), [], 'approving asks nothing of the platform')
  const kinds = (await app.db.prisma.ledgerEntry.findMany({ where: { subject: c.id }, orderBy: { seq: 'asc' } })).map((e) => e.kind)
  t.same(kinds, ['comment.version', 'moderation.decision', 'platform.action', 'notice.delivery', 'moderation.decision', 'platform.action', 'moderation.decision'])
  t.equal((await app.db.prisma.comment.findUniqueOrThrow({ where: { id: c.id } })).moderationStatus, 'approved')
})

t.test('a platform failure is retried; a permanent one surfaces in the queue', async (t) => {
  const { app, token, fake } = await moderationApp(t)
  const moderator = token('tst_moderator')
  await deliver(app, 'meta', fixture('meta-facebook-batch.json'))
  const a = await current(app, moderator, '122131676912594941_1213590066990001')
  const b = await current(app, moderator, '122131676912594941_1213590066990002')

  fake.respondWith((r) => r.method === 'DELETE' && r.path.endsWith('990001'), [{ status: 503, body: { error: { message: 'Service temporarily unavailable' } } }])
  await decide(app, moderator, a.id, { action: 'remove', versionId: a.versionId, ruleCodes: ['4.a'] })
  await runJobs(app)
  let deletion = await app.db.prisma.platformAction.findFirstOrThrow({ where: { commentId: a.id, operation: 'delete' } })
  t.match(deletion, { status: 'pending', attempts: 1, lastError: /temporarily unavailable/ }, 'first attempt failed, will retry')
  await runJobs(app)
  deletion = await app.db.prisma.platformAction.findFirstOrThrow({ where: { id: deletion.id } })
  t.match(deletion, { status: 'succeeded', attempts: 2 }, 'the retry succeeded')
  const attempts = (await app.db.prisma.ledgerEntry.findMany({ where: { subject: a.id, kind: 'platform.action' }, orderBy: { seq: 'asc' } })).map((e) => JSON.parse(e.payload!).outcome)
  t.same(attempts, ['failed_will_retry', 'succeeded'], 'each attempt is in the ledger')

  fake.respondWith((r) => r.method === 'DELETE' && r.path.endsWith('990002'), { status: 403, body: { error: { message: 'Permissions error', code: 200 } } })
  await decide(app, moderator, b.id, { action: 'remove', versionId: b.versionId, ruleCodes: ['4.a'] })
  await runJobs(app)
  t.match(await app.db.prisma.platformAction.findFirstOrThrow({ where: { commentId: b.id, operation: 'delete' } }), { status: 'failed', attempts: 1, lastError: /Permissions error/ })
  const queue = (await app.inject({ url: '/v1/moderation/queue?reason=action_failed', headers: { authorization: `Bearer ${moderator}` } })).json()
  t.equal(queue.items.length, 1, 'the permanent failure waits for a person')
  t.match(queue.items[0], { reason: 'action_failed', comment: { id: b.id }, evidence: { failedAction: { operation: 'delete', error: /Permissions error/ } } })
})

t.test('stale versions, missing rules, claims and idempotent replays are refused or replayed', async (t) => {
  const { app, token } = await moderationApp(t)
  const alice = token('tst_moderator', 'alice')
  const bob = token('tst_moderator', 'bob')
  await deliver(app, 'meta', fixture('meta-facebook-comment-add.json'))
  const first = await current(app, alice, '122131676912594941_1213590066982748')
  await deliver(app, 'meta', fixture('meta-facebook-comment-edited.json'))

  const stale = await decide(app, alice, first.id, { action: 'remove', versionId: first.versionId, ruleCodes: ['4.a'] })
  t.equal(stale.statusCode, 409)
  t.match(stale.json(), { type: '/problems/stale-comment-version' })
  const now = await current(app, alice, '122131676912594941_1213590066982748')
  t.not(now.versionId, first.versionId)

  const noRule = await decide(app, alice, now.id, { action: 'remove', versionId: now.versionId })
  t.equal(noRule.statusCode, 400)
  t.match(noRule.json(), { errors: [{ path: 'body:$.ruleCodes' }] })
  const unknownRule = await decide(app, alice, now.id, { action: 'remove', versionId: now.versionId, ruleCodes: ['99.z'] })
  t.match(unknownRule.json(), { status: 400, detail: /99\.z.*not in version 1/ })

  // Put it in the queue, as a flag would.
  await app.db.prisma.reviewItem.create({ data: { id: '00000000-0000-4000-8000-00000000000a', commentId: now.id, eventId: now.versionId, ruleCodes: ['4.e'], evidence: [], status: 'open', createdAt: new Date() } })
  const claim = await app.inject({ method: 'POST', url: '/v1/moderation/queue/00000000-0000-4000-8000-00000000000a/claim', headers: { authorization: `Bearer ${alice}` } })
  t.match(claim.json(), { claimedBy: 'user:alice' })
  const taken = await app.inject({ method: 'POST', url: '/v1/moderation/queue/00000000-0000-4000-8000-00000000000a/claim', headers: { authorization: `Bearer ${bob}` } })
  t.match(taken.json(), { status: 409, type: '/problems/claimed' })
  t.match((await decide(app, bob, now.id, { action: 'approve', versionId: now.versionId })).json(), { status: 409, type: '/problems/claimed' }, "no deciding someone else's claim")

  const body = { action: 'remove', versionId: now.versionId, ruleCodes: ['4.a'] }
  const once = await decide(app, alice, now.id, body, { 'idempotency-key': 'dec-1' })
  const twice = await decide(app, alice, now.id, body, { 'idempotency-key': 'dec-1' })
  t.equal(once.statusCode, 201)
  t.same(twice.json(), once.json(), 'replayed, not decided twice')
  t.equal(await app.db.prisma.moderationDecision.count({ where: { commentId: now.id, automatic: false } }), 1)
  t.equal((await app.db.prisma.reviewItem.findUniqueOrThrow({ where: { id: '00000000-0000-4000-8000-00000000000a' } })).status, 'closed', 'deciding closes the item')
})

t.test('appeals: one per decision, within the window; upheld, or reversed with the comment restored', async (t) => {
  const { app, token, fake, smtp } = await moderationApp(t)
  const moderator = token('tst_moderator')
  const admin = token('tst_admin', 'director')
  await deliver(app, 'meta', fixture('meta-facebook-batch.json'))
  const a = await current(app, moderator, '122131676912594941_1213590066990001')
  const b = await current(app, moderator, '122131676912594941_1213590066990002')
  const hidden = (await decide(app, moderator, a.id, { action: 'hide', versionId: a.versionId, ruleCodes: ['4.c'] })).json()
  const removed = (await decide(app, moderator, b.id, { action: 'remove', versionId: b.versionId, ruleCodes: ['4.a'] })).json()
  await runJobs(app)

  const file = (payload: object) => app.inject({ method: 'POST', url: '/v1/appeals', payload })
  const appealA = await file({ reference: appealReferenceIn(hidden.noticeText), contact: 'sam@example.org', statement: 'I was not harassing anyone.' })
  t.equal(appealA.statusCode, 201)
  const again = await file({ reference: appealReferenceIn(hidden.noticeText), contact: 'sam@example.org', statement: 'again' })
  t.equal(again.statusCode, 409, 'one appeal per decision')
  t.match(again.json(), { type: '/problems/appeal-exists' })
  // The reference as an author may type it: lower case, no hyphen.
  const appealB = await file({ reference: appealReferenceIn(removed.noticeText).replace('-', '').toLowerCase(), contact: '815-555-0199', statement: 'Please reconsider.' })
  t.equal(appealB.statusCode, 201, 'the reference as typed by its author')
  t.equal((await file({ contact: 'x@example.org', statement: 'no reference' })).statusCode, 400)

  const list = (await app.inject({ url: '/v1/appeals?status=open', headers: { authorization: `Bearer ${admin}` } })).json()
  t.equal(list.items.length, 2)

  fake.reset()
  const reversed = await app.inject({ method: 'POST', url: `/v1/appeals/${appealA.json().id}/decision`, headers: { authorization: `Bearer ${admin}` }, payload: { outcome: 'reverse', reason: 'Criticism of the City, not harassment.' } })
  t.match(reversed.json(), { status: 'reversed', decidedBy: 'user:director', reversalDecisionId: /[0-9a-f-]{36}/ })
  await runJobs(app)
  // Meta allows one private reply per comment, used by the notice: the outcome goes to the contact the appellant gave.
  t.same(requestsOf(fake), ['POST /122131676912594941_1213590066990001'], 'unhidden on Facebook')
  t.equal(fake.requests[0]!.body, 'is_hidden=false')
  t.same(smtp.messages.map((m) => m.rcptTo), [['sam@example.org']], "the outcome e-mailed to the appellant's address")
  t.ok(smtp.messages[0]!.data.includes('the decision was reversed'), 'the outcome text')
  t.equal((await app.db.prisma.comment.findUniqueOrThrow({ where: { id: a.id } })).moderationStatus, 'restored')

  const upheld = await app.inject({ method: 'POST', url: `/v1/appeals/${appealB.json().id}/decision`, headers: { authorization: `Bearer ${admin}` }, payload: { outcome: 'uphold', reason: 'Obscene language.' } })
  t.match(upheld.json(), { status: 'upheld', reversalDecisionId: null })
  t.equal((await app.inject({ method: 'POST', url: `/v1/appeals/${appealB.json().id}/decision`, headers: { authorization: `Bearer ${admin}` }, payload: { outcome: 'reverse', reason: 'changed my mind' } })).statusCode, 409, 'decided once')
  const kinds = (await app.db.prisma.ledgerEntry.findMany({ where: { kind: { startsWith: 'appeal.' } } })).map((e) => e.kind).sort()
  t.same(kinds, ['appeal.decided', 'appeal.decided', 'appeal.filed', 'appeal.filed'])
  t.equal(removed.action, 'remove')
})

t.test('the appeal window closes', async (t) => {
  let now = Date.now()
  const { app, token } = await moderationApp(t, () => new Date(now))
  await deliver(app, 'meta', fixture('meta-facebook-comment-add.json'))
  const c = await current(app, token('tst_moderator'), '122131676912594941_1213590066982748')
  const decision = (await decide(app, token('tst_moderator'), c.id, { action: 'remove', versionId: c.versionId, ruleCodes: ['4.a'] })).json()
  now += 31 * 86_400_000
  const late = await app.inject({ method: 'POST', url: '/v1/appeals', payload: { reference: appealReferenceIn(decision.noticeText), contact: 'a@example.org', statement: 'late' } })
  t.equal(late.statusCode, 409)
  t.match(late.json(), { type: '/problems/appeal-window-closed', detail: /30 days after the decision/ })
  t.equal(await app.db.prisma.appeal.count(), 0, 'nothing filed')
  const status = await app.inject({ url: `/v1/appeals/by-reference/${appealReferenceIn(decision.noticeText)}` })
  t.match(status.json(), { status: 'closed', filedAt: null })
})

t.test("the city's own hide, echoed back by the webhook, is recorded and not moderated again", async (t) => {
  const { app, token } = await moderationApp(t)
  const moderator = token('tst_moderator')
  await deliver(app, 'meta', fixture('meta-facebook-comment-add.json'))
  const c = await current(app, moderator, '122131676912594941_1213590066982748')
  await decide(app, moderator, c.id, { action: 'hide', versionId: c.versionId, ruleCodes: ['4.e'] })
  await runJobs(app)
  const decisionsBefore = await app.db.prisma.moderationDecision.count()
  const echo = JSON.stringify({
    object: 'page',
    entry: [{ id: '448242228374517', time: 1767226000, changes: [{ field: 'feed', value: { from: { id: '6543210987654321', name: 'Jane Resident' }, post_id: '448242228374517_122131676912594941', comment_id: '122131676912594941_1213590066982748', parent_id: '448242228374517_122131676912594941', created_time: 1767225604, item: 'comment', verb: 'hide' } }] }],
  })
  t.equal((await deliver(app, 'meta', echo)).statusCode, 200)
  const comment = await app.db.prisma.comment.findUniqueOrThrow({ where: { id: c.id } })
  t.equal(comment.status, 'hidden_on_platform', 'the platform state is recorded')
  t.equal(comment.moderationStatus, 'hidden', "the city's decision stands")
  t.equal(await app.db.prisma.moderationDecision.count(), decisionsBefore, 'no new decision')
  t.equal(await app.db.prisma.reviewItem.count({ where: { status: 'open' } }), 0, 'nothing queued')
  t.equal(await app.db.prisma.commentEvaluation.count({ where: { commentId: c.id } }), 1, 'not evaluated again')
})
