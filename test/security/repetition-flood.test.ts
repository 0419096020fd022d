import t from 'tap'
import type pg from 'pg'
import { authorHistoriesAndPublishedCount } from '../../src/comments/history.js'
import { inTransaction } from '../../src/db/tx.js'
import { RECENT_VERSIONS_COMPARED } from '../../src/policy/repetition.js'
import { seedDefaultPolicy } from '../../src/policy/seed.js'
import { DeliveryWriter, LARGE_DELIVERY_BYTES, type WriteGroup } from '../../src/webhooks/delivery-writer.js'
import type { DeliveryToStore, IngestResult } from '../../src/webhooks/ingest.js'
import { testApp } from '../helpers/app.js'
import { deliver } from '../factories/webhooks.js'

// Issue 23, item 6: one author posting 50-comment deliveries of 8,000-character comments made the
// repetition rule compare every new comment with all of their recent full texts, so each delivery
// took longer than the last and other authors' comments waited behind them. The rule now compares
// a bounded fingerprint of at most K of the author's most recent versions (docs/policy.md), and it
// still catches repeats. Everything here goes through the webhook route, as production runs it.

/** A deterministic ~8,000-character comment of ordinary words, different for every seed. */
function longComment(seed: number, length = 8000): string {
  let x = seed * 2654435761 + 1
  const next = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32)
  const words = ['the', 'council', 'bridge', 'budget', 'parking', 'garage', 'water', 'rates', 'school', 'library', 'police', 'road', 'repair', 'vote', 'meeting', 'taxes', 'park', 'trees', 'snow', 'plow', 'street', 'lights', 'permit', 'zoning', 'housing', 'noise', 'trash', 'pickup', 'sidewalk', 'crossing']
  let s = ''
  while (s.length < length) s += words[Math.floor(next() * words.length)] + (next() < 0.08 ? `${Math.floor(next() * 1000)}. ` : ' ')
  return s.slice(0, length)
}

let n = 0
function websiteDelivery(comments: Array<{ text: string; author: string; at: Date }>): string {
  return JSON.stringify({
    events: comments.map(({ text, author, at }) => {
      n++
      return {
        id: `flood-evt-${n}`,
        type: 'comment.created',
        commentId: `flood-${n}`,
        pageUrl: 'https://www.citykankakee-il.gov/news/road-work',
        author: { id: author, name: 'Resident' },
        text,
        occurredAt: at.toISOString(),
      }
    }),
  })
}

t.test("a flooding author's long history: repeats are still removed, and each new comment is compared with at most K of their versions", async (t) => {
  const { app } = await testApp(t)
  await inTransaction(app.db.prisma, (tx) => seedDefaultPolicy(tx, app.clock))
  // 300 different 8,000-character comments in 6 deliveries of 50, one second apart, all inside the
  // default policy's 10-minute window (rule 4.g: 3 same or similar comments remove).
  const start = Date.now()
  let second = 0
  const at = () => new Date(start + 1000 * second++)
  for (let d = 0; d < 6; d++) {
    const body = websiteDelivery(Array.from({ length: 50 }, (_, i) => ({ text: longComment(d * 50 + i), author: 'flooder', at: at() })))
    const res = await deliver(app, 'website', body)
    t.equal(res.statusCode, 200, `delivery ${d + 1} of 50 long comments is accepted`)
  }
  const removedBefore = await app.db.prisma.moderationDecision.count({ where: { automatic: true } })
  t.equal(removedBefore, 0, 'different long comments are not repeats')

  // The history the rule is given for the author's next comment: the K most recent of 300.
  const read = await inTransaction(app.db.prisma, (tx) =>
    authorHistoriesAndPublishedCount(tx, [{ commentId: '00000000-0000-0000-0000-000000000000', externalId: 'next', platform: 'website', authorId: 'flooder', platformTime: at(), windowMs: 600_000, limit: RECENT_VERSIONS_COMPARED }]),
  )
  t.equal(read.histories[0]!.length, RECENT_VERSIONS_COMPARED, `the statement returns the ${RECENT_VERSIONS_COMPARED} most recent versions, not all 300`)
  t.ok(read.histories[0]!.every((h) => h.fingerprint.hashes.length <= 256), 'each as a fingerprint of at most 256 values, not its text')

  // A short repeat, three times in separate deliveries: the third is removed.
  const status = async () => (await app.db.prisma.comment.findFirstOrThrow({ where: { externalId: `flood-${n}` } })).moderationStatus
  const statuses: string[] = []
  for (let i = 0; i < 3; i++) {
    await deliver(app, 'website', websiteDelivery([{ text: 'Visit my page for the best deals on gutters in town', author: 'flooder', at: at() }]))
    statuses.push(await status())
  }
  t.same(statuses, ['allowed', 'allowed', 'removed'], 'the third near-identical short post is removed')

  // A long repeat: the last flood comment again, with a few words changed, twice more.
  const long = longComment(299)
  const edited = (k: number) => long.slice(0, 4000) + ` the council should act ${k} ` + long.slice(4030)
  await deliver(app, 'website', websiteDelivery([{ text: edited(1), author: 'flooder', at: at() }]))
  t.equal(await status(), 'allowed', 'the second copy of a long comment is allowed')
  await deliver(app, 'website', websiteDelivery([{ text: edited(2), author: 'flooder', at: at() }]))
  t.equal(await status(), 'removed', 'the third near-identical long comment is removed')

  // Another author is not part of the flood.
  await deliver(app, 'website', websiteDelivery([{ text: 'Visit my page for the best deals on gutters in town', author: 'neighbour', at: at() }]))
  t.equal(await status(), 'allowed', "another author's single post is allowed")
})

/** As the owner, with the append-only guard off for one statement (what no role of the service can do). */
async function tamper(pool: pg.Pool, statement: string): Promise<void> {
  const client = await pool.connect()
  try {
    await client.query('BEGIN')
    await client.query('ALTER TABLE comment_event DISABLE TRIGGER comment_event_no_change')
    await client.query(statement)
    await client.query('ALTER TABLE comment_event ENABLE TRIGGER comment_event_no_change')
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK')
    throw error
  } finally {
    client.release()
  }
}

t.test('versions are stored with their fingerprint; one stored without (before it existed) is compared by its text; it goes with the text', async (t) => {
  const { app, ownerPool } = await testApp(t)
  await inTransaction(app.db.prisma, (tx) => seedDefaultPolicy(tx, app.clock))
  const start = Date.now()
  const text = 'Visit my page for the best deals on gutters in town'
  await deliver(app, 'website', websiteDelivery([{ text, author: 'spammer', at: new Date(start) }]))
  const fingerprints = async () => (await ownerPool().query<{ f: Buffer | null }>('SELECT repetition_fingerprint AS f FROM comment_event ORDER BY platform_time')).rows.map((r) => r.f)
  const [stored] = await fingerprints()
  t.ok(stored && stored.length > 9, 'the version is stored with its fingerprint')
  await t.rejects(app.db.pool.query('UPDATE comment_event SET repetition_fingerprint = NULL'), { code: '42501' }, 'the service cannot change it')

  // Rows stored before the column existed have none (no backfill): the rule reads their text.
  await tamper(ownerPool(), 'UPDATE comment_event SET repetition_fingerprint = NULL')
  await deliver(app, 'website', websiteDelivery([{ text, author: 'spammer', at: new Date(start + 60_000) }]))
  await deliver(app, 'website', websiteDelivery([{ text, author: 'spammer', at: new Date(start + 120_000) }]))
  const last = await app.db.prisma.comment.findFirstOrThrow({ where: { externalId: `flood-${n}` } })
  t.equal(last.moderationStatus, 'removed', 'the third copy is removed, the first counted from its text')

  // Destroying a text (as a disposal does) destroys its fingerprint: it is derived from the text.
  const before = await fingerprints()
  t.same(before.map((f) => f !== null), [false, true, true])
  await tamper(ownerPool(), 'UPDATE comment_event SET text = NULL WHERE repetition_fingerprint IS NOT NULL')
  t.same(await fingerprints(), [null, null, null], 'no fingerprint outlives its text')
})

t.test("large deliveries cannot hold every writer: a small delivery is written while large ones wait", async (t) => {
  // Two writers (the default). A flooding sender's large deliveries get at most one of them; the
  // other takes the small deliveries that arrive behind them. Structural: which groups are written.
  const started: string[][] = []
  const releases: Array<() => void> = []
  const write: WriteGroup = (group) => {
    started.push(group.map((d) => d.delivery.headers.name!))
    return new Promise((resolve) => releases.push(() => resolve(group.map(() => ({}) as IngestResult))))
  }
  const writer = new DeliveryWriter(write, { writers: 2, maxGroupEvents: 2000 }, () => false)
  const submit = (name: string, bytes: number) =>
    writer.submit({ delivery: { source: 'meta', body: Buffer.alloc(bytes), headers: { name }, signatureVariant: 'standard' }, normalized: { events: [], skipped: [] } as unknown as DeliveryToStore['normalized'] })
  const large = LARGE_DELIVERY_BYTES + 1
  const answered = [submit('flood-1', large), submit('flood-2', large), submit('flood-3', large), submit('single', 300)]
  t.same(started, [['flood-1'], ['single']], "the second writer takes the other sender's delivery, not the flood's next one")
  while (releases.length > 0) {
    releases.shift()!()
    await new Promise((resolve) => setImmediate(resolve))
  }
  t.equal((await Promise.all(answered)).length, 4, 'the large deliveries are written too, in turn')
  t.same(started.slice(2).flat().sort(), ['flood-2', 'flood-3'])
  await writer.idle()
})

t.test('a small delivery is never written in a large one\'s transaction', async (t) => {
  // Group commit takes what waits; if it took a flood delivery and the small ones behind it
  // together, each small one would wait for the whole large transaction (the others' p99 under a
  // flood, docs/performance.md phase f).
  const started: string[][] = []
  const releases = new Map<string, () => void>()
  const write: WriteGroup = (group) => {
    const names = group.map((d) => d.delivery.headers.name!)
    started.push(names)
    return new Promise((resolve) => releases.set(names[0]!, () => resolve(group.map(() => ({}) as IngestResult))))
  }
  const writer = new DeliveryWriter(write, { writers: 2, maxGroupEvents: 2000 }, () => false)
  const submit = (name: string, bytes: number) =>
    writer.submit({ delivery: { source: 'meta', body: Buffer.alloc(bytes), headers: { name }, signatureVariant: 'standard' }, normalized: { events: [], skipped: [] } as unknown as DeliveryToStore['normalized'] })
  const large = LARGE_DELIVERY_BYTES + 1
  const tick = () => new Promise((resolve) => setImmediate(resolve))
  const answered = [submit('single-1', 300), submit('flood-1', large), submit('flood-2', large), submit('single-2', 300), submit('single-3', 300)]
  t.same(started, [['single-1'], ['flood-1']])
  releases.get('flood-1')!()
  await tick()
  t.same(started[2], ['flood-2'], 'the next large delivery is written alone, not with the small ones queued behind it')
  releases.get('single-1')!()
  await tick()
  t.same(started[3], ['single-2', 'single-3'], 'the small ones are a group of their own')
  releases.get('flood-2')!()
  releases.get('single-2')!()
  t.equal((await Promise.all(answered)).length, 5)
  await writer.idle()
})
