import { EventKeySecret } from '../../src/webhooks/event-keys.js'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import t from 'tap'
import { inPgTransaction } from '../../src/db/sql.js'
import { isDatabaseUnavailable } from '../../src/plugins/errors.js'
import { DeliveryWriter, type WriteGroup } from '../../src/webhooks/delivery-writer.js'
import { ingestDeliveries, ingestDelivery, type DeliveryToStore } from '../../src/webhooks/ingest.js'
import { platformAdapters } from '../../src/webhooks/platforms/index.js'
import { testApp } from '../helpers/app.js'
import { deliver, metaChanges } from '../factories/webhooks.js'

// Group commit (src/webhooks/delivery-writer.ts): deliveries that arrive together are stored in
// one transaction by ingestDeliveries. Each must end exactly as if it had been stored alone.

const toStore = (body: Buffer, headers: Record<string, string> = {}): DeliveryToStore => ({
  delivery: { source: 'meta', body, headers, signatureVariant: 'standard' },
  normalized: platformAdapters.meta.normalize(body),
})

const depsOf = (app: FastifyInstance) => ({ clock: app.clock, resolver: app.policy.resolver, maxAttempts: 3, eventKeys: new EventKeySecret() })

async function counts(app: FastifyInstance) {
  const [row] = await app.db.prisma.$queryRaw<Array<Record<string, number>>>`
    SELECT (SELECT count(*)::int FROM webhook_delivery) AS deliveries, (SELECT count(*)::int FROM comment) AS comments,
           (SELECT count(*)::int FROM comment_event) AS events, (SELECT count(*)::int FROM ledger_entry WHERE kind LIKE 'comment.%') AS entries`
  return row!
}

/** Every comment as a reader sees it, without the ids and times that differ between two databases. */
async function projection(app: FastifyInstance) {
  return app.db.prisma.$queryRaw<Array<Record<string, unknown>>>`
    SELECT c.external_id, c.status, c.current_text, c.version_count, c.moderation_status, c.first_platform_at, c.last_platform_at,
           p.external_id AS parent, c.author_id,
           (SELECT array_agg(e.text ORDER BY e.platform_time, e.text) FROM comment_event e WHERE e.comment_id = c.id) AS texts
      FROM comment c LEFT JOIN comment p ON p.id = c.parent_id ORDER BY c.external_id`
}

// A thread whose parts arrive in separate deliveries, some overlapping.
const THREAD = [
  metaChanges([{ id: 'a1' }, { id: 'a2', parent: 'a1' }]),
  // a2 again (the same change), a reply to a1, an edit of a1.
  metaChanges([{ id: 'a2', parent: 'a1' }, { id: 'a3', parent: 'a1' }, { id: 'a1', verb: 'edited', message: 'a1, edited', time: 1767225700 }]),
  // A reply whose parent arrives later in the group.
  metaChanges([{ id: 'b2', parent: 'b1' }]),
  metaChanges([{ id: 'b1' }, { id: 'b1', verb: 'hide', time: 1767225650 }]),
]

t.test('a group of deliveries ends as the same deliveries stored one by one', async (t) => {
  const one = await testApp(t)
  const group = await testApp(t)
  for (const body of THREAD) await inPgTransaction(one.app.db.pool, (sql) => ingestDelivery(sql, toStore(body).delivery, toStore(body).normalized, depsOf(one.app)))
  const results = await inPgTransaction(group.app.db.pool, (sql) => ingestDeliveries(sql, THREAD.map((b) => toStore(b)), depsOf(group.app)))

  t.same(
    results.map((r) => [r.duplicateDelivery, r.accepted, r.duplicates]),
    [
      [false, 2, 0],
      [false, 2, 1],
      [false, 1, 0],
      [false, 2, 0],
    ],
    'each delivery is credited with its own new events; the repeated change is a duplicate of the first',
  )
  t.same(await counts(group.app), await counts(one.app), 'the same deliveries, comments, events and ledger entries')
  t.same(await counts(group.app), { deliveries: 4, comments: 5, events: 7, entries: 7 })
  const stored = await projection(group.app)
  t.same(stored, await projection(one.app), 'every comment reads the same: text, versions, status, parent')
  t.match(
    stored.find((c) => c.external_id === 'b2'),
    { parent: 'b1' },
    'a reply is linked to a parent that arrived in the same group',
  )
  t.match(stored.find((c) => c.external_id === 'b1'), { status: 'hidden_on_platform' })

  // Each delivery of the group keeps its own exact bytes, whatever its place in the statement.
  const bodies = await group.app.db.prisma.$queryRaw<Array<{ id: string; body: Uint8Array }>>`SELECT id::text, body FROM webhook_delivery`
  t.equal(bodies.length, THREAD.length)
  for (const [i, body] of THREAD.entries()) {
    t.same(Buffer.from(bodies.find((b) => b.id === results[i]!.deliveryId)!.body), body, `delivery ${i + 1}: its exact bytes`)
  }

  // Each event and its ledger entry name the delivery that carried it.
  const carried = await group.app.db.prisma.$queryRaw<Array<{ delivery_id: string; entry_delivery: string; external_id: string }>>`
    SELECT e.delivery_id::text, l.payload::jsonb->>'deliveryId' AS entry_delivery, c.external_id
      FROM comment_event e JOIN comment c ON c.id = e.comment_id JOIN ledger_entry l ON l.id = e.ledger_entry_id`
  t.equal(carried.length, 7)
  for (const row of carried) t.equal(row.entry_delivery, row.delivery_id, `${row.external_id}: the entry names its event's delivery`)
  const deliveryOf = (externalId: string) => carried.filter((r) => r.external_id === externalId).map((r) => r.delivery_id)
  t.same(deliveryOf('a2'), [results[0]!.deliveryId], 'the repeated change belongs to the delivery that brought it first')
  t.same(deliveryOf('a3'), [results[1]!.deliveryId])
})

t.test('the same body twice in a group, and a body stored before: stored once, each answered with the stored delivery', async (t) => {
  const { app } = await testApp(t)
  const old = metaChanges([{ id: 'old' }])
  const [first] = await inPgTransaction(app.db.pool, (sql) => ingestDeliveries(sql, [toStore(old)], depsOf(app)))
  const fresh = metaChanges([{ id: 'new-1' }, { id: 'new-2' }])
  const results = await inPgTransaction(app.db.pool, (sql) => ingestDeliveries(sql, [toStore(fresh), toStore(old), toStore(fresh)], depsOf(app)))
  t.match(results[0], { duplicateDelivery: false, accepted: 2, duplicates: 0 })
  t.same(results[1], { deliveryId: first!.deliveryId, duplicateDelivery: true, accepted: 0, duplicates: 1, skipped: 0, newEvents: [] }, 'the body stored before: its delivery')
  t.same(results[2], { deliveryId: results[0]!.deliveryId, duplicateDelivery: true, accepted: 0, duplicates: 2, skipped: 0, newEvents: [] }, 'the second copy: the first copy’s delivery')
  t.same(await counts(app), { deliveries: 2, comments: 3, events: 3, entries: 3 })
})

/** A writer over the app's pool that holds its first group until `release()`, so the next deliveries queue behind it. */
function heldWriter(app: FastifyInstance, options: { writers?: number; maxGroupEvents?: number } = {}) {
  let release!: () => void
  const held = new Promise<void>((resolve) => (release = resolve))
  let groups = 0
  const sizes: number[] = []
  const write: WriteGroup = async (group) => {
    sizes.push(group.length)
    if (groups++ === 0) await held
    return inPgTransaction(app.db.pool, (sql) => ingestDeliveries(sql, group, depsOf(app)))
  }
  const writer = new DeliveryWriter(write, { writers: options.writers ?? 1, maxGroupEvents: options.maxGroupEvents ?? 2000 }, isDatabaseUnavailable)
  return { writer, release, sizes }
}

t.test('deliveries that arrive while a group is written are stored together, each answered after its commit', async (t) => {
  const { app } = await testApp(t)
  const { writer, release, sizes } = heldWriter(app, { maxGroupEvents: 5 })
  const bodies = Array.from({ length: 7 }, (_, i) => metaChanges([{ id: `g${i}-a` }, { id: `g${i}-b` }]))
  const visibleAtAnswer: number[] = []
  const answers = bodies.map((b) =>
    writer.submit(toStore(b)).then(async (result) => {
      // Read on another connection the moment the delivery is answered: it must be committed.
      const [row] = await app.db.prisma.$queryRaw<Array<{ n: number }>>`SELECT count(*)::int AS n FROM webhook_delivery WHERE id = ${result.deliveryId}::uuid`
      visibleAtAnswer.push(row!.n)
      return result
    }),
  )
  t.same(writer.stats(), { groups: 0, deliveries: 0, largestGroup: 0, groupsRetriedAlone: 0, queued: 6 }, 'the first is being written; the others wait')
  release()
  const results = await Promise.all(answers)
  t.same(sizes, [1, 2, 2, 2], 'groups of at most 5 events, in arrival order')
  t.same(results.map((r) => r.accepted), [2, 2, 2, 2, 2, 2, 2])
  t.same(visibleAtAnswer, [1, 1, 1, 1, 1, 1, 1], 'every delivery was committed when it was answered')
  t.same(writer.stats(), { groups: 4, deliveries: 7, largestGroup: 2, groupsRetriedAlone: 0, queued: 0 })
  t.same(await counts(app), { deliveries: 7, comments: 14, events: 14, entries: 14 })
  await writer.idle()
})

t.test('a delivery the database refuses fails alone; the rest of its group is stored', async (t) => {
  const { app, ownerPool } = await testApp(t)
  // A real refusal by PostgreSQL for one delivery, whatever group it is in.
  await ownerPool().query(`
    CREATE FUNCTION refuse_marked_delivery() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.headers->>'x-test' = 'refuse' THEN RAISE EXCEPTION 'refused for the test'; END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER refuse_marked_delivery BEFORE INSERT ON webhook_delivery FOR EACH ROW EXECUTE FUNCTION refuse_marked_delivery()`)
  const { writer, release, sizes } = heldWriter(app)
  const first = writer.submit(toStore(metaChanges([{ id: 'first' }])))
  const group = [
    writer.submit(toStore(metaChanges([{ id: 'ok-1' }]))),
    writer.submit(toStore(metaChanges([{ id: 'bad' }]), { 'x-test': 'refuse' })),
    writer.submit(toStore(metaChanges([{ id: 'ok-2' }, { id: 'ok-1' }]))),
  ]
  release()
  t.match(await first, { accepted: 1 })
  const settled = await Promise.allSettled(group)
  t.same(
    settled.map((s) => s.status),
    ['fulfilled', 'rejected', 'fulfilled'],
  )
  t.match((settled[1] as PromiseRejectedResult).reason, { message: /refused for the test/ })
  t.same(
    settled.flatMap((s) => (s.status === 'fulfilled' ? [[s.value.accepted, s.value.duplicates]] : [])),
    [
      [1, 0],
      [1, 1],
    ],
    'written alone in arrival order: ok-1 is a duplicate in the third delivery',
  )
  t.same(sizes, [1, 3, 1, 1, 1], 'the group of three failed, then each was written alone')
  t.match(writer.stats(), { groups: 3, deliveries: 3, groupsRetriedAlone: 1 })
  const stored = await app.db.prisma.comment.findMany({ select: { externalId: true }, orderBy: { externalId: 'asc' } })
  t.same(stored.map((c) => c.externalId), ['first', 'ok-1', 'ok-2'], 'nothing of the refused delivery')
  t.same(await counts(app), { deliveries: 3, comments: 3, events: 3, entries: 3 })
})

t.test('with the database unreachable, every delivery of the group fails at once, without a retry alone', async (t) => {
  const pool = new pg.Pool({ connectionString: 'postgresql://postgres@127.0.0.1:1/townsquare', connectionTimeoutMillis: 2000 })
  t.teardown(() => pool.end())
  const { app } = await testApp(t)
  let writes = 0
  let release!: () => void
  const held = new Promise<void>((resolve) => (release = resolve))
  const writer = new DeliveryWriter(
    async (group) => {
      if (writes++ === 0) await held
      return inPgTransaction(pool, (sql) => ingestDeliveries(sql, group, depsOf(app)))
    },
    { writers: 1, maxGroupEvents: 100 },
    isDatabaseUnavailable,
  )
  const answers = [1, 2, 3].map((i) => writer.submit(toStore(metaChanges([{ id: `down-${i}` }]))))
  release()
  const settled = await Promise.allSettled(answers)
  t.same(
    settled.map((s) => s.status),
    ['rejected', 'rejected', 'rejected'],
  )
  for (const s of settled) t.ok(isDatabaseUnavailable((s as PromiseRejectedResult).reason), 'the route answers 503 for it')
  t.equal(writes, 2, 'the first alone, then the other two as one group, not retried alone')
  t.match(writer.stats(), { groups: 0, groupsRetriedAlone: 0 })
})

t.test('concurrent deliveries through the route: all answered, counted by the status route', async (t) => {
  const { app, token } = await testApp(t, { env: { INGEST_WRITERS: '1' } })
  const bodies = Array.from({ length: 12 }, (_, i) => metaChanges([{ id: `r${i}` }, { id: `r${i}`, verb: 'edited', message: 'changed', time: 1767225700 }]))
  const receipts = await Promise.all(bodies.map((b) => deliver(app, 'meta', b)))
  t.same(
    receipts.map((r) => [r.statusCode, r.json().accepted]),
    bodies.map(() => [200, 2]),
  )
  const status = await app.inject({ url: '/v1/webhooks/status', headers: { authorization: `Bearer ${token('tst_admin')}` } })
  const { writer } = status.json()
  t.equal(writer.deliveries, 12)
  t.equal(writer.queued, 0)
  t.same(await counts(app), { deliveries: 12, comments: 12, events: 24, entries: 24 })
  const edited = await app.db.prisma.comment.findMany({ where: { versionCount: 2, currentText: 'changed' } })
  t.equal(edited.length, 12, 'each comment holds its edit as current text')
})
