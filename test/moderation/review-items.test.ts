import { randomUUID } from 'node:crypto'
import t from 'tap'
import { inPgTransaction } from '../../src/db/sql.js'
import { inTransaction } from '../../src/db/tx.js'
import { openReviewItem, openReviewItems, type ReviewItemInput } from '../../src/moderation/queue.js'
import { testApp } from '../helpers/app.js'
import { deliver, metaBatch } from '../factories/webhooks.js'

// openReviewItems (one INSERT for a delivery's items) must leave exactly what openReviewItem, called
// once per item in the same order, leaves: one open item per comment, the last item's fields, and
// the latest policy version given (or the open item's).

t.test('items opened in one statement end as they would one by one', async (t) => {
  const { app } = await testApp(t)
  // Four comments, each with an open `unevaluated` item (no policy is published).
  await deliver(app, 'meta', metaBatch(4, { firstId: 100 }))
  const comments = await app.db.prisma.comment.findMany({ orderBy: { externalId: 'asc' } })
  const [a, b, c, d] = comments.map((x) => x.id) as [string, string, string, string]
  // c and d start without an open item.
  await app.db.prisma.reviewItem.updateMany({ where: { commentId: { in: [c, d] } }, data: { status: 'closed', closedAt: new Date() } })

  const p1 = randomUUID()
  const p2 = randomUUID()
  const events = Array.from({ length: 3 }, () => randomUUID())
  const sequence = (commentId: string): ReviewItemInput[] => [
    { commentId, eventId: events[0]!, policyVersionId: p1, ruleCodes: ['4.e'], evidence: [{ ruleCode: '4.e' }], reason: 'flagged' },
    { commentId, eventId: events[1]!, policyVersionId: p2, ruleCodes: ['4.a', '4.b'], evidence: [{ ruleCode: '4.a' }], reason: 'flagged' },
    { commentId, eventId: events[2]!, policyVersionId: null, ruleCodes: [], evidence: [], reason: 'unevaluated' },
  ]
  const now = new Date('2026-01-01T00:00:00Z')
  // a (open item) and c (none): one by one, through Prisma. b (open item) and d (none): in one statement, on pg.
  await inTransaction(app.db.prisma, async (tx) => {
    for (const item of [...sequence(a), ...sequence(c)]) await openReviewItem(tx, item, now)
  })
  await inPgTransaction(app.db.pool, (sql) => openReviewItems(sql, [...sequence(b), ...sequence(d)], now))

  const open = async (commentId: string) => {
    const items = await app.db.prisma.reviewItem.findMany({ where: { commentId, status: 'open' }, omit: { id: true, commentId: true, createdAt: true } })
    t.equal(items.length, 1, 'one open item per comment')
    return items[0]
  }
  t.same(await open(b), await open(a), 'an open item updated by several items')
  t.same(await open(d), await open(c), 'a new item, then updated')
  t.match(await open(d), { eventId: events[2], policyVersionId: p2, reason: 'unevaluated', ruleCodes: [] })
})
