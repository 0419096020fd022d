// Appeals belong to the author: only the reference the notice gave the author files the appeal of a
// removal or hide, so a stranger who knows the comment or the decision can neither file nor use up
// the author's one appeal. Through the HTTP routes, with the service connected as the runtime role.
import { createHash } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { inTransaction } from '../../src/db/tx.js'
import { DEFAULT_CITATION, suggestSpans } from '../../src/foia/redaction.js'
import { canonicalAppealReference, newAppealReference } from '../../src/moderation/appeal-reference.js'
import { noticeFor, shortNotice } from '../../src/moderation/notices.js'
import { DEFAULT_POLICY } from '../../src/policy/default-policy.js'
import { seedDefaultPolicy } from '../../src/policy/seed.js'
import { testApp } from '../helpers/app.js'
import { appealReferenceIn } from '../factories/records.js'
import { deliver, fixture } from '../factories/webhooks.js'

const FB_COMMENT = '122131676912594941_1213590066982748'

async function appealsApp(t: Test, clock?: () => Date) {
  const ctx = await testApp(t, clock ? { clock } : {})
  // The fixtures were posted in January 2026: the policy must already have been in force then.
  await inTransaction(ctx.app.db.prisma, (tx) => seedDefaultPolicy(tx, () => new Date('2025-12-01T00:00:00Z')))
  await deliver(ctx.app, 'meta', fixture('meta-facebook-comment-add.json'))
  await deliver(ctx.app, 'meta', fixture('meta-facebook-batch.json'))
  return ctx
}

/** A moderator's decision through the route; returns its body (id, noticeText, ...). */
async function decideNow(app: FastifyInstance, token: string, externalId: string, body: { action: string; ruleCodes?: string[] }) {
  const comment = await app.db.prisma.comment.findFirstOrThrow({ where: { externalId } })
  const latest = await app.db.prisma.commentEvent.findFirstOrThrow({ where: { commentId: comment.id }, orderBy: { platformTime: 'desc' } })
  const res = await app.inject({ method: 'POST', url: `/v1/comments/${comment.id}/decisions`, headers: { authorization: `Bearer ${token}` }, payload: { ...body, versionId: latest.id } })
  if (res.statusCode !== 201) throw new Error(`decision: ${res.statusCode} ${res.body}`)
  return res.json() as { id: string; commentId: string; noticeText: string; ledgerEntryId: string }
}

const file = (app: FastifyInstance, payload: object) => app.inject({ method: 'POST', url: '/v1/appeals', payload })
const statusOf = (app: FastifyInstance, reference: string) => app.inject({ url: `/v1/appeals/by-reference/${encodeURIComponent(reference)}` })

/** What a refused filing must not have changed: appeals, and appeal entries in the ledger. */
async function appealTrail(app: FastifyInstance) {
  return { appeals: await app.db.prisma.appeal.count(), entries: await app.db.prisma.ledgerEntry.count({ where: { kind: { startsWith: 'appeal.' } } }) }
}

t.test("a stranger who knows the comment's public id or the decision id cannot file, and cannot block the author", async (t) => {
  const { app, token } = await appealsApp(t)
  const decision = await decideNow(app, token('tst_moderator'), FB_COMMENT, { action: 'hide', ruleCodes: ['4.c'] })

  // The finding: without authentication, naming the comment as on its platform, or the decision.
  const squat = await file(app, { platform: 'facebook', commentId: FB_COMMENT, contact: 'troll@example.org', statement: 'mine now' })
  t.equal(squat.statusCode, 400, 'the comment as named on its platform does not file an appeal')
  t.match(squat.json(), { type: '/problems/validation', errors: [{ path: 'body:$' }] })
  const byDecision = await file(app, { decisionId: decision.id, contact: 'troll@example.org', statement: 'mine now' })
  t.equal(byDecision.statusCode, 400, 'nor does the decision id')
  t.same(await appealTrail(app), { appeals: 0, entries: 0 }, 'nothing was filed')

  const author = await file(app, { reference: appealReferenceIn(decision.noticeText), contact: 'jane@example.org', statement: 'I was criticising the plan, not a person.' })
  t.equal(author.statusCode, 201, "the author's appeal, with the reference from the notice, is filed")
  const filed = await app.db.prisma.appeal.findUniqueOrThrow({ where: { id: author.json().id } })
  t.match(filed, { decisionId: decision.id, commentId: decision.commentId, contact: 'jane@example.org', status: 'open' })
  const entry = await app.db.prisma.ledgerEntry.findUniqueOrThrow({ where: { id: filed.filedEntryId } })
  t.equal(entry.kind, 'appeal.filed')
  t.notOk(entry.payload!.includes(appealReferenceIn(decision.noticeText)), 'the ledger entry of the filing does not repeat the reference')
})

t.test('a wrong or guessed reference is 404, the same 404 whatever it is, and changes nothing', async (t) => {
  const { app, token } = await appealsApp(t)
  const decision = await decideNow(app, token('tst_moderator'), FB_COMMENT, { action: 'remove', ruleCodes: ['4.a'] })
  const real = appealReferenceIn(decision.noticeText)
  const before = await appealTrail(app)

  let guess = newAppealReference()
  while (guess === real) guess = newAppealReference()
  const oneOff = real.slice(0, -1) + (real.endsWith('0') ? '1' : '0')
  const answers: Array<{ type: string; title: string; detail: string }> = []
  for (const reference of [guess, oneOff, 'hello', 'XXXXX-XXXXX', decision.id]) {
    const res = await file(app, { reference, contact: 'troll@example.org', statement: 'guessing' })
    t.equal(res.statusCode, 404, `filing with ${reference}`)
    const status = await statusOf(app, reference)
    t.equal(status.statusCode, 404, `status of ${reference}`)
    answers.push(res.json(), status.json())
  }
  const [first] = answers
  t.match(first, { type: '/problems/not-found', detail: /No decision has this appeal reference/ })
  t.ok(
    answers.every((a) => a.type === first!.type && a.title === first!.title && a.detail === first!.detail),
    'every unknown reference gets the same answer: it says nothing about which references exist',
  )
  t.same(await appealTrail(app), before, 'nothing was filed')
  t.equal((await file(app, { reference: real, contact: 'jane@example.org', statement: 'Please look again.' })).statusCode, 201, "the author's reference still works")
})

t.test('the notice carries the reference and the appeal address; the ledger records that notice; the table only its digest', async (t) => {
  const { app, token, ownerPool } = await appealsApp(t)
  const moderator = token('tst_moderator')
  const hidden = await decideNow(app, moderator, FB_COMMENT, { action: 'hide', ruleCodes: ['4.c'] })
  const removed = await decideNow(app, moderator, '122131676912594941_1213590066990001', { action: 'remove', ruleCodes: ['4.a'] })
  const approved = await decideNow(app, moderator, '122131676912594941_1213590066990002', { action: 'approve' })

  for (const decision of [hidden, removed]) {
    const reference = appealReferenceIn(decision.noticeText)
    t.match(decision.noticeText, new RegExp(`To appeal, go to ${DEFAULT_POLICY.appealUrl.replace(/[.?/]/g, '\\$&')} and give your appeal reference: ${reference}$`))
    const entry = await app.db.prisma.ledgerEntry.findUniqueOrThrow({ where: { id: decision.ledgerEntryId } })
    t.equal(JSON.parse(entry.payload!).noticeText, decision.noticeText, 'the ledger records the notice with its reference, byte for byte')
  }
  t.equal(approved.noticeText, null, 'an approval sends no notice and has no reference')
  t.not(appealReferenceIn(hidden.noticeText), appealReferenceIn(removed.noticeText), 'each decision has its own reference')

  const { rows } = await ownerPool().query<{ decision_id: string; reference_sha256: Buffer; row: string }>(
    `SELECT decision_id::text, reference_sha256, row_to_json(r)::text AS row FROM appeal_reference r ORDER BY created_at`,
  )
  t.same(rows.map((r) => r.decision_id).sort(), [hidden.id, removed.id].sort(), 'one reference per appealable decision')
  for (const [i, decision] of [hidden, removed].entries()) {
    const reference = appealReferenceIn(decision.noticeText)
    const row = rows.find((r) => r.decision_id === decision.id)!
    t.same(row.reference_sha256, createHash('sha256').update(reference.replace('-', '')).digest(), `decision ${i}: SHA-256 of the reference is kept`)
    t.notOk(row.row.includes(reference) || row.row.includes(reference.replace('-', '')), `decision ${i}: never the reference itself`)
  }

  // Never reused: the service (runtime role) cannot give a reference twice, change or delete one.
  const runtime = app.db.pool
  const digest = rows[0]!.reference_sha256
  await t.rejects(runtime.query(`INSERT INTO appeal_reference (reference_sha256, decision_id, created_at) VALUES ($1, $2::uuid, now())`, [digest, approved.id]), { code: '23505' })
  await t.rejects(runtime.query(`DELETE FROM appeal_reference`), { code: '42501' })
  await t.rejects(runtime.query(`UPDATE appeal_reference SET decision_id = $1::uuid`, [approved.id]), { code: '42501' })
  await t.rejects(ownerPool().query(`DELETE FROM appeal_reference`), /append-only/, 'not even the owner deletes one')
})

t.test('status by reference: where the appeal stands, the notice and the outcome as sent; nothing about anyone else', async (t) => {
  let now = new Date('2026-03-02T12:00:00Z').getTime()
  const { app, token } = await appealsApp(t, () => new Date(now))
  const decision = await decideNow(app, token('tst_moderator'), FB_COMMENT, { action: 'hide', ruleCodes: ['4.c'] })
  const reference = appealReferenceIn(decision.noticeText)
  const decidedAt = '2026-03-02T12:00:00.000Z'
  const until = '2026-04-01T12:00:00.000Z'

  // The comment is from January: Meta's 7 days for a private reply are over, so the platform does not
  // tell the author, and the notice is published under its reference, exactly as recorded.
  const published = { notice: decision.noticeText, noticeDelivery: { channels: [], platformNotTold: 'the platform allows a private reply only within 7 days of the comment' } }
  t.same((await statusOf(app, reference)).json(), { status: 'not_filed', decidedAt, appealableUntil: until, filedAt: null, appealDecidedAt: null, ...published, outcome: null })
  // As an author may type it: lower case, a space for the hyphen, O for 0 and I or L for 1.
  const typed = reference.toLowerCase().replace('-', ' ').replace(/0/g, 'o').replace(/1/g, 'l')
  t.equal(canonicalAppealReference(typed), reference.replace('-', ''))
  t.equal((await statusOf(app, typed)).statusCode, 200, 'read as Crockford base32 is read')

  now += 86_400_000
  const filed = await file(app, { reference: typed, contact: 'jane@example.org', statement: 'My private statement, signed Jane' })
  t.equal(filed.statusCode, 201)
  const open = await statusOf(app, reference)
  t.same(open.json(), { status: 'open', decidedAt, appealableUntil: until, filedAt: '2026-03-03T12:00:00.000Z', appealDecidedAt: null, ...published, outcome: null })
  t.notOk(/jane|statement|contact|commentId/i.test(open.body), 'no contact, statement or comment in the public status')

  now += 86_400_000
  const admin = token('tst_admin', 'director')
  const upheld = await app.inject({ method: 'POST', url: `/v1/appeals/${filed.json().id}/decision`, headers: { authorization: `Bearer ${admin}` }, payload: { outcome: 'uphold', reason: 'Harassment of a named person.' } })
  t.equal(upheld.statusCode, 200)
  const decided = (await statusOf(app, reference)).json()
  const outcome = upheld.json().outcomeText
  t.match(outcome, /^Your appeal was reviewed by a City staff member who did not make the original decision\. The decision stands/)
  t.same(decided, { status: 'upheld', decidedAt, appealableUntil: until, filedAt: '2026-03-03T12:00:00.000Z', appealDecidedAt: '2026-03-04T12:00:00.000Z', ...published, outcome })
  t.notOk(JSON.stringify(decided).includes('named person'), "not the administrator's reason")
})

t.test('a reversed decision: the appeal reads reversed, and the restore gives no new reference', async (t) => {
  const { app, token } = await appealsApp(t)
  const decision = await decideNow(app, token('tst_moderator'), FB_COMMENT, { action: 'hide', ruleCodes: ['4.c'] })
  const reference = appealReferenceIn(decision.noticeText)
  const filed = await file(app, { reference, contact: 'jane@example.org', statement: 'Not harassment.' })
  const reversed = await app.inject({ method: 'POST', url: `/v1/appeals/${filed.json().id}/decision`, headers: { authorization: `Bearer ${token('tst_admin', 'director')}` }, payload: { outcome: 'reverse', reason: 'Criticism, not harassment.' } })
  t.equal(reversed.statusCode, 200)
  t.match((await statusOf(app, reference)).json(), { status: 'reversed', appealDecidedAt: /Z$/ })
  t.equal(await app.db.prisma.appealReference.count(), 1, 'a restore is not appealable: no reference')
})

t.test('the public appeal routes are rate limited per client', async (t) => {
  const { app } = await testApp(t)
  const statuses: number[] = []
  for (let i = 0; i < 31; i++) statuses.push((await statusOf(app, newAppealReference())).statusCode)
  t.same(statuses.slice(0, 30), Array(30).fill(404), 'thirty guesses an hour are answered (not found)')
  t.equal(statuses[30], 429, 'the next is refused')
})

t.test('on X and LinkedIn, the short public reply keeps the reference whole within 280 characters', async (t) => {
  const reference = newAppealReference()
  const long = { ...DEFAULT_POLICY, appealUrl: `https://www.citykankakee-il.gov/${'a'.repeat(120)}`, policyUrl: `https://www.citykankakee-il.gov/${'p'.repeat(150)}` }
  for (const content of [DEFAULT_POLICY, long]) {
    const text = shortNotice(content, 'hidden', ['4.a', '4.c'], reference)
    t.ok(text.length <= 280, `${text.length} characters`)
    t.ok(text.includes(reference), 'the reference is in it, whole')
    t.ok(text.includes(content.appealUrl), 'and the appeal address')
  }
  t.match(noticeFor(DEFAULT_POLICY, 'removed', ['4.a'], 'facebook', reference), new RegExp(`give your appeal reference: ${reference}$`))
})

t.test('a FOIA redaction scan suggests withholding the reference in every form of the notice', async (t) => {
  const reference = newAppealReference()
  const long = { ...DEFAULT_POLICY, policyUrl: `https://www.citykankakee-il.gov/${'p'.repeat(150)}` }
  for (const [platform, content] of [['facebook', DEFAULT_POLICY], ['x', DEFAULT_POLICY], ['x', long]] as const) {
    const text = platform === 'x' ? shortNotice(content, 'hidden', ['4.a'], reference) : noticeFor(content, 'removed', ['4.a'], platform, reference)
    const spans = suggestSpans(text).filter((s) => s.category === 'access_code')
    t.same(spans.map((s) => text.slice(s.start, s.end)), [reference], `${platform}: the reference, and only it`)
  }
  t.same(suggestSpans('Case ABCDE-FGHJK of the county court'), [], 'not any two groups of five letters')
  t.equal(DEFAULT_CITATION.access_code, '5 ILCS 140/7(1)(b)', 'private information: "passwords or other access codes", 2(c-5)')
})

t.test("a FOIA request for the comment: the scan suggests withholding the reference in the decision's notice", async (t) => {
  const { app, token } = await appealsApp(t)
  const decision = await decideNow(app, token('tst_moderator'), FB_COMMENT, { action: 'hide', ruleCodes: ['4.c'] })
  const clerk = { authorization: `Bearer ${token('records_clerk', 'clerk-1')}` }
  const created = await app.inject({
    method: 'POST',
    url: '/v1/foia/requests',
    headers: clerk,
    payload: { requester: { name: 'A. Requester', contact: 'requester@example.org' }, receivedOn: '2026-03-02', description: 'Hidden comments on Facebook', commercial: false },
  })
  const requestId = created.json().id as string
  t.equal((await app.inject({ method: 'POST', url: `/v1/foia/requests/${requestId}/records`, headers: clerk, payload: { commentIds: [decision.commentId] } })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: `/v1/foia/requests/${requestId}/redactions/suggestions`, headers: clerk })).statusCode, 200)
  const items = (await app.inject({ url: `/v1/foia/requests/${requestId}/redactions?status=suggested`, headers: clerk })).json().items as Array<{ category: string; text: string; entryId: string; path: string; citation: string }>
  t.match(
    items.filter((i) => i.category === 'access_code'),
    [{ text: appealReferenceIn(decision.noticeText), entryId: decision.ledgerEntryId, path: '/noticeText', citation: '5 ILCS 140/7(1)(b)' }],
  )
})
