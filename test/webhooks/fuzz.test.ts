// Property: whatever Unicode, nesting and sizes a signed delivery carries, the route never answers
// 5xx, acknowledges only what it stored, stores every comment's text exactly as sent or not at
// all (with a skip naming it), and archives the exact bytes. Random inputs by fast-check, through
// the real route and PostgreSQL; V8's String.prototype.isWellFormed is the oracle for surrogates.
import fc from 'fast-check'
import t from 'tap'
import { deliver } from '../factories/webhooks.js'
import { testApp } from '../helpers/app.js'

const isWellFormed = (s: string) => (s as unknown as { isWellFormed(): boolean }).isWellFormed()
/** What PostgreSQL text can hold, decided without the code under test. */
const keepable = (s: string | null) => s === null || (isWellFormed(s) && !s.includes('\u0000'))

// Any UTF-16 code unit (lone surrogates and U+0000 included), weighted towards the interesting ones.
const unit = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) },
  { weight: 1, arbitrary: fc.constantFrom('\u0000', '\ud800', '\udbff', '\udc00', '\udfff', '😀', 'é', '"', '\\', '\u202e') },
)
const text = fc.string({ unit, maxLength: 60 })
const nested = fc.integer({ min: 0, max: 200 }).map((depth) => JSON.parse('['.repeat(depth) + ']'.repeat(depth) || 'null') as unknown)

const comment = fc.record({
  text,
  name: fc.option(text, { nil: null }),
  extra: fc.oneof(fc.jsonValue({ maxDepth: 4 }), nested),
})

t.test('random signed website deliveries: no 5xx, nothing acknowledged that is not stored, no text altered', async (t) => {
  const { app } = await testApp(t)
  let run = 0
  await fc.assert(
    fc.asyncProperty(fc.array(comment, { minLength: 1, maxLength: 4 }), async (comments) => {
      run++
      const events = comments.map((c, i) => ({
        id: `evt-${run}-${i}`,
        type: 'comment.created',
        commentId: `c-${run}-${i}`,
        pageUrl: 'https://www.citykankakee-il.gov/news/road-work',
        author: { id: `u-${run}-${i}`, name: c.name },
        text: c.text,
        occurredAt: new Date().toISOString(),
        extra: c.extra,
      }))
      const body = Buffer.from(JSON.stringify({ events }))
      const res = await deliver(app, 'website', body)
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}: ${res.body}`)
      const receipt = res.json() as { deliveryId: string; accepted: number }
      const expected = comments.map((c, i) => ({ id: `c-${run}-${i}`, text: c.text, keep: keepable(c.text) && keepable(c.name) }))
      if (receipt.accepted !== expected.filter((e) => e.keep).length) throw new Error(`accepted ${receipt.accepted}`)

      const stored = await app.db.pool.query<{ external_id: string; text: string }>(
        `SELECT c.external_id, e.text FROM comment c JOIN comment_event e ON e.comment_id = c.id WHERE c.external_id = ANY($1)`,
        [expected.map((e) => e.id)],
      )
      const byId = new Map(stored.rows.map((r) => [r.external_id, r.text]))
      for (const e of expected) {
        if (e.keep && byId.get(e.id) !== e.text) throw new Error(`${e.id}: stored ${JSON.stringify(byId.get(e.id))}, sent ${JSON.stringify(e.text)}`)
        if (!e.keep && byId.has(e.id)) throw new Error(`${e.id} was stored though PostgreSQL cannot keep its text`)
      }
      const delivery = await app.db.pool.query<{ body: Buffer; skipped: Array<{ reason: string }> }>('SELECT body, skipped FROM webhook_delivery WHERE id = $1', [receipt.deliveryId])
      if (!delivery.rows[0]!.body.equals(body)) throw new Error('the archived bytes differ')
      for (const e of expected.filter((x) => !x.keep)) {
        if (!delivery.rows[0]!.skipped.some((s) => s.reason.includes(`comment ${e.id} not stored`))) throw new Error(`no skip names ${e.id}`)
      }
    }),
    { numRuns: 60, seed: Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31) },
  )
  t.pass(`${run} random deliveries`)
})
