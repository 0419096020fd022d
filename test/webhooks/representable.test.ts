// Never lose a signed delivery to its content (issue 23, item 2): a change PostgreSQL cannot keep
// as text or jsonb (a lone UTF-16 surrogate, U+0000, nesting 10,000 deep) is skipped with its
// reason, the delivery's other changes are stored, its exact bytes are archived, and the platform
// gets 200 for what was stored.
import t from 'tap'
import { deliver, metaBatch, metaChanges } from '../factories/webhooks.js'
import { testApp, type TestApp } from '../helpers/app.js'

async function storedIds(app: TestApp['app']): Promise<string[]> {
  const { rows } = await app.db.pool.query<{ external_id: string }>('SELECT external_id FROM comment ORDER BY external_id')
  return rows.map((r) => r.external_id)
}

async function deliveryDetail(test: TestApp, id: string) {
  const res = await test.app.inject({ url: `/v1/webhooks/deliveries/${id}`, headers: { authorization: `Bearer ${test.token('tst_admin')}` } })
  return res.json() as { body: string; skipped: Array<{ reason: string; raw: unknown }>; eventCount: number; outcome: string }
}

t.test('one lone surrogate in change 500 of a 1,000-change batch: 999 stored, one skipped with its reason, the bytes kept', async (t) => {
  const test = await testApp(t)
  const body = Buffer.from(metaBatch(1000).toString().replace('"message":"Comment 500 about', '"message":"Comment 500 \\ud800 about'))
  const res = await deliver(test.app, 'meta', body)
  t.equal(res.statusCode, 200, 'acknowledged: everything that can be stored was')
  t.match(res.json(), { accepted: 999 })
  const ids = await storedIds(test.app)
  t.equal(ids.length, 999)
  t.notOk(ids.includes('122131676912594941_9000500'), 'the comment holding the surrogate is not stored as altered text')
  const detail = await deliveryDetail(test, res.json().deliveryId)
  t.same(Buffer.from(detail.body, 'base64'), body, 'the exact bytes are archived')
  t.equal(detail.skipped.length, 1)
  t.match(detail.skipped[0], { reason: /122131676912594941_9000500 not stored: \$\.text contains a lone UTF-16 surrogate/, raw: null })
  t.equal((await deliver(test.app, 'meta', body)).statusCode, 200, 'a retry is a duplicate, not an error')
  t.equal((await storedIds(test.app)).length, 999)
})

t.test('an author name with a lone surrogate, a comment with U+0000: each skipped alone', async (t) => {
  const test = await testApp(t)
  const body = metaChanges([{ id: 'ok-1' }, { id: 'nul-1', message: 'before\u0000after' }, { id: 'ok-2' }])
  const res = await deliver(test.app, 'meta', body)
  t.equal(res.statusCode, 200)
  t.same(await storedIds(test.app), ['ok-1', 'ok-2'])
  const detail = await deliveryDetail(test, res.json().deliveryId)
  t.match(detail.skipped, [{ reason: /nul-1 not stored: \$\.text contains U\+0000/ }])

  const author = Buffer.from(metaChanges([{ id: 'ok-3' }, { id: 'name-1' }]).toString().replace(/"name":"Resident"\},"message":"Comment name-1"/, '"name":"Resi\\udc00dent"},"message":"Comment name-1"'))
  const second = await deliver(test.app, 'meta', author)
  t.equal(second.statusCode, 200)
  t.same(await storedIds(test.app), ['ok-1', 'ok-2', 'ok-3'])
  t.match((await deliveryDetail(test, second.json().deliveryId)).skipped, [{ reason: /name-1 not stored: \$\.author\.name contains a lone UTF-16 surrogate/ }])
})

t.test('a change nested 10,000 deep is skipped without its raw value; the rest is stored', async (t) => {
  const test = await testApp(t)
  const deep = '['.repeat(10_000) + ']'.repeat(10_000)
  const parsed = JSON.parse(metaChanges([{ id: 'ok-1' }, { id: 'ok-2' }]).toString())
  const text = JSON.stringify(parsed).replace('"changes":[', `"changes":[{"field":"ratings","value":{"nested":${deep}}},`)
  const res = await deliver(test.app, 'meta', Buffer.from(text))
  t.equal(res.statusCode, 200)
  t.same(await storedIds(test.app), ['ok-1', 'ok-2'])
  const detail = await deliveryDetail(test, res.json().deliveryId)
  t.equal(detail.skipped.length, 1)
  t.match(detail.skipped[0], { reason: /not kept as JSON \(\$\.value\.nested(\[0\])+ is nested deeper than 64 levels\)/, raw: null })
  t.equal(Buffer.from(detail.body, 'base64').toString(), text, 'the exact bytes are archived')
})

t.test('API bodies: text PostgreSQL cannot keep is a 400 naming where, never a 500', async (t) => {
  const { app } = await testApp(t)
  const appeal = (payload: string) => app.inject({ method: 'POST', url: '/v1/appeals', headers: { 'content-type': 'application/json' }, payload })
  for (const [what, payload, path] of [
    ['a lone surrogate in a statement', '{"reference":"7KQ2M-XR4TB","contact":"a@example.org","statement":"unfair \\ud800"}', 'body:$.statement'],
    ['U+0000 in a key', '{"reference":"7KQ2M-XR4TB","\\u0000":"1"}', 'body:$.\\u0000'],
    ['nesting 10,000 deep', `{"statement":${'['.repeat(10_000)}${']'.repeat(10_000)}}`, /^body:\$\.statement(\[0\])+$/],
  ] as const) {
    const res = await appeal(payload)
    t.equal(res.statusCode, 400, what)
    t.match(res.json(), { type: '/problems/validation', errors: [{ path }] }, what)
  }
})
