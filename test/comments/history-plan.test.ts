import { EventKeySecret } from '../../src/webhooks/event-keys.js'
import t from 'tap'
import { authorHistories } from '../../src/comments/history.js'
import { inPgTransaction, type SqlClient } from '../../src/db/sql.js'
import { ingestDeliveries } from '../../src/webhooks/ingest.js'
import { platformAdapters } from '../../src/webhooks/platforms/index.js'
import { testApp } from '../helpers/app.js'
import { metaBatch } from '../factories/webhooks.js'

// The evaluation reads the history of every author in a group of deliveries at once. Planned as
// one join, a large group read every comment and every event (docs/performance.md, round 7), a
// cost that grows with the archive: each author must stay an index lookup.

interface PlanNode {
  'Node Type': string
  'Relation Name'?: string
  Plans?: PlanNode[]
}

function scans(node: PlanNode): string[] {
  const own = node['Relation Name'] ? [`${node['Node Type']} on ${node['Relation Name']}`] : []
  return [...own, ...(node.Plans ?? []).flatMap(scans)]
}

t.test("a large group's author histories are read through the indexes, not by scanning the archive", async (t) => {
  const { app } = await testApp(t)
  const deps = { clock: app.clock, resolver: app.policy.resolver, maxAttempts: 3, eventKeys: new EventKeySecret() }
  // 4,000 comments by 4,000 authors, with fresh statistics.
  for (let d = 0; d < 80; d++) {
    const body = metaBatch(50, { firstId: d * 50, time: 1767225604 + d * 50 })
    const delivery = { delivery: { source: 'meta' as const, body, headers: {}, signatureVariant: 'standard' }, normalized: platformAdapters.meta.normalize(body) }
    await inPgTransaction(app.db.pool, (sql) => ingestDeliveries(sql, [delivery], deps))
  }
  await app.db.pool.query('ANALYZE comment; ANALYZE comment_event')

  // The next group: 800 comments by authors who posted before.
  const requests = Array.from({ length: 800 }, (_, i) => ({
    commentId: '00000000-0000-4000-8000-' + String(i).padStart(12, '0'),
    externalId: `new-${i}`,
    platform: 'facebook',
    authorId: String(7000000000 + i * 5),
    platformTime: new Date('2026-01-02T00:00:00Z'),
    windowMs: 7 * 24 * 3_600_000,
  }))
  const plans: PlanNode[] = []
  const explaining: SqlClient = {
    async query<R>(statement: string | { text: string }, values: readonly unknown[] = []) {
      const text = typeof statement === 'string' ? statement : statement.text
      const { rows } = await app.db.pool.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${text}`, values as unknown[])
      plans.push(rows[0]!['QUERY PLAN'][0]!.Plan)
      return [] as R[]
    },
  }
  await authorHistories(explaining, requests)
  t.equal(plans.length, 1, 'one statement for the whole group')
  const used = scans(plans[0]!)
  t.notOk(
    used.some((s) => /^Seq Scan on comment(_event)?$/.test(s)),
    `neither comment nor comment_event is scanned whole (plan: ${used.join(', ')})`,
  )
  t.ok(used.some((s) => /Index (Only )?Scan on comment$/.test(s)), 'comments are looked up by author through an index')

  // The same statement, run, still finds each author's earlier comment.
  const histories = await authorHistories(app.db.prisma, requests.slice(0, 3))
  t.same(
    histories.map((h) => h.map((item) => item.text)),
    [0, 5, 10].map((n) => [`Comment ${n} about the Court Street bridge \u00e9t\u00e9`]),
    "each author's earlier comment is their history",
  )
})
