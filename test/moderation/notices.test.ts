import { platformEnv } from '../helpers/platform-env.js'
// Issue 25: the notice says what was done, each cited rule once in the policy's words, on the
// channel each platform allows; what the ledger records is what was sent; identical decisions are
// no-ops; appeals are decided by someone else; failed platform actions are retried or resolved by
// staff without a new decision. Through the HTTP routes, under the production roles.
import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { inTransaction } from '../../src/db/tx.js'
import { DEFAULT_POLICY } from '../../src/policy/default-policy.js'
import { seedDefaultPolicy } from '../../src/policy/seed.js'
import { testApp } from '../helpers/app.js'
import { startFakePlatform, type FakePlatform } from '../helpers/fake-platform.js'
import { startSmtpSink } from '../helpers/smtp-sink.js'
import { appealReferenceIn } from '../factories/records.js'
import { deliver, fixture } from '../factories/webhooks.js'

const FB = '122131676912594941_1213590066982748'
const IG = '17900000000000000'
const X = '1901234567890123456'
const LI = 'urn:li:comment:(urn:li:activity:7100000000000000001,7100000000000000002)'
const WEB = 'c-1001'
const POLICY_URL = 'https://www.citykankakee-il.gov/social-media-policy'
const APPEAL_URL = 'https://www.citykankakee-il.gov/comment-appeals'

// The fixtures' comments were posted on 1 January 2026.
const JAN_2 = new Date('2026-01-02T12:00:00Z').getTime()

async function noticesApp(t: Test, options: { env?: Record<string, string>; clock?: () => Date } = {}) {
  const fake = await startFakePlatform()
  const smtp = await startSmtpSink({ tls: 'starttls' })
  t.teardown(async () => {
    await fake.close()
    await smtp.close()
  })
  const env = {
    ...platformEnv(fake.baseUrl, smtp.url()),
    JOB_MAX_ATTEMPTS: '1',
    ...options.env,
  }
  const ctx = await testApp(t, { env, clock: options.clock ?? (() => new Date(JAN_2)) })
  await inTransaction(ctx.app.db.prisma, (tx) => seedDefaultPolicy(tx, () => new Date('2025-12-01T00:00:00Z')))
  await deliver(ctx.app, 'meta', fixture('meta-facebook-comment-add.json'))
  await deliver(ctx.app, 'meta', fixture('meta-instagram-comment.json'))
  await deliver(ctx.app, 'x', fixture('x-reply.json'))
  await deliver(ctx.app, 'linkedin', fixture('linkedin-comment.json'))
  await deliver(ctx.app, 'website', fixture('website-comments.json'))
  return { ...ctx, fake, smtp }
}

async function current(app: FastifyInstance, externalId: string) {
  const comment = await app.db.prisma.comment.findFirstOrThrow({ where: { externalId } })
  const latest = await app.db.prisma.commentEvent.findFirstOrThrow({ where: { commentId: comment.id, kind: { in: ['created', 'edited'] } }, orderBy: [{ platformTime: 'desc' }, { receivedAt: 'desc' }] })
  return { id: comment.id, versionId: latest.id }
}

function decide(app: FastifyInstance, token: string, commentId: string, body: object) {
  return app.inject({ method: 'POST', url: `/v1/comments/${commentId}/decisions`, headers: { authorization: `Bearer ${token}` }, payload: body })
}

async function runJobs(app: FastifyInstance) {
  await app.db.pool.query('UPDATE graphile_worker._private_jobs SET run_at = now() WHERE locked_at IS NULL')
  await app.jobs.runDue()
}

const rule = (code: string) => {
  const r = DEFAULT_POLICY.rules.find((x) => x.code === code)!
  return `Section ${r.code}, ${r.title}: ${r.sectionText}`
}

/** The default notices, written out: what the author must read. */
function expected(kind: 'removed' | 'hidden' | 'restored' | 'appealUpheld' | 'appealReversed', platform: string, codes: string[], reference?: string): string {
  const rules = codes.map(rule).join('\n\n')
  const appeal = reference ? `\n\nTo appeal, go to ${APPEAL_URL} and give your appeal reference: ${reference}` : ''
  const closing = (verb: string) =>
    `The City does not ${verb} comments because of the opinions they express. If you believe this decision is wrong, you can appeal it within 30 days. ` +
    'A staff member who did not make the original decision will review your appeal.'
  switch (kind) {
    case 'removed':
      return `Your comment on ${platform} was removed because it breaks the City of Kankakee's social media comment policy (${POLICY_URL}):\n\n${rules}\n\n${closing('remove')}${appeal}`
    case 'hidden':
      return `Your comment on ${platform} was hidden from other readers because it breaks the City of Kankakee's social media comment policy (${POLICY_URL}):\n\n${rules}\n\n${closing('hide')}${appeal}`
    case 'restored':
      return (
        `Your comment on ${platform} has been restored after review: the City no longer holds that it breaks its social media comment policy (${POLICY_URL}). ` +
        'A comment the platform deleted cannot be put back; you are welcome to post it again. (City Technical Services Team)'
      )
    case 'appealUpheld':
      return (
        `Your appeal was reviewed by a City staff member who did not make the original decision. The decision stands: your comment on ${platform} ` +
        `breaks the City of Kankakee's social media comment policy (${POLICY_URL}):\n\n${rules}\n\nThis ends the City's review of your comment. You are welcome to comment again within the policy.`
      )
    case 'appealReversed':
      return (
        'Your appeal was reviewed by a City staff member who did not make the original decision, and the decision was reversed: your comment on ' +
        `${platform} does not break the City's social media comment policy (${POLICY_URL}). A hidden comment is visible again; a comment the platform ` +
        'deleted cannot be put back, and you are welcome to post it again. (City Technical Services Team)'
      )
  }
}

/** The text a request to the fake platform carried. */
function sentText(fake: FakePlatform, path: RegExp): string {
  const req = fake.requests.find((r) => r.method === 'POST' && path.test(r.path))
  if (!req) throw new Error(`no request to ${path}: ${fake.requests.map((r) => `${r.method} ${r.path}`).join(', ')}`)
  const body = JSON.parse(req.body) as { text?: string; message?: { text: string } }
  return body.message?.text ?? body.text ?? ''
}

async function deliveries(app: FastifyInstance, commentId: string) {
  const entries = await app.db.prisma.ledgerEntry.findMany({ where: { subject: commentId, kind: 'notice.delivery' }, orderBy: { seq: 'asc' } })
  return entries.map((e) => JSON.parse(e.payload!) as { operation: string; outcome: string; text: string; to?: string; appealId?: string })
}

async function decisionEntry(app: FastifyInstance, ledgerEntryId: string) {
  return JSON.parse((await app.db.prisma.ledgerEntry.findUniqueOrThrow({ where: { id: ledgerEntryId } })).payload!) as { noticeText: string; noticeDelivery: unknown }
}

function emailBody(data: string): string {
  const split = data.indexOf('\r\n\r\n')
  const headers = data.slice(0, split)
  const body = data.slice(split + 4)
  if (/Content-Transfer-Encoding: quoted-printable/i.test(headers)) {
    return Buffer.from(body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8').replace(/\r\n/g, '\n').replace(/\n$/, '')
  }
  if (/Content-Transfer-Encoding: base64/i.test(headers)) return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8').replace(/\r\n/g, '\n').replace(/\n$/, '')
  return body.replace(/\r\n/g, '\n').replace(/\n$/, '')
}

t.test('a manual remove citing flag rules says "removed", and names each rule once', async (t) => {
  const { app, token, fake } = await noticesApp(t)
  const c = await current(app, FB)
  // 4.c and 4.e are `flag` rules; 4.c cited twice.
  const res = await decide(app, token('tst_moderator', 'mgarcia'), c.id, { action: 'remove', versionId: c.versionId, ruleCodes: ['4.c', '4.e', '4.c'] })
  t.equal(res.statusCode, 201)
  const decision = res.json()
  const reference = appealReferenceIn(decision.noticeText)
  t.equal(decision.noticeText, expected('removed', 'Facebook', ['4.c', '4.e'], reference))
  t.notMatch(decision.noticeText, /held for review by City staff|Most held comments/, 'not the "held for review" text')
  t.equal(decision.noticeText.split('Section 4.c,').length - 1, 1, 'rule 4.c once')
  t.equal(decision.noticeText.split('The City does not remove').length - 1, 1, 'the paragraph once')
  await runJobs(app)
  const sent = sentText(fake, /\/448242228374517\/messages$/)
  t.equal(sent, decision.noticeText, 'the private reply is the notice')
  t.equal((await decisionEntry(app, decision.ledgerEntryId)).noticeText, sent, 'the ledger records what was sent, byte for byte')
  t.match(await deliveries(app, c.id), [{ operation: 'reply', outcome: 'succeeded', text: sent }], 'and the delivery, with its text')
})

t.test('each action on each platform: the exact text, where it went, and the ledger entry that records it', async (t) => {
  const { app, token, fake, smtp } = await noticesApp(t)
  const moderator = token('tst_moderator', 'mgarcia')
  const other = token('tst_moderator', 'second')

  const cases = [
    { platform: 'Facebook', id: FB, action: 'remove', path: /\/448242228374517\/messages$/, short: false, channel: 'private_reply' },
    { platform: 'Instagram', id: IG, action: 'hide', path: /\/17841400000000000\/messages$/, short: false, channel: 'private_reply' },
    { platform: 'X', id: X, action: 'hide', path: /^\/2\/tweets$/, short: true, channel: 'public_reply' },
    { platform: 'LinkedIn', id: LI, action: 'remove', path: /\/comments$/, short: true, channel: 'public_reply' },
    { platform: 'the city website', id: WEB, action: 'remove', path: /\/comments\/c-1001\/notices$/, short: false, channel: 'website' },
  ] as const
  for (const k of cases) {
    fake.reset()
    smtp.reset()
    const c = await current(app, k.id)
    const res = await decide(app, moderator, c.id, { action: k.action, versionId: c.versionId, ruleCodes: ['4.a'] })
    t.equal(res.statusCode, 201, k.platform)
    const decision = res.json()
    const reference = appealReferenceIn(decision.noticeText)
    const kind = k.action === 'remove' ? 'removed' : 'hidden'
    t.equal(decision.noticeText, expected(kind, k.platform, ['4.a'], reference), `${k.platform}: the notice`)
    await runJobs(app)
    const sent = sentText(fake, k.path)
    const shortText = `Your reply was ${kind} (rule 4.a) under the City's comment policy. Why, and how to appeal: ${APPEAL_URL} reference ${reference}`
    t.equal(sent, k.short ? shortText : decision.noticeText, `${k.platform}: what the platform was sent`)
    t.ok(sent.length <= 280 || !k.short, 'a public reply fits X')
    const entry = await decisionEntry(app, decision.ledgerEntryId)
    t.equal(entry.noticeText, decision.noticeText, `${k.platform}: the decision's entry records the notice`)
    const channels = k.platform === 'the city website' ? [{ channel: 'website' }, { channel: 'email', to: 'author' }] : [{ channel: k.channel }]
    t.same(entry.noticeDelivery, { channels, platformNotTold: null }, `${k.platform}: and how it goes to the author`)
    const recorded = await deliveries(app, c.id)
    t.equal(recorded.find((d) => d.operation === 'reply')?.text, sent, `${k.platform}: the delivery entry records the text sent`)
    if (k.platform === 'the city website') {
      t.same(smtp.messages.map((m) => m.rcptTo), [['pat@example.org']])
      t.equal(emailBody(smtp.messages[0]!.data), decision.noticeText, 'the e-mail is the notice')
      t.match(recorded.find((d) => d.operation === 'email'), { outcome: 'succeeded', to: 'pat@example.org', text: decision.noticeText })
    }
  }

  // Restored by another moderator: the author is told where a second message can go.
  fake.reset()
  smtp.reset()
  const web = await current(app, WEB)
  const restored = await decide(app, other, web.id, { action: 'restore', versionId: web.versionId })
  t.equal(restored.statusCode, 201)
  t.equal(restored.json().noticeText, expected('restored', 'the city website', []))
  await runJobs(app)
  t.equal(sentText(fake, /\/comments\/c-1001\/notices$/), expected('restored', 'the city website', []))
  t.equal(emailBody(smtp.messages[0]!.data), expected('restored', 'the city website', []))
  const x = await current(app, X)
  fake.reset()
  t.equal((await decide(app, other, x.id, { action: 'restore', versionId: x.versionId })).statusCode, 201)
  await runJobs(app)
  t.equal(sentText(fake, /^\/2\/tweets$/), `Your reply was restored after review. City comment policy: ${POLICY_URL}`, 'the short public reply of a restore')
})

t.test('hiding an already-hidden comment three times queues one notice', async (t) => {
  const { app, token } = await noticesApp(t)
  const moderator = token('tst_moderator', 'mgarcia')
  const c = await current(app, FB)
  const answers = []
  for (let i = 0; i < 3; i++) answers.push(await decide(app, moderator, c.id, { action: 'hide', versionId: c.versionId, ruleCodes: ['4.c', '4.e'] }))
  t.same(answers.map((a) => a.statusCode), [201, 200, 200], 'the repeats are answered with the decision in force')
  t.same(new Set(answers.map((a) => a.json().id)).size, 1)
  // The same rules in another order are the same decision.
  t.equal((await decide(app, moderator, c.id, { action: 'hide', versionId: c.versionId, ruleCodes: ['4.e', '4.c'] })).statusCode, 200)
  t.equal(await app.db.prisma.platformAction.count({ where: { commentId: c.id, operation: 'reply' } }), 1, 'one notice queued')
  t.equal(await app.db.prisma.ledgerEntry.count({ where: { subject: c.id, kind: 'moderation.decision' } }), 1, 'one ledger entry')
  t.equal(await app.db.prisma.appealReference.count(), 1, 'one appeal reference')
  // Other rules are another decision.
  t.equal((await decide(app, moderator, c.id, { action: 'hide', versionId: c.versionId, ruleCodes: ['4.a'] })).statusCode, 201)
})

t.test('preview: the exact notice and deliveries before deciding, nothing recorded', async (t) => {
  const { app, token } = await noticesApp(t)
  const moderator = token('tst_moderator', 'mgarcia')
  const c = await current(app, WEB)
  const before = await app.db.prisma.ledgerEntry.count()
  const preview = await app.inject({ method: 'POST', url: `/v1/comments/${c.id}/decisions/preview`, headers: { authorization: `Bearer ${moderator}` }, payload: { action: 'remove', versionId: c.versionId, ruleCodes: ['4.c'] } })
  t.equal(preview.statusCode, 200)
  const text = expected('removed', 'the city website', ['4.c'], 'XXXXX-XXXXX')
  t.same(preview.json(), {
    action: 'remove',
    platformAction: 'delete',
    policyVersionId: preview.json().policyVersionId,
    policyVersion: 1,
    ruleCodes: ['4.c'],
    noticeText: text,
    deliveries: [
      { channel: 'website', operation: 'reply', text },
      { channel: 'email', operation: 'email', text, to: 'author' },
    ],
    platformNotTold: null,
    sameAsDecisionId: null,
  })
  t.equal(await app.db.prisma.ledgerEntry.count(), before, 'nothing recorded')
  t.equal(await app.db.prisma.moderationDecision.count(), 0)
  const decided = (await decide(app, moderator, c.id, { action: 'remove', versionId: c.versionId, ruleCodes: ['4.c'] })).json()
  t.equal(decided.noticeText, text.replace('XXXXX-XXXXX', appealReferenceIn(decided.noticeText)), 'the decision says what the preview said, with the real reference')
  const again = await app.inject({ method: 'POST', url: `/v1/comments/${c.id}/decisions/preview`, headers: { authorization: `Bearer ${moderator}` }, payload: { action: 'remove', versionId: c.versionId, ruleCodes: ['4.c'] } })
  t.match(again.json(), { sameAsDecisionId: decided.id, noticeText: null, deliveries: [] }, 'repeating it would change nothing')
  const bad = await app.inject({ method: 'POST', url: `/v1/comments/${c.id}/decisions/preview`, headers: { authorization: `Bearer ${moderator}` }, payload: { action: 'remove', versionId: c.versionId, ruleCodes: ['99'] } })
  t.equal(bad.statusCode, 400)
  const clerk = await app.inject({ method: 'POST', url: `/v1/comments/${c.id}/decisions/preview`, headers: { authorization: `Bearer ${token('records_clerk')}` }, payload: { action: 'remove', versionId: c.versionId, ruleCodes: ['4.c'] } })
  t.equal(clerk.statusCode, 403, 'moderators only')
})

t.test('Facebook after 7 days, and X and LinkedIn set to appeal-page: the platform does not tell, and the record says so', async (t) => {
  const { app, token, fake } = await noticesApp(t, { env: { NOTICE_CHANNEL_X: 'appeal-page', NOTICE_CHANNEL_LINKEDIN: 'appeal-page' }, clock: () => new Date('2026-01-09T00:00:01Z') })
  const moderator = token('tst_moderator', 'mgarcia')
  for (const [externalId, action, platform, why] of [
    [FB, 'hide', 'Facebook', 'the platform allows a private reply only within 7 days of the comment'],
    [X, 'hide', 'X', 'the platform cannot message the author, and NOTICE_CHANNEL_X is appeal-page'],
    [LI, 'remove', 'LinkedIn', 'the platform cannot message the author, and NOTICE_CHANNEL_LINKEDIN is appeal-page'],
  ] as const) {
    fake.reset()
    const c = await current(app, externalId)
    const decision = (await decide(app, moderator, c.id, { action, versionId: c.versionId, ruleCodes: ['4.a'] })).json()
    t.same(decision.noticeDelivery, { channels: [], platformNotTold: why }, `${platform}: not told by the platform, and why`)
    t.same(decision.actions.map((a: { operation: string }) => a.operation), [action === 'hide' ? 'hide' : 'delete'], 'no notice job')
    t.same((await decisionEntry(app, decision.ledgerEntryId)).noticeDelivery, { channels: [], platformNotTold: why }, 'the ledger says so')
    await runJobs(app)
    t.notOk(fake.requests.some((r) => r.method === 'POST' && /messages|tweets$|comments$/.test(r.path)), 'no message to the author')
    const status = (await app.inject({ url: `/v1/appeals/by-reference/${appealReferenceIn(decision.noticeText)}` })).json()
    t.match(status, { status: 'not_filed', notice: decision.noticeText, noticeDelivery: { platformNotTold: why } }, 'the notice is published under its reference')
  }
})

t.test('an appeal is decided by someone else: 409 naming the rule otherwise; the outcome reaches the author and the ledger', async (t) => {
  const { app, token, fake, smtp } = await noticesApp(t)
  const alex = token(['tst_moderator', 'tst_admin'], 'alex')
  const director = token('tst_admin', 'director')
  const c = await current(app, WEB)
  const decision = (await decide(app, alex, c.id, { action: 'remove', versionId: c.versionId, ruleCodes: ['4.a'] })).json()
  await runJobs(app)
  const reference = appealReferenceIn(decision.noticeText)
  const filed = (await app.inject({ method: 'POST', url: '/v1/appeals', payload: { reference, contact: 'pat@example.org', statement: 'Please look again.' } })).json()

  const own = await app.inject({ method: 'POST', url: `/v1/appeals/${filed.id}/decision`, headers: { authorization: `Bearer ${alex}` }, payload: { outcome: 'reverse', reason: 'My mistake.' } })
  t.equal(own.statusCode, 409)
  t.match(own.json(), { type: '/problems/appeal-reviewer', detail: /You made the decision appealed.*APPEAL_REVIEWER=not-decider/ })
  t.equal((await app.db.prisma.appeal.findUniqueOrThrow({ where: { id: filed.id } })).status, 'open', 'nothing changed')

  fake.reset()
  smtp.reset()
  const upheld = await app.inject({ method: 'POST', url: `/v1/appeals/${filed.id}/decision`, headers: { authorization: `Bearer ${director}` }, payload: { outcome: 'uphold', reason: 'Obscene language.' } })
  t.equal(upheld.statusCode, 200)
  const outcome = expected('appealUpheld', 'the city website', ['4.a'])
  t.match(upheld.json(), { status: 'upheld', decidedBy: 'user:director', outcomeText: outcome, outcomeDelivery: { channels: [{ channel: 'website' }, { channel: 'email', to: 'author' }], platformNotTold: null } })
  await runJobs(app)
  t.equal(sentText(fake, /\/comments\/c-1001\/notices$/), outcome, 'over the channel the notice used')
  t.same(smtp.messages.map((m) => m.rcptTo), [['pat@example.org']], 'once: the contact is the author\'s address')
  t.equal(emailBody(smtp.messages[0]!.data), outcome)
  const outcomeDeliveries = (await deliveries(app, c.id)).filter((d) => d.appealId === filed.id)
  t.match(outcomeDeliveries, [{ operation: 'reply', outcome: 'succeeded', text: outcome }, { operation: 'email', outcome: 'succeeded', text: outcome }], 'recorded like the notice')
  const decidedEntry = await app.db.prisma.ledgerEntry.findFirstOrThrow({ where: { kind: 'appeal.decided', subject: c.id } })
  t.match(JSON.parse(decidedEntry.payload!), { outcome: 'uphold', outcomeText: outcome })
  t.match((await app.inject({ url: `/v1/appeals/by-reference/${reference}` })).json(), { status: 'upheld', outcome })
  t.equal(await app.db.prisma.moderationDecision.count({ where: { commentId: c.id } }), 1, 'upholding is no new decision')
})

t.test('APPEAL_REVIEWER=not-involved: whoever decided anything on the comment is refused', async (t) => {
  const { app, token } = await noticesApp(t, { env: { APPEAL_REVIEWER: 'not-involved' } })
  const first = token(['tst_moderator', 'tst_admin'], 'first')
  const second = token(['tst_moderator', 'tst_admin'], 'second')
  const third = token('tst_admin', 'third')
  const c = await current(app, FB)
  await decide(app, first, c.id, { action: 'hide', versionId: c.versionId, ruleCodes: ['4.a'] })
  const removed = (await decide(app, second, c.id, { action: 'remove', versionId: c.versionId, ruleCodes: ['4.a'] })).json()
  const filed = (await app.inject({ method: 'POST', url: '/v1/appeals', payload: { reference: appealReferenceIn(removed.noticeText), contact: '815-555-0100', statement: 'No.' } })).json()
  const byFirst = await app.inject({ method: 'POST', url: `/v1/appeals/${filed.id}/decision`, headers: { authorization: `Bearer ${first}` }, payload: { outcome: 'uphold', reason: 'x' } })
  t.equal(byFirst.statusCode, 409)
  t.match(byFirst.json(), { type: '/problems/appeal-reviewer', detail: /APPEAL_REVIEWER=not-involved/ })
  t.equal((await app.inject({ method: 'POST', url: `/v1/appeals/${filed.id}/decision`, headers: { authorization: `Bearer ${third}` }, payload: { outcome: 'uphold', reason: 'x' } })).statusCode, 200)
})

t.test("undoing one's own decision: within the minutes and before the notice went out; otherwise someone else", async (t) => {
  let now = JAN_2
  const { app, token } = await noticesApp(t, { clock: () => new Date(now) })
  const moderator = token('tst_moderator', 'mgarcia')
  const a = await current(app, FB)
  const b = await current(app, IG)
  await decide(app, moderator, a.id, { action: 'hide', versionId: a.versionId, ruleCodes: ['4.a'] })
  await decide(app, moderator, b.id, { action: 'hide', versionId: b.versionId, ruleCodes: ['4.a'] })
  now += 9 * 60_000
  const corrected = await decide(app, moderator, a.id, { action: 'restore', versionId: a.versionId })
  t.equal(corrected.statusCode, 201, 'nine minutes later, before the notice went out: corrected')
  now += 2 * 60_000
  const late = await decide(app, moderator, b.id, { action: 'restore', versionId: b.versionId })
  t.equal(late.statusCode, 409)
  t.match(late.json(), { type: '/problems/self-reversal', detail: /more than 10 minutes ago.*another person must decide/ })
  t.equal((await decide(app, token('tst_moderator', 'second'), b.id, { action: 'restore', versionId: b.versionId })).statusCode, 201, 'another moderator may')
})

t.test('a failed platform action: retried or resolved by hand, recorded, with no new decision and no new notice', async (t) => {
  const { app, token, fake } = await noticesApp(t)
  const moderator = token('tst_moderator', 'mgarcia')
  const auth = { authorization: `Bearer ${moderator}` }
  const c = await current(app, FB)
  fake.respondWith((r) => r.method === 'POST' && r.path.endsWith('982748'), [{ status: 403, body: { error: { message: 'Permissions error', code: 200 } } }])
  const decision = (await decide(app, moderator, c.id, { action: 'hide', versionId: c.versionId, ruleCodes: ['4.a'] })).json()
  await runJobs(app)
  const hide = await app.db.prisma.platformAction.findFirstOrThrow({ where: { decisionId: decision.id, operation: 'hide' } })
  t.equal(hide.status, 'failed')
  t.equal((await app.inject({ url: '/v1/moderation/queue?reason=action_failed', headers: auth })).json().items.length, 1)

  const notices = await app.db.prisma.platformAction.count({ where: { commentId: c.id, operation: 'reply' } })
  const retried = await app.inject({ method: 'POST', url: `/v1/platform-actions/${hide.id}/retry`, headers: auth })
  t.equal(retried.statusCode, 200)
  t.match(retried.json(), { id: hide.id, status: 'pending' })
  t.equal((await app.inject({ url: '/v1/moderation/queue?reason=action_failed', headers: auth })).json().items.length, 0, 'out of the queue')
  await runJobs(app)
  t.match(await app.db.prisma.platformAction.findUniqueOrThrow({ where: { id: hide.id } }), { status: 'succeeded', attempts: 2 })
  t.equal((await app.inject({ method: 'POST', url: `/v1/platform-actions/${hide.id}/retry`, headers: auth })).statusCode, 409, 'only a failed action')
  const retryEntry = await app.db.prisma.ledgerEntry.findFirstOrThrow({ where: { kind: 'platform.action.retried' } })
  t.match({ actor: retryEntry.actor, ...JSON.parse(retryEntry.payload!) }, { actor: 'user:mgarcia', actionId: hide.id, decisionId: decision.id, operation: 'hide', previousError: /Permissions error/ })

  // Failing again, then resolved by hand.
  const x = await current(app, X)
  fake.respondWith((r) => r.method === 'PUT' && r.path.includes(X), [{ status: 403, body: { errors: [{ message: 'Forbidden' }] } }])
  const xDecision = (await decide(app, moderator, x.id, { action: 'hide', versionId: x.versionId, ruleCodes: ['4.a'] })).json()
  await runJobs(app)
  const xHide = await app.db.prisma.platformAction.findFirstOrThrow({ where: { decisionId: xDecision.id, operation: 'hide' } })
  t.equal(xHide.status, 'failed')
  const noReason = await app.inject({ method: 'POST', url: `/v1/platform-actions/${xHide.id}/resolve`, headers: auth, payload: {} })
  t.equal(noReason.statusCode, 400, 'a reason is required')
  const resolved = await app.inject({ method: 'POST', url: `/v1/platform-actions/${xHide.id}/resolve`, headers: auth, payload: { reason: 'Hidden by hand in the X app.' } })
  t.equal(resolved.statusCode, 200)
  t.match(resolved.json(), { status: 'resolved', resolvedBy: 'user:mgarcia', resolution: 'Hidden by hand in the X app.' })
  const resolveEntry = await app.db.prisma.ledgerEntry.findFirstOrThrow({ where: { kind: 'platform.action.resolved' } })
  t.match(JSON.parse(resolveEntry.payload!), { actionId: xHide.id, reason: 'Hidden by hand in the X app.', lastError: /Forbidden/ })
  t.equal((await app.inject({ method: 'POST', url: `/v1/platform-actions/${xHide.id}/resolve`, headers: auth, payload: { reason: 'again' } })).statusCode, 409)

  t.equal(await app.db.prisma.moderationDecision.count(), 2, 'no new decision')
  t.equal(await app.db.prisma.platformAction.count({ where: { commentId: c.id, operation: 'reply' } }), notices, 'no new notice')
  t.equal(await app.db.prisma.appealReference.count(), 2, 'no new reference')
  const clerk = await app.inject({ method: 'POST', url: `/v1/platform-actions/${xHide.id}/retry`, headers: { authorization: `Bearer ${token('records_clerk')}` } })
  t.equal(clerk.statusCode, 403)
  t.equal((await app.inject({ method: 'POST', url: '/v1/platform-actions/00000000-0000-4000-8000-000000000000/retry', headers: auth })).statusCode, 404)
})
