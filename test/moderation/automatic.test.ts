import t from 'tap'
import { inTransaction } from '../../src/db/tx.js'
import { seedDefaultPolicy } from '../../src/policy/seed.js'
import { testApp } from '../helpers/app.js'
import { deliver } from '../factories/webhooks.js'

let n = 0
/** A website delivery of one new comment (the website contract carries author emails and free times). */
function websiteComment(text: string, options: { author?: string; at?: Date } = {}) {
  n++
  return JSON.stringify({
    events: [
      {
        id: `evt-${n}`,
        type: 'comment.created',
        commentId: `c-${n}`,
        pageUrl: 'https://www.citykankakee-il.gov/news/road-work',
        author: { id: options.author ?? `u-${n}`, name: `Resident ${n}` },
        text,
        occurredAt: (options.at ?? new Date()).toISOString(),
      },
    ],
  })
}

async function commentByExternal(app: Awaited<ReturnType<typeof testApp>>['app'], externalId: string) {
  return app.db.prisma.comment.findFirstOrThrow({ where: { externalId } })
}

t.test('new comment versions are evaluated against the policy in force at their platform time', async (t) => {
  const { app } = await testApp(t)
  const before = new Date(Date.now() - 3_600_000)
  await deliver(app, 'website', websiteComment('Posted before any policy: my SSN is 123-45-6789', { at: before }))
  await inTransaction(app.db.prisma, (tx) => seedDefaultPolicy(tx, app.clock))

  const cases: Array<[string, string]> = [
    ['Great job on the Washington Ave repaving, thank you!', 'allowed'],
    ['My SSN is 123-45-6789, please fix my water bill', 'removed'],
    ['Call me at (815) 555-0142 about the permit', 'flagged'],
  ]
  for (const [text] of cases) t.equal((await deliver(app, 'website', websiteComment(text))).statusCode, 200)

  t.equal((await commentByExternal(app, 'c-1')).moderationStatus, 'unevaluated', 'no policy was in force at its platform time')
  for (const [i, [text, status]] of cases.entries()) {
    t.equal((await commentByExternal(app, `c-${i + 2}`)).moderationStatus, status, text)
  }

  const removed = await commentByExternal(app, 'c-3')
  const decision = await app.db.prisma.moderationDecision.findFirstOrThrow({ where: { commentId: removed.id } })
  t.match(decision, { automatic: true, actor: 'system', action: 'remove', ruleCodes: ['4.d'] })
  t.match(decision.noticeText, /4\.d/, 'the notice names the rule')
  t.match(decision.noticeText, /comment-appeals/, 'and says how to appeal')
  t.match(decision.noticeText, /give your appeal reference: [0-9A-Z]{5}-[0-9A-Z]{5}$/, "and gives the author the reference that files the appeal")
  t.equal(await app.db.prisma.appealReference.count({ where: { decisionId: decision.id } }), 1, 'which is kept (as a digest) for that decision')
  const entry = await app.db.prisma.ledgerEntry.findUniqueOrThrow({ where: { id: decision.ledgerEntryId } })
  t.equal(entry.kind, 'moderation.decision')
  const payload = JSON.parse(entry.payload!)
  t.match(payload, { automatic: true, action: 'remove', ruleCodes: ['4.d'], noticeText: decision.noticeText, policyVersion: 1 })
  t.same(payload.evidence[0].evidence[0].text, '123-45-6789', 'the evidence cites the matched text')

  const flagged = await commentByExternal(app, 'c-4')
  const item = await app.db.prisma.reviewItem.findFirstOrThrow({ where: { commentId: flagged.id } })
  t.match(item, { status: 'open', ruleCodes: ['4.e'] })
  t.equal(await app.db.prisma.moderationDecision.count({ where: { commentId: flagged.id } }), 0, 'a flag decides nothing by itself')

  const evaluations = await app.db.prisma.commentEvaluation.findMany()
  t.equal(evaluations.length, 3, 'each evaluated version is recorded')
})

t.test("the city's own comments are never evaluated", async (t) => {
  const { app } = await testApp(t)
  await inTransaction(app.db.prisma, (tx) => seedDefaultPolicy(tx, app.clock))
  const page = '448242228374517'
  const now = Math.floor(Date.now() / 1000)
  const body = JSON.stringify({
    object: 'page',
    entry: [{ id: page, time: now, changes: [{ field: 'feed', value: { from: { id: page, name: 'City of Kankakee' }, message: 'Questions? Call 815-555-0100 or write to info@citykankakee-il.gov', post_id: `${page}_1`, comment_id: '1_900', parent_id: `${page}_1`, created_time: now, item: 'comment', verb: 'add' } }] }],
  })
  await deliver(app, 'meta', body)
  const comment = await commentByExternal(app, '1_900')
  t.equal(comment.moderationStatus, 'city')
  t.equal(await app.db.prisma.commentEvaluation.count(), 0)
  t.equal(await app.db.prisma.reviewItem.count(), 0)
})

t.test('a spam flood by one author is removed once it repeats', async (t) => {
  const { app } = await testApp(t)
  await inTransaction(app.db.prisma, (tx) => seedDefaultPolicy(tx, app.clock))
  const start = Date.now()
  const statuses: string[] = []
  for (let i = 0; i < 3; i++) {
    await deliver(app, 'website', websiteComment('Visit my page for the best deals on gutters in town', { author: 'spammer', at: new Date(start + i * 60_000) }))
    statuses.push((await commentByExternal(app, `c-${n}`)).moderationStatus)
  }
  t.same(statuses, ['allowed', 'allowed', 'removed'], 'the third near-identical post inside the window is removed')
})

t.test('a flood inside one delivery: its own versions count as each other\'s history, each stored version once', async (t) => {
  // Ingestion evaluates a delivery before storing it (docs/performance.md, round 2): the author's
  // versions in the same delivery are added to those already stored, without counting a version
  // twice when the delivery carries one that is already stored.
  const { app } = await testApp(t)
  await inTransaction(app.db.prisma, (tx) => seedDefaultPolicy(tx, app.clock))
  // After the policy takes effect (now), inside its 10-minute window.
  const start = Date.now()
  const text = 'Visit my page for the best deals on gutters in town'
  const event = (i: number, author = 'spammer') => ({
    id: `flood-evt-${i}`,
    type: 'comment.created',
    commentId: `flood-${i}`,
    pageUrl: 'https://www.citykankakee-il.gov/news/road-work',
    author: { id: author, name: 'Gutter Deals' },
    text,
    occurredAt: new Date(start + i * 60_000).toISOString(),
  })
  const status = async (id: string) => (await commentByExternal(app, id)).moderationStatus

  t.equal((await deliver(app, 'website', JSON.stringify({ events: [event(1)] }))).statusCode, 200)
  // flood-1 again (stored already: one similar version, not two) and flood-2.
  t.equal((await deliver(app, 'website', JSON.stringify({ events: [event(1), event(2)] }))).statusCode, 200)
  t.equal(await status('flood-2'), 'allowed', 'the redelivered version is counted once: one earlier similar post')
  // Three more in one delivery, out of order, and one by someone else: flood-3 sees 1 and 2.
  const res = await deliver(app, 'website', JSON.stringify({ events: [event(4), event(3), event(5, 'neighbour')] }))
  t.match(res.json(), { accepted: 3 })
  t.equal(await status('flood-3'), 'removed', 'the third near-identical post inside the window is removed')
  t.equal(await status('flood-4'), 'removed', 'so is the fourth, which counts the third from the same delivery')
  t.equal(await status('flood-5'), 'allowed', "another author's post is not part of the flood")
  // A new flood entirely inside one delivery: only the delivery's own versions are history.
  t.equal((await deliver(app, 'website', JSON.stringify({ events: [event(8, 'spammer2'), event(6, 'spammer2'), event(7, 'spammer2')] }))).statusCode, 200)
  t.same([await status('flood-6'), await status('flood-7'), await status('flood-8')], ['allowed', 'allowed', 'removed'])
  t.equal(await app.db.prisma.commentEvaluation.count(), 8, 'each stored version is evaluated once')
  t.equal(await app.db.prisma.ledgerEntry.count({ where: { kind: 'comment.version' } }), 8, 'and appended once')
  t.equal(await app.db.prisma.moderationDecision.count({ where: { automatic: true } }), 3)
})

t.test('abuse: a 1 MB comment and an empty one are stored and evaluated', async (t) => {
  const { app } = await testApp(t)
  await inTransaction(app.db.prisma, (tx) => seedDefaultPolicy(tx, app.clock))
  const huge = 'The Court Street bridge needs repair. '.repeat(28_000) + 'My SSN is 123-45-6789'
  t.ok(huge.length > 1_000_000)
  t.equal((await deliver(app, 'website', websiteComment(huge))).statusCode, 200)
  t.equal((await commentByExternal(app, `c-${n}`)).moderationStatus, 'removed')
  t.equal((await deliver(app, 'website', websiteComment(''))).statusCode, 200)
  t.equal((await commentByExternal(app, `c-${n}`)).moderationStatus, 'allowed')
})

t.test('impact: replaying a time range through a draft shows what would change', async (t) => {
  const { app, token } = await testApp(t)
  const { policyId } = await inTransaction(app.db.prisma, (tx) => seedDefaultPolicy(tx, app.clock))
  const from = new Date(Date.now() - 1000).toISOString()
  await deliver(app, 'website', websiteComment('The new parking meters are a scam and a racket'))
  await deliver(app, 'website', websiteComment('Thanks for plowing Elm St so early'))
  const admin = { authorization: `Bearer ${token('tst_admin')}` }
  const draft = (await app.inject({ method: 'POST', url: `/v1/policies/${policyId}/versions`, headers: admin, payload: {} })).json()
  const content = draft.content
  content.rules.push({
    code: '9.z',
    title: 'Test rule',
    sectionText: 'Words the TST is trying out.',
    category: 'other',
    action: 'flag',
    noticeTemplate: 'Rule {ruleCode}: {ruleTitle}. {policyUrl} {appealUrl}',
    matcher: { type: 'terms', terms: ['racket'] },
  })
  t.equal((await app.inject({ method: 'PUT', url: `/v1/policies/${policyId}/versions/${draft.version}`, headers: admin, payload: { content } })).statusCode, 200)
  const impact = await app.inject({
    method: 'POST',
    url: `/v1/policies/${policyId}/versions/${draft.version}/impact`,
    headers: admin,
    payload: { from, to: new Date(Date.now() + 60_000).toISOString() },
  })
  t.equal(impact.statusCode, 200)
  t.match(impact.json(), { evaluated: 2, truncated: false, transitions: { 'allow→flag': 1, 'allow→allow': 1 } })
  t.match(impact.json().changed, [{ text: 'The new parking meters are a scam and a racket', actual: { outcome: 'allow' }, proposed: { outcome: 'flag', matches: [{ ruleCode: '9.z' }] } }])
})
