// The review queue pages through HTTP: what a moderator sees, what a decision records, and what is
// refused (another's claim, an edited comment, a missing rule, the wrong role) without a change.
import t, { type Test } from 'tap'
import { inTransaction } from '../../src/db/tx.js'
import { seedDefaultPolicy } from '../../src/policy/seed.js'
import { MarkedText } from '../../src/console/moderation/views.js'
import { deliver, metaChanges } from '../factories/webhooks.js'
import { testApp } from '../helpers/app.js'
import { Jar, csrfOf, get, post, signIn } from '../helpers/console.js'

const HOSTILE = 'Vote <img src=x onerror=alert(1)> & "quote"'

async function queueWithComments(t: Test) {
  const ctx = await testApp(t)
  // A policy in force since before the comments, so rules can be cited.
  await inTransaction(ctx.app.db.prisma, (tx) => seedDefaultPolicy(tx, () => new Date('2025-12-01T00:00:00Z')))
  const res = await deliver(ctx.app, 'meta', metaChanges([{ id: '900_1', message: HOSTILE }, { id: '900_2', message: 'Second comment', author: '7000000002' }]))
  t.equal(res.statusCode, 200)
  // Whatever evaluation did, every comment gets an open item for the test (reason: unevaluated).
  const comments = await ctx.app.db.prisma.comment.findMany({ orderBy: { externalId: 'asc' } })
  for (const c of comments) {
    const open = await ctx.app.db.prisma.reviewItem.count({ where: { commentId: c.id, status: 'open' } })
    if (open === 0) {
      const event = await ctx.app.db.prisma.commentEvent.findFirstOrThrow({ where: { commentId: c.id } })
      await ctx.ownerPool().query(
        `INSERT INTO review_item (id, comment_id, event_id, rule_codes, evidence, reason, status, created_at)
         VALUES (gen_random_uuid(), $1, $2, '{}', '[]', 'unevaluated', 'open', now())`,
        [c.id, event.id],
      )
    }
  }
  return { ...ctx, comments }
}

t.test('a moderator works the queue: sees, claims, decides; the decision is recorded once', async (t) => {
  const { app, ownerPool, comments } = await queueWithComments(t)
  const pat = new Jar()
  await signIn(app, pat, 'Pat', 'tst_moderator')
  const queue = await get(app, pat, '/console/queue')
  t.equal(queue.statusCode, 200)
  t.match(queue.body, 'Vote &lt;img src=x onerror=alert(1)> &amp; &#34;quote&#34;', 'the comment is shown escaped')
  t.notMatch(queue.body, '<img src=x', 'never as markup')
  t.match(queue.body, 'Second comment')
  const logged = await ownerPool().query("SELECT actor, record_ids FROM access_log WHERE action = 'moderation.queue'")
  t.equal(logged.rows.length, 1, 'the read is in the access log')
  t.equal(logged.rows[0].actor, 'user:dev:pat')
  t.equal(logged.rows[0].record_ids.length, 2, 'with the records shown')

  const itemId = /href="\/console\/queue\/([0-9a-f-]{36})"/.exec(queue.body)![1]!
  const page = await get(app, pat, `/console/queue/${itemId}`)
  t.equal(page.statusCode, 200)
  t.match(page.body, 'policy version 1, in force when it was posted')
  t.match(page.body, 'id="rule-4.a"', 'the rules of the version in force can be cited')

  // A removal without a rule: refused with the form kept, nothing recorded.
  const noRule = await post(app, pat, `/console/queue/${itemId}/decision`, { _csrf: csrfOf(page.body), versionId: /name="versionId" value="([^"]+)"/.exec(page.body)![1]!, action: 'remove', note: 'kept text' })
  t.equal(noRule.statusCode, 400)
  t.match(noRule.body, 'Cite at least one rule for a removal')
  t.match(noRule.body, 'kept text', 'what was typed is kept')
  t.match(noRule.body, /id="action-remove"[^>]*checked/, 'the chosen decision is kept')
  t.equal(await app.db.prisma.moderationDecision.count(), 0, 'nothing recorded')

  // Sam claims it; Pat's decision is refused while the claim stands.
  const sam = new Jar()
  await signIn(app, sam, 'Sam', 'tst_admin')
  const samPage = await get(app, sam, `/console/queue/${itemId}`)
  t.equal((await post(app, sam, `/console/queue/${itemId}/claim`, { _csrf: csrfOf(samPage.body), claim: 'claim' })).statusCode, 303)
  const claimed = await get(app, pat, `/console/queue/${itemId}`)
  t.match(claimed.body, 'Claimed by someone else')
  t.match(claimed.body, 'dev:sam')
  const refused = await post(app, pat, `/console/queue/${itemId}/decision`, {
    _csrf: csrfOf(claimed.body),
    versionId: /name="versionId" value="([^"]+)"/.exec(claimed.body)![1]!,
    action: 'remove',
    ruleCodes: '4.a',
  })
  t.equal(refused.statusCode, 409)
  t.match(refused.body, 'claimed by user:dev:sam')
  t.equal(await app.db.prisma.moderationDecision.count(), 0, 'nothing recorded')

  // Sam decides, citing two rules.
  const body = new URLSearchParams({ _csrf: csrfOf(samPage.body), versionId: /name="versionId" value="([^"]+)"/.exec(samPage.body)![1]!, action: 'remove' })
  body.append('ruleCodes', '4.a')
  body.append('ruleCodes', '4.b')
  const decided = await app.inject({ method: 'POST', url: `/console/queue/${itemId}/decision`, headers: { cookie: sam.header(), 'content-type': 'application/x-www-form-urlencoded' }, payload: body.toString() })
  t.equal(decided.statusCode, 303)
  t.equal(decided.headers.location, '/console/queue?decided=1')
  const decisions = await app.db.prisma.moderationDecision.findMany()
  t.equal(decisions.length, 1, 'one decision')
  t.match(decisions[0], { actor: 'user:dev:sam', action: 'remove', ruleCodes: ['4.a', '4.b'], automatic: false })
  t.ok(comments.some((c) => c.id === decisions[0]!.commentId))
  const after = await get(app, sam, '/console/queue?decided=1')
  t.match(after.body, 'Decision recorded')
  const again = await get(app, pat, `/console/queue/${itemId}`)
  t.equal(again.headers.location, '/console/queue?gone=1', 'a decided item says it is gone')
})

t.test('an edit after the item opened: the page shows the new text and the old version cannot be decided', async (t) => {
  const { app } = await queueWithComments(t)
  const jar = new Jar()
  await signIn(app, jar, 'Pat', 'tst_moderator')
  const queue = await get(app, jar, '/console/queue')
  const itemIds = [...queue.body.matchAll(/href="\/console\/queue\/([0-9a-f-]{36})"/g)].map((m) => m[1]!)
  const pages = await Promise.all(itemIds.map((id) => get(app, jar, `/console/queue/${id}`)))
  const index = pages.findIndex((p) => p.body.includes('Second comment'))
  const before = pages[index]!
  await deliver(app, 'meta', metaChanges([{ id: '900_2', verb: 'edited', message: 'Second comment, edited', author: '7000000002', time: 1767225900 }], 1767225950))
  const res = await post(app, jar, `/console/queue/${itemIds[index]}/decision`, {
    _csrf: csrfOf(before.body),
    versionId: /name="versionId" value="([^"]+)"/.exec(before.body)![1]!,
    action: 'approve',
  })
  t.equal(res.statusCode, 409)
  t.match(res.body, 'Second comment, edited', 'the new text is shown')
  t.equal(await app.db.prisma.moderationDecision.count(), 0, 'nothing recorded')
})

t.test('only moderators and administrators open the queue', async (t) => {
  const { app } = await testApp(t)
  const jar = new Jar()
  await signIn(app, jar, 'Robin', 'records_clerk')
  const res = await get(app, jar, '/console/queue')
  t.equal(res.statusCode, 403)
  t.match(res.body, 'Not available to your role')
  const home = await get(app, jar, '/console')
  t.notMatch(home.body, 'Review queue', 'the home page offers only what the role can do')
})

t.test('evidence is marked in the text, and hostile text stays text', async (t) => {
  const text = '<b>bad</b> word here'
  const html = String(MarkedText({ text, evidence: [{ ruleCode: '4.a', start: 11, end: 15 }, { ruleCode: '4.b', start: 12, end: 20 }, { ruleCode: '4.c', start: 30, end: 40 }] }))
  t.match(html, '<span>&lt;b>bad&lt;/b> </span><mark title="Rule 4.a"><span>word</span>')
  t.match(html, '(matched rule 4.a)', 'screen readers hear which rule')
  t.notMatch(html, 'Rule 4.b', 'overlapping evidence is marked once')
  t.notMatch(html, 'Rule 4.c', 'evidence outside the text is ignored')
})
