import t, { type Test } from 'tap'
import { inTransaction } from '../../src/db/tx.js'
import { seedDefaultPolicy } from '../../src/policy/seed.js'
import { testApp } from '../helpers/app.js'
import { startFakePlatform } from '../helpers/fake-platform.js'
import { deliver, fixture } from '../factories/webhooks.js'

async function blocksApp(t: Test) {
  const fake = await startFakePlatform()
  t.teardown(() => fake.close())
  const env = {
    FACEBOOK_GRAPH_URL: fake.baseUrl,
    FACEBOOK_PAGE_ID: '448242228374517',
    FACEBOOK_PAGE_TOKEN: 'fb-page-token',
    WEBSITE_API_URL: fake.baseUrl,
    WEBSITE_API_TOKEN: 'web-token',
  }
  const ctx = await testApp(t, { env })
  await inTransaction(ctx.app.db.prisma, (tx) => seedDefaultPolicy(tx, () => new Date('2025-12-01T00:00:00Z')))
  await deliver(ctx.app, 'meta', fixture('meta-facebook-comment-add.json'))
  await deliver(ctx.app, 'website', fixture('website-comments.json'))
  const admin = ctx.token('tst_admin', 'kchen')
  const post = (url: string, payload: object, token = admin) => ctx.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}` }, payload })
  const get = (url: string, token = admin) => ctx.app.inject({ url, headers: { authorization: `Bearer ${token}` } })
  return { ...ctx, fake, admin, post, get }
}

t.test('a Facebook block through the API: the exact Graph request, the ledger entry, the list', async (t) => {
  const { app, fake, post, get, token, ownerPool } = await blocksApp(t)
  const comment = await app.db.prisma.comment.findFirstOrThrow({ where: { externalId: '122131676912594941_1213590066982748' } })
  const res = await post('/v1/blocks', { platform: 'facebook', authorId: '6543210987654321', method: 'api', ruleCodes: ['4.c'], reason: 'Posted the same advertisement 40 times in a day', commentId: comment.id })
  t.equal(res.statusCode, 201, res.body)
  const block = res.json()
  t.match(block, { platform: 'facebook', account: '448242228374517', authorId: '6543210987654321', authorName: 'Jane Resident', action: 'block', method: 'api', ruleCodes: ['4.c'], actor: 'user:kchen', policyVersion: 1 })
  t.ok(block.policyVersionId, 'the policy version cited, by id and by number')

  t.equal(fake.requests.length, 1, 'one request to the Graph API')
  const sent = fake.requests[0]!
  t.equal(`${sent.method} ${sent.path}`, 'POST /448242228374517/blocked')
  t.equal(sent.body, 'uid=6543210987654321')
  t.equal(sent.headers.authorization, 'Bearer fb-page-token')
  t.equal(sent.headers['content-type'], 'application/x-www-form-urlencoded')

  const entry = (await ownerPool().query(`SELECT kind, subject, actor, payload FROM ledger_entry WHERE id = $1`, [block.ledgerEntryId])).rows[0]
  t.match(entry, { kind: 'account.block', subject: 'account:facebook:6543210987654321', actor: 'user:kchen' })
  const payload = typeof entry.payload === 'string' ? JSON.parse(entry.payload) : entry.payload
  t.match(payload, { method: 'api', ruleCodes: ['4.c'], reason: 'Posted the same advertisement 40 times in a day', policyVersion: 1, platformRequest: { status: 200, request: { method: 'POST' } } })
  t.notMatch(JSON.stringify(payload), /fb-page-token/, 'the token is never recorded')

  // Blocking again is refused and sends nothing.
  fake.reset()
  const again = await post('/v1/blocks', { platform: 'facebook', authorId: '6543210987654321', account: '448242228374517', method: 'api', ruleCodes: ['4.c'], reason: 'again' })
  t.equal(again.statusCode, 409)
  t.match(again.json(), { type: '/problems/already-blocked' })
  t.same(fake.requests, [], 'nothing sent')

  // A clerk reads the list, as JSON and CSV, and searches it.
  const clerk = token('records_clerk', 'clerk')
  const list = await get('/v1/blocks', clerk)
  t.equal(list.statusCode, 200)
  t.match(list.json(), { items: [{ authorId: '6543210987654321', policyVersion: 1 }], nextCursor: null })
  t.equal((await get('/v1/blocks?q=advertisement', clerk)).json().items.length, 1, 'found by words of the reason')
  t.equal((await get('/v1/blocks?q=nobody', clerk)).json().items.length, 0)
  t.equal((await get('/v1/blocks?platform=x', clerk)).json().items.length, 0)
  const csv = await get('/v1/blocks?format=csv', clerk)
  t.equal(csv.statusCode, 200)
  t.match(csv.headers['content-type'], /^text\/csv/)
  const lines = csv.body.trimEnd().split('\r\n')
  t.equal(lines.length, 2)
  t.match(lines[0], /^"platform","account","authorId","authorName","action"/)
  t.match(lines[1], /^"facebook","448242228374517","6543210987654321","Jane Resident","block","api","1","4.c","Posted the same advertisement 40 times in a day","user:kchen"/)
  // Reading the list is logged.
  const logged = (await ownerPool().query(`SELECT action, actor FROM access_log WHERE action = 'blocks.list'`)).rows
  t.ok(logged.length >= 1 && logged.every((r) => r.actor === 'user:clerk'))

  // Unblocking through the API: DELETE on the same edge, then off the list, in the history.
  fake.reset()
  const unblock = await post('/v1/blocks/unblock', { platform: 'facebook', authorId: '6543210987654321', account: '448242228374517', method: 'api', reason: 'Appeal granted' })
  t.equal(unblock.statusCode, 201, unblock.body)
  t.equal(`${fake.requests[0]!.method} ${fake.requests[0]!.path}?${fake.requests[0]!.query}`, 'DELETE /448242228374517/blocked?uid=6543210987654321')
  t.same((await get('/v1/blocks', clerk)).json().items, [])
  const history = (await get('/v1/blocks/history', clerk)).json().items
  t.same(history.map((h: { action: string }) => h.action), ['unblock', 'block'])
  const unblockEntry = (await ownerPool().query(`SELECT kind FROM ledger_entry WHERE id = $1`, [unblock.json().ledgerEntryId])).rows[0]
  t.equal(unblockEntry.kind, 'account.unblock')
  t.equal((await post('/v1/blocks/unblock', { platform: 'facebook', authorId: '6543210987654321', account: '448242228374517', method: 'manual', reason: 'x' })).statusCode, 409, 'not blocked any more')
})

t.test('the website block API, and a platform that refuses: nothing recorded', async (t) => {
  const { app, fake, post, get } = await blocksApp(t)
  fake.respondWith((r) => r.path === '/authors/u-77/block', { status: 500, body: { message: 'down' } })
  const refused = await post('/v1/blocks', { platform: 'website', authorId: 'u-77', account: 'www.example.gov', method: 'api', ruleCodes: ['4.a'], reason: 'Threats' })
  t.equal(refused.statusCode, 502)
  t.match(refused.json(), { type: '/problems/platform-refused', detail: /answered 500/ })
  t.same((await get('/v1/blocks/history')).json().items, [], 'nothing recorded')
  t.equal(await app.db.prisma.accountBlockAction.count(), 0)

  fake.reset()
  const ok = await post('/v1/blocks', { platform: 'website', authorId: 'u-77', account: 'www.example.gov', method: 'api', ruleCodes: ['4.a'], reason: 'Threats' })
  t.equal(ok.statusCode, 201)
  const sent = fake.requests[0]!
  t.equal(`${sent.method} ${sent.path}`, 'POST /authors/u-77/block')
  t.same(JSON.parse(sent.body), { reason: 'Threats' })
  t.equal(sent.headers.authorization, 'Bearer web-token')
})

t.test('a block done in the app is recorded by hand; platforms without an API refuse method api', async (t) => {
  const { app, fake, post, token } = await blocksApp(t)
  const noApi = await post('/v1/blocks', { platform: 'x', authorId: '42', account: 'CityOfExample', method: 'api', ruleCodes: ['4.a'], reason: 'r' })
  t.equal(noApi.statusCode, 422)
  t.match(noApi.json(), { type: '/problems/block-not-by-api', detail: /record it here with method manual/ })

  const manual = await post('/v1/blocks', { platform: 'x', authorId: '42', authorName: 'someone', account: 'CityOfExample', method: 'manual', ruleCodes: ['4.a'], reason: 'Threats in replies', occurredAt: '2026-01-05' })
  t.equal(manual.statusCode, 201, manual.body)
  // A plain date is the start of that day in the city's time zone (America/Chicago, UTC-6 in January).
  t.equal(manual.json().occurredAt, '2026-01-05T06:00:00.000Z')
  t.equal(manual.json().platformRequest, undefined)
  t.same(fake.requests, [], 'nothing sent to X')

  // Dated in the future: refused, nothing recorded.
  const future = await post('/v1/blocks', { platform: 'linkedin', authorId: 'p-1', account: 'org', method: 'manual', ruleCodes: ['4.a'], reason: 'r', occurredAt: '2999-01-01T00:00:00Z' })
  t.equal(future.statusCode, 422)
  t.match(future.json(), { type: '/problems/future-date', errors: [{ path: 'body:$.occurredAt' }] })

  // Bad input changes nothing: no rule, unknown rule, a bad date (the error names the formats).
  t.equal((await post('/v1/blocks', { platform: 'x', authorId: '43', account: 'a', method: 'manual', reason: 'r' })).statusCode, 400)
  t.match((await post('/v1/blocks', { platform: 'x', authorId: '43', account: 'a', method: 'manual', ruleCodes: ['9.z'], reason: 'r' })).json(), { errors: [{ message: 'unknown rule 9.z' }] })
  const badDate = await post('/v1/blocks', { platform: 'x', authorId: '43', account: 'a', method: 'manual', ruleCodes: ['4.a'], reason: 'r', occurredAt: '05/01/2026' })
  t.equal(badDate.statusCode, 400)
  t.match(badDate.json().detail, /YYYY-MM-DD.*ISO 8601 datetime/)
  t.equal(await app.db.prisma.accountBlockAction.count(), 1)

  // Roles: only tst_admin blocks; a moderator, a clerk, admin cannot; anonymous is 401.
  for (const role of ['tst_moderator', 'records_clerk', 'auditor', 'admin'] as const) {
    const res = await post('/v1/blocks', { platform: 'x', authorId: '44', account: 'a', method: 'manual', ruleCodes: ['4.a'], reason: 'r' }, token(role))
    t.equal(res.statusCode, 403, role)
  }
  t.equal((await app.inject({ method: 'POST', url: '/v1/blocks', payload: {} })).statusCode, 401)
  t.equal((await app.inject({ url: '/v1/blocks', headers: { authorization: `Bearer ${token('admin')}` } })).statusCode, 403, 'admin does not read the list')
})

t.test('block rows are append-only, for the runtime role and the owner', async (t) => {
  const { post, ownerPool, runtimeUrl } = await blocksApp(t)
  t.equal((await post('/v1/blocks', { platform: 'x', authorId: '42', account: 'a', method: 'manual', ruleCodes: ['4.a'], reason: 'r' })).statusCode, 201)
  await t.rejects(ownerPool().query(`UPDATE account_block_action SET reason = 'edited'`), /append-only|not allowed|reject|immutable/i)
  await t.rejects(ownerPool().query(`DELETE FROM account_block_action`), /append-only|not allowed|reject|immutable/i)
  const pg = (await import('pg')).default
  const runtime = new pg.Client({ connectionString: runtimeUrl })
  await runtime.connect()
  t.teardown(() => runtime.end())
  await t.rejects(runtime.query(`DELETE FROM account_block_action`), /permission denied|append-only|reject/i)
})

t.test('two blocks of one account at once: one is recorded, the other is refused; the CSV defuses formulas', async (t) => {
  const { app, post, get } = await blocksApp(t)
  const body = { platform: 'x', authorId: '77', account: 'CityOfExample', method: 'manual', ruleCodes: ['4.a'], reason: '=HYPERLINK("http://evil.example","click")' }
  const [a, b] = await Promise.all([post('/v1/blocks', body), post('/v1/blocks', body)])
  t.same([a.statusCode, b.statusCode].sort(), [201, 409])
  t.equal(await app.db.prisma.accountBlockAction.count(), 1)
  const csv = (await get('/v1/blocks?format=csv')).body
  t.match(csv, /"'=HYPERLINK\(""http:\/\/evil\.example"",""click""\)"/, 'a leading = is defused and quotes doubled')
})
