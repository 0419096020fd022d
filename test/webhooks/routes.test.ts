import type { FastifyInstance } from 'fastify'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import type { WebhookSource } from '../../src/webhooks/platforms/index.js'
import { testApp, testConfig } from '../helpers/app.js'
import { deliver, FIXTURE_SOURCES, fixture, metaBatch, signatureHeaders } from '../factories/webhooks.js'

async function counts(app: FastifyInstance) {
  const [row] = await app.db.prisma.$queryRaw<Array<{ deliveries: number; comments: number; events: number; entries: number }>>`
    SELECT (SELECT count(*)::int FROM webhook_delivery) AS deliveries, (SELECT count(*)::int FROM comment) AS comments,
           (SELECT count(*)::int FROM comment_event) AS events, (SELECT count(*)::int FROM ledger_entry) AS entries`
  return row!
}

const EXPECTED_EVENTS: Record<string, number> = {
  'meta-facebook-batch.json': 3,
  'meta-facebook-comment-add.json': 1,
  'meta-facebook-comment-edited.json': 1,
  'meta-facebook-comment-remove.json': 1,
  'meta-instagram-comment.json': 1,
  'x-delete.json': 1,
  'x-reply.json': 1,
  'linkedin-comment.json': 1,
  'website-comments.json': 2,
}

t.test('every fixture is accepted through its signed route, stored once, and redelivery creates nothing', async (t) => {
  const { app, token } = await testApp(t)
  let expectedEvents = 0
  for (const [name, source] of Object.entries(FIXTURE_SOURCES)) {
    const res = await deliver(app, source, fixture(name))
    t.equal(res.statusCode, 200, `${name} accepted`)
    const receipt = res.json()
    t.equal(receipt.duplicateDelivery, false)
    t.equal(receipt.accepted + receipt.duplicates, EXPECTED_EVENTS[name], `${name}: events`)
    expectedEvents += receipt.accepted
  }
  const stored = await counts(app)
  t.equal(stored.deliveries, Object.keys(FIXTURE_SOURCES).length, 'one raw delivery per fixture')
  t.equal(stored.events, expectedEvents)
  t.equal(stored.entries, expectedEvents, 'one ledger entry per new event')

  for (const [name, source] of Object.entries(FIXTURE_SOURCES)) {
    const again = await deliver(app, source, fixture(name))
    t.equal(again.statusCode, 200, `${name} redelivered`)
    t.match(again.json(), { duplicateDelivery: true, accepted: 0 })
  }
  t.same(await counts(app), stored, 'redelivery of every fixture stored nothing')

  const raw = await app.db.prisma.webhookDelivery.findFirst({ where: { source: 'meta' }, orderBy: { receivedAt: 'asc' } })
  t.same(Buffer.from(raw!.body!), fixture('meta-facebook-batch.json'), 'the exact bytes are kept')
  t.match(raw!.headers, { 'x-hub-signature-256': /^sha256=/, 'content-type': 'application/json' })

  const status = await app.inject({ url: '/v1/webhooks/status', headers: { authorization: `Bearer ${token('tst_admin')}` } })
  t.match(status.json().sources.meta, { configured: true, accepted: 5, duplicateDeliveries: 5 })
})

t.test('a Facebook comment, its edit and its removal: versions kept, state current, ledger appended', async (t) => {
  const { app } = await testApp(t)
  for (const name of ['meta-facebook-comment-add.json', 'meta-facebook-comment-edited.json']) await deliver(app, 'meta', fixture(name))
  const comment = await app.db.prisma.comment.findUniqueOrThrow({
    where: { platform_externalId: { platform: 'facebook', externalId: '122131676912594941_1213590066982748' } },
    include: { events: { orderBy: { platformTime: 'asc' } } },
  })
  t.match(comment, {
    account: '448242228374517',
    postId: '448242228374517_122131676912594941',
    authorId: '6543210987654321',
    authorName: 'Jane Resident',
    status: 'active',
    byCity: false,
    versionCount: 2,
    currentText: 'The streetlight on Elm St is out again (third week)',
  })
  t.same(comment.events.map((e) => [e.kind, e.text]), [
    ['created', 'The streetlight on Elm St is out again'],
    ['edited', 'The streetlight on Elm St is out again (third week)'],
  ])
  const entries = await app.db.prisma.ledgerEntry.findMany({ where: { subject: comment.id }, orderBy: { seq: 'asc' } })
  t.same(entries.map((e) => e.kind), ['comment.version', 'comment.version'])
  t.match(JSON.parse(entries[1]!.payload!), { kind: 'edited', text: 'The streetlight on Elm St is out again (third week)', platform: 'facebook', actor: undefined })
  t.equal(entries[0]!.actor, 'platform:facebook')

  await deliver(app, 'meta', fixture('meta-facebook-comment-remove.json'))
  const removed = await app.db.prisma.comment.findUniqueOrThrow({ where: { id: comment.id } })
  t.equal(removed.status, 'deleted_by_author')
  t.equal(removed.currentText, 'The streetlight on Elm St is out again (third week)', 'the text stays retrievable after the author deletes it')
  t.equal(await app.db.prisma.ledgerEntry.count({ where: { subject: comment.id, kind: 'comment.author_deleted' } }), 1)
})

t.test('an edit that arrives before its creation is kept and ordered by platform time', async (t) => {
  const { app } = await testApp(t)
  await deliver(app, 'meta', fixture('meta-facebook-comment-edited.json'))
  let comment = await app.db.prisma.comment.findFirstOrThrow({ where: { externalId: '122131676912594941_1213590066982748' } })
  t.match(comment, { versionCount: 1, currentText: 'The streetlight on Elm St is out again (third week)', authorName: 'Jane Resident' })
  await deliver(app, 'meta', fixture('meta-facebook-comment-add.json'))
  comment = await app.db.prisma.comment.findUniqueOrThrow({ where: { id: comment.id } })
  t.match(comment, { versionCount: 2, currentText: 'The streetlight on Elm St is out again (third week)' }, 'the later edit stays current')
  const events = await app.db.prisma.commentEvent.findMany({ where: { commentId: comment.id }, orderBy: { platformTime: 'asc' } })
  t.same(events.map((e) => e.kind), ['created', 'edited'])
  t.equal(comment.firstPlatformAt.toISOString(), '2026-01-01T00:00:04.000Z')
})

t.test('the same change inside two different deliveries is stored once', async (t) => {
  const { app } = await testApp(t)
  const first = await deliver(app, 'meta', metaBatch(2, { firstId: 0 }))
  t.match(first.json(), { accepted: 2, duplicates: 0 })
  const overlapping = await deliver(app, 'meta', metaBatch(3, { firstId: 0 }))
  t.match(overlapping.json(), { duplicateDelivery: false, accepted: 1, duplicates: 2 })
  t.match(await counts(app), { deliveries: 2, comments: 3, events: 3, entries: 3 })
})

t.test("the city's own comment is recorded as the city's", async (t) => {
  const { app } = await testApp(t)
  const page = '448242228374517'
  const body = JSON.stringify({
    object: 'page',
    entry: [{ id: page, time: 1767225700, changes: [{ field: 'feed', value: { from: { id: page, name: 'City of Kankakee' }, message: 'Thanks, crews are on the way.', post_id: `${page}_1`, comment_id: '1_555', parent_id: '1_444', created_time: 1767225700, item: 'comment', verb: 'add' } }] }],
  })
  t.equal((await deliver(app, 'meta', body)).statusCode, 200)
  const comment = await app.db.prisma.comment.findFirstOrThrow({ where: { externalId: '1_555' } })
  t.equal(comment.byCity, true)
  t.equal(await app.db.prisma.ledgerEntry.count({ where: { subject: comment.id } }), 1, 'still a public record')
})

t.test('refused deliveries: 401, nothing stored, counted per platform', async (t) => {
  const { app, token } = await testApp(t)
  const cases: Array<[string, WebhookSource, Buffer, Record<string, string>]> = []
  for (const [name, source] of Object.entries(FIXTURE_SOURCES)) {
    const body = fixture(name)
    const good = signatureHeaders(source, body)
    const headerName = Object.keys(good)[0]!
    const wrong = signatureHeaders(source, Buffer.concat([body, Buffer.from(' ')]))
    const reserialized = Buffer.from(JSON.stringify(JSON.parse(body.toString('utf8')), null, 1))
    cases.push([`${name}: wrong signature`, source, body, wrong])
    cases.push([`${name}: signature over re-serialized JSON`, source, body, signatureHeaders(source, reserialized)])
    cases.push([`${name}: missing header`, source, body, {}])
    cases.push([`${name}: malformed header`, source, body, { [headerName]: 'sha256=zz' }])
  }
  const websiteBody = fixture('website-comments.json')
  cases.push(['website: expired timestamp', 'website', websiteBody, signatureHeaders('website', websiteBody, new Date(Date.now() - 301_000))])
  for (const [what, source, body, headers] of cases) {
    const res = await deliver(app, source, body, headers)
    t.equal(res.statusCode, 401, what)
    t.match(res.json(), { type: '/problems/invalid-signature', status: 401 }, what)
  }
  t.same(await counts(app), { deliveries: 0, comments: 0, events: 0, entries: 0 }, 'nothing stored')
  const status = (await app.inject({ url: '/v1/webhooks/status', headers: { authorization: `Bearer ${token('tst_moderator')}` } })).json()
  const refused = (s: WebhookSource) => Object.values(status.sources[s].rejected as Record<string, number>).reduce((a, b) => a + b, 0)
  t.equal(refused('meta'), 20)
  t.equal(refused('x'), 8)
  t.equal(refused('linkedin'), 4)
  t.equal(refused('website'), 5)
  t.equal(status.sources.website.rejected.expired, 1)

  const recent = await deliver(app, 'website', websiteBody, signatureHeaders('website', websiteBody, new Date(Date.now() - 290_000)))
  t.equal(recent.statusCode, 200, 'a website delivery within the replay window is accepted')
})

t.test('a signed but malformed delivery: 400 with the problems, kept in the raw archive', async (t) => {
  const { app, token } = await testApp(t)
  const res = await deliver(app, 'meta', '{"object":"page","entry":"nope"}')
  t.equal(res.statusCode, 400)
  const problem = res.json()
  t.match(problem, { type: '/problems/validation', detail: /kept as delivery [0-9a-f-]{36}/ })
  t.ok(problem.errors.length > 0 && problem.errors.every((e: { path: string }) => e.path.startsWith('body:$')))
  const notJson = await deliver(app, 'x', 'not json at all')
  t.equal(notJson.statusCode, 400)

  const auth = { authorization: `Bearer ${token('tst_admin')}` }
  const list = (await app.inject({ url: '/v1/webhooks/deliveries?outcome=malformed', headers: auth })).json()
  t.equal(list.items.length, 2)
  const id = problem.detail.match(/delivery ([0-9a-f-]{36})/)[1]
  const detail = (await app.inject({ url: `/v1/webhooks/deliveries/${id}`, headers: auth })).json()
  t.match(detail, { source: 'meta', outcome: 'malformed', bodyText: '{"object":"page","entry":"nope"}', eventCount: 0 })
  t.equal(Buffer.from(detail.body, 'base64').toString(), '{"object":"page","entry":"nope"}')
  t.match(await counts(app), { deliveries: 2, comments: 0, events: 0, entries: 0 })
})

t.test('a comment carrying U+0000 is skipped with its reason, the rest stored, the bytes kept; a literal backslash-u text is a comment', async (t) => {
  const { app, token } = await testApp(t)
  const clean = metaBatch(2).toString()
  const withNul = Buffer.from(clean.replace('"message":"Comment 1 about', '"message":"Comment 1\\u0000 about'))
  const res = await deliver(app, 'meta', withNul)
  t.equal(res.statusCode, 200, 'acknowledged: the other comment is stored')
  t.match(res.json(), { accepted: 1 })
  const detail = (await app.inject({ url: `/v1/webhooks/deliveries/${res.json().deliveryId}`, headers: { authorization: `Bearer ${token('tst_admin')}` } })).json()
  t.match(detail, { outcome: 'accepted', eventCount: 1, skipped: [{ reason: /122131676912594941_9000001 not stored: \$\.text contains U\+0000/, raw: null }] }, 'the skip names the comment and why')
  t.same(Buffer.from(detail.body, 'base64'), withNul, 'the exact bytes are kept')
  t.match(await counts(app), { deliveries: 1, comments: 1, events: 1, entries: 1 })

  const literal = Buffer.from(clean.replace('"message":"Comment 1 about', '"message":"Comment 1 \\\\u0000 about'))
  const ok = await deliver(app, 'meta', literal)
  t.equal(ok.statusCode, 200, 'an escaped backslash followed by u0000 is ordinary text')
  const comment = await app.db.prisma.comment.findFirstOrThrow({ where: { externalId: '122131676912594941_9000001' } })
  t.equal(comment.currentText, 'Comment 1 \\u0000 about the Court Street bridge été')
})

t.test('a batch of 1,000 changes is accepted in one delivery; a larger body gets 413', async (t) => {
  const { app } = await testApp(t)
  const batch = metaBatch(1000)
  const res = await deliver(app, 'meta', batch)
  t.equal(res.statusCode, 200)
  t.match(res.json(), { accepted: 1000, duplicates: 0 })
  t.match(await counts(app), { deliveries: 1, comments: 1000, events: 1000, entries: 1000 })
  const comment = await app.db.prisma.comment.findFirstOrThrow({ where: { externalId: '122131676912594941_9000999' } })
  t.equal(comment.currentText, 'Comment 999 about the Court Street bridge été', 'unicode escapes decoded')

  const tooBig = Buffer.alloc(app.config.webhooks.bodyLimitBytes + 1, 0x20)
  const big = await deliver(app, 'meta', tooBig)
  t.equal(big.statusCode, 413)
  t.match(big.json(), { type: '/problems/body-too-large' })
})

t.test('handshakes are answered as each platform specifies', async (t) => {
  const { app } = await testApp(t)
  const meta = await app.inject({ url: '/v1/webhooks/meta?hub.mode=subscribe&hub.verify_token=test-verify-token&hub.challenge=1158201444' })
  t.equal(meta.statusCode, 200)
  t.equal(meta.body, '1158201444')
  t.match(meta.headers['content-type'], /^text\/plain/)
  const wrongToken = await app.inject({ url: '/v1/webhooks/meta?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1' })
  t.equal(wrongToken.statusCode, 403)
  t.notMatch(wrongToken.body, /guess|test-verify-token/, 'neither token is echoed')

  const crc = await app.inject({ url: '/v1/webhooks/x?crc_token=abc123' })
  t.equal(crc.statusCode, 200)
  t.same(crc.json(), { response_token: 'sha256=qU/eCGihVsFTuKUtEiRGVEy6qaS2WMueqOYk7hYQ2kU=' })

  const li = await app.inject({ url: '/v1/webhooks/linkedin?challengeCode=challenge-1&applicationId=77' })
  t.equal(li.statusCode, 200)
  t.same(li.json(), { challengeCode: 'challenge-1', challengeResponse: '1803a251a826675b23809e4af754cd3cbc226588115a74e076b4d7f595824e00' })
})

t.test('a platform without a configured secret answers 404', async (t) => {
  const { app } = await testApp(t, { env: { X_CONSUMER_SECRET: '', META_APP_SECRET: '', META_VERIFY_TOKEN: '' } })
  t.equal((await app.inject({ url: '/v1/webhooks/x?crc_token=abc' })).statusCode, 404)
  t.equal((await deliver(app, 'x', fixture('x-reply.json'))).statusCode, 404)
  t.equal((await app.inject({ url: '/v1/webhooks/meta?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1' })).statusCode, 404)
  t.equal((await deliver(app, 'meta', fixture('meta-facebook-comment-add.json'))).statusCode, 404)
})

t.test('the database refusing the login, the role or the database name: 503 with Retry-After, not 500', async (t) => {
  const { databaseUrl, runtimeUrl } = await testApp(t)
  const wrong = (change: (url: URL) => void) => {
    const url = new URL(runtimeUrl)
    change(url)
    return url.toString()
  }
  for (const [what, url] of [
    ['a role that does not exist', wrong((u) => (u.username = 'townsquare_no_such_role'))],
    ['a database that does not exist', wrong((u) => (u.pathname = '/townsquare_no_such_database'))],
  ] as const) {
    const app = await buildApp(testConfig({ DATABASE_URL: url, MIGRATION_DATABASE_URL: databaseUrl, LEDGER_SEALER: 'off' }))
    const res = await deliver(app, 'website', fixture('website-comments.json'))
    await app.close()
    t.equal(res.statusCode, 503, `${what}: 503, so the platform retries`)
    t.equal(res.headers['retry-after'], '5')
    t.match(res.json(), { type: '/problems/database-unavailable' })
  }
})

t.test('with the database unreachable: 503, nothing acknowledged', async (t) => {
  const app = await buildApp(testConfig({ DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/townsquare', LEDGER_SEALER: 'off' }))
  t.teardown(() => app.close())
  const res = await deliver(app, 'meta', fixture('meta-facebook-comment-add.json'))
  t.equal(res.statusCode, 503)
  t.match(res.json(), { type: '/problems/database-unavailable', status: 503 })
  t.equal(res.headers['retry-after'], '5')
})
