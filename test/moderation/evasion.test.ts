// Evasions delivered through the real webhook route, with the service connected as the runtime
// login role (test/helpers/app.ts): the decision, the review item and the stored evaluation are
// those the evaluation corpus expects, and each evaluation records the evaluator that made it.
import t from 'tap'
import { inTransaction } from '../../src/db/tx.js'
import { EVALUATOR_VERSION } from '../../src/policy/evaluate.js'
import { seedDefaultPolicy } from '../../src/policy/seed.js'
import { testApp } from '../helpers/app.js'
import { deliver } from '../factories/webhooks.js'

let n = 0
function websiteComment(text: string) {
  n++
  return {
    externalId: `evasion-${n}`,
    body: JSON.stringify({
      events: [
        {
          id: `evt-evasion-${n}`,
          type: 'comment.created',
          commentId: `evasion-${n}`,
          pageUrl: 'https://www.citykankakee-il.gov/news/snow-routes',
          author: { id: `resident-${n}`, name: `Resident ${n}` },
          text,
          occurredAt: new Date().toISOString(),
        },
      ],
    }),
  }
}

t.test('evasions delivered by webhook are removed or held, ordinary comments allowed', async (t) => {
  const { app } = await testApp(t)
  await inTransaction(app.db.prisma, (tx) => seedDefaultPolicy(tx, app.clock))

  const cases: Array<{ text: string; status: string; rule: string | null; technique: string | null }> = [
    { text: 'f u c k y o u and your snow routes', status: 'removed', rule: '4.a', technique: 'spaced letters' },
    { text: 'If you plow my car in again I will k i l l you', status: 'removed', rule: '4.b', technique: 'spaced letters' },
    { text: '#FuckTheCouncil', status: 'removed', rule: '4.a', technique: 'camel case' },
    { text: 'what a \u202etihs\u202c show', status: 'removed', rule: '4.a', technique: 'right-to-left override' },
    { text: 'fuuuuck the parking meters', status: 'removed', rule: '4.a', technique: 'repeated letters' },
    { text: 'fu<k this', status: 'removed', rule: '4.a', technique: 'masked letters' },
    { text: 'The plow driver lives there, email jane.doe [at] example [dot] com', status: 'flagged', rule: '4.e', technique: 'obfuscated' },
    { text: 'Scunthorpe sent a cocktail recipe and an assassin bug. Soooo nice.', status: 'allowed', rule: null, technique: null },
  ]
  const sent = []
  for (const c of cases) {
    const { externalId, body } = websiteComment(c.text)
    t.equal((await deliver(app, 'website', body)).statusCode, 200, c.text)
    sent.push({ ...c, externalId })
  }

  for (const c of sent) {
    const comment = await app.db.prisma.comment.findFirstOrThrow({ where: { externalId: c.externalId } })
    t.equal(comment.moderationStatus, c.status, c.text)
    const evaluation = await app.db.prisma.commentEvaluation.findFirstOrThrow({ where: { commentId: comment.id } })
    t.equal(evaluation.evaluator, EVALUATOR_VERSION, `${c.text}: the evaluation records its evaluator`)
    if (c.status === 'removed') {
      const decision = await app.db.prisma.moderationDecision.findFirstOrThrow({ where: { commentId: comment.id } })
      t.match(decision, { automatic: true, action: 'remove' }, c.text)
      t.ok(decision.ruleCodes.includes(c.rule!), `${c.text}: removed under ${c.rule}`)
      // The ledger's decision cites the evidence with the technique that found it.
      const entry = await app.db.prisma.ledgerEntry.findUniqueOrThrow({ where: { id: decision.ledgerEntryId } })
      const payload = JSON.parse(entry.payload!) as { evidence: Array<{ ruleCode: string; evidence: Array<{ detail: string }> }> }
      const cited = payload.evidence.find((m) => m.ruleCode === c.rule)!.evidence
      t.ok(cited.some((e) => e.detail.includes(c.technique!)), `${c.text}: the ledger names ${c.technique}`)
    } else if (c.status === 'flagged') {
      const item = await app.db.prisma.reviewItem.findFirstOrThrow({ where: { commentId: comment.id } })
      t.match(item, { status: 'open', ruleCodes: [c.rule] }, c.text)
      t.equal(await app.db.prisma.moderationDecision.count({ where: { commentId: comment.id } }), 0, 'a flag decides nothing by itself')
    } else {
      t.equal(evaluation.outcome, 'allow', c.text)
    }
  }
})
