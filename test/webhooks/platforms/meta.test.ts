import { createHash } from 'node:crypto'
import t from 'tap'
import { metaHandshake, normalize, verifySignature } from '../../../src/webhooks/platforms/meta.js'
import { MalformedDeliveryError, type CommentEvent } from '../../../src/webhooks/platforms/types.js'
import { assertEvents, fixture, FIXTURES_BY_SOURCE, hmac, prettyPrinted, reserialized, utf8 } from './fixtures/support.js'

const SECRET = 'meta-test-app-secret'
const sign = (body: Buffer, secret = SECRET) => ({ 'x-hub-signature-256': 'sha256=' + hmac(secret, body).toString('hex') })
const iso = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString()
const digest16 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16)

const PAGE = '448242228374517'
const POST = '448242228374517_122131676912594941'
const JANE = { id: '6543210987654321', name: 'Jane Resident' }
const COMMENT = '122131676912594941_1213590066982748'

const EXPECTED: Record<string, CommentEvent[]> = {
  'meta-facebook-comment-add.json': [
    {
      platform: 'facebook',
      account: PAGE,
      externalId: COMMENT,
      postId: POST,
      parentId: null,
      author: JANE,
      text: 'The streetlight on Elm St is out again',
      platformTime: '2026-01-01T00:00:04.000Z', // created_time 1767225604
      kind: 'created',
      byCityAccount: false,
      deliveryKey: `${COMMENT}:created`,
    },
  ],
  'meta-facebook-comment-edited.json': [
    {
      platform: 'facebook',
      account: PAGE,
      externalId: COMMENT,
      postId: POST,
      parentId: null,
      author: JANE,
      text: 'The streetlight on Elm St is out again (third week)',
      platformTime: '2026-01-01T00:05:00.000Z', // entry.time 1767225900: created_time is still the comment's creation
      kind: 'edited',
      byCityAccount: false,
      deliveryKey: `${COMMENT}:edited:1767225900:${digest16('The streetlight on Elm St is out again (third week)')}`,
    },
  ],
  'meta-facebook-comment-remove.json': [
    {
      platform: 'facebook',
      account: PAGE,
      externalId: COMMENT,
      postId: POST,
      parentId: null,
      author: JANE,
      text: null,
      platformTime: '2026-01-01T00:10:00.000Z', // entry.time 1767226200
      kind: 'deleted_by_author',
      byCityAccount: false,
      deliveryKey: `${COMMENT}:deleted_by_author`,
    },
  ],
  'meta-facebook-batch.json': [
    {
      platform: 'facebook',
      account: PAGE,
      externalId: '122131676912594941_1213590066990001',
      postId: POST,
      parentId: null,
      author: { id: '7000000000000001', name: 'Sam Neighbor' },
      text: 'Thank you, crews were fast \u00e9t\u00e9 \u{1F44D}', // from \u00e9 and the surrogate pair \ud83d\udc4d
      platformTime: '2026-01-01T00:14:50.000Z',
      kind: 'created',
      byCityAccount: false,
      deliveryKey: '122131676912594941_1213590066990001:created',
    },
    {
      platform: 'facebook',
      account: PAGE,
      externalId: '122131676912594941_1213590066990002',
      postId: POST,
      parentId: '122131676912594941_1213590066990001',
      author: { id: '7000000000000002', name: 'Alex Doe' },
      text: 'Replying to Sam: agreed',
      platformTime: '2026-01-01T00:14:55.000Z',
      kind: 'created',
      byCityAccount: false,
      deliveryKey: '122131676912594941_1213590066990002:created',
    },
    {
      platform: 'facebook',
      account: PAGE,
      externalId: '122131676912594941_1213590066990003',
      postId: POST,
      parentId: '122131676912594941_1213590066990001',
      author: { id: PAGE, name: 'City of Kankakee' },
      text: 'Thanks for letting us know!',
      platformTime: '2026-01-01T00:14:59.000Z',
      kind: 'created',
      byCityAccount: true, // from.id === entry.id: the Page itself
      deliveryKey: '122131676912594941_1213590066990003:created',
    },
  ],
  'meta-instagram-comment.json': [
    {
      platform: 'instagram',
      account: '17841400000000000',
      externalId: '17900000000000000',
      postId: '18000000000000000',
      parentId: null,
      author: { id: '1234567890', name: 'jane.resident' },
      text: 'When will the pool reopen?',
      platformTime: '2026-01-01T00:20:00.000Z', // no created_time: entry.time 1767226800 (seconds)
      kind: 'created',
      byCityAccount: false,
      deliveryKey: '17900000000000000:created',
    },
  ],
}

// ---------------------------------------------------------------------------------------------

t.test('README vector: Meta signature', async (t) => {
  const body = utf8('{"object":"page","entry":[]}')
  const headers = { 'x-hub-signature-256': 'sha256=1a82db3abc2fa71a3fffecfedef579a8468a44850cd8a83a0c56974faff81689' }
  t.strictSame(verifySignature(body, headers, 'test-app-secret'), { ok: true })
  t.strictSame(verifySignature(body, headers, 'another-secret'), { ok: false, reason: 'mismatch' })
  t.strictSame(normalize(body), { events: [], skipped: [] })
})

for (const name of FIXTURES_BY_SOURCE.meta) {
  t.test(`fixture ${name}: signed, verified, normalized`, async (t) => {
    const raw = fixture(name)
    t.strictSame(verifySignature(raw, sign(raw), SECRET), { ok: true })
    const expected = EXPECTED[name]
    if (!expected) throw new Error(`no expected events for ${name}`)
    const result = normalize(raw)
    assertEvents(t, result.events, expected)
    t.strictSame(result.skipped, [])
  })

  t.test(`fixture ${name}: only the exact bytes verify`, async (t) => {
    const raw = fixture(name)
    const again = reserialized(raw)
    if (!again.equals(raw)) {
      t.strictSame(verifySignature(again, sign(raw), SECRET), { ok: false, reason: 'mismatch' }, 're-serialized body, original signature')
      t.strictSame(verifySignature(raw, sign(again), SECRET), { ok: false, reason: 'mismatch' }, 'signature over re-serialized JSON')
    }
    const pretty = prettyPrinted(raw)
    t.strictSame(verifySignature(pretty, sign(raw), SECRET), { ok: false, reason: 'mismatch' }, 'spacing changes the bytes')
    t.strictSame(verifySignature(raw, sign(pretty), SECRET), { ok: false, reason: 'mismatch' })
    t.strictSame(normalize(pretty), normalize(raw), 'the same data whatever the spacing')
  })
}

t.test('the batch fixture carries \\u escapes, which re-serialization does not keep', async (t) => {
  const raw = fixture('meta-facebook-batch.json')
  t.match(raw.toString('utf8'), /\\u00e9/)
  t.not(reserialized(raw).toString('hex'), raw.toString('hex'))
  t.strictSame(verifySignature(reserialized(raw), sign(raw), SECRET), { ok: false, reason: 'mismatch' })
})

t.test('signature header problems', async (t) => {
  const raw = fixture('meta-facebook-comment-add.json')
  const good = sign(raw)['x-hub-signature-256']
  const hex = good.slice('sha256='.length)
  t.strictSame(verifySignature(raw, sign(raw, 'wrong-secret'), SECRET), { ok: false, reason: 'mismatch' }, 'wrong secret')
  t.strictSame(verifySignature(raw, { 'x-hub-signature-256': 'sha256=' + hmac(SECRET, utf8('other')).toString('hex') }, SECRET), { ok: false, reason: 'mismatch' })
  t.strictSame(verifySignature(raw, {}, SECRET), { ok: false, reason: 'missing' }, 'missing')
  t.strictSame(verifySignature(raw, { 'x-hub-signature': 'sha1=' + 'a'.repeat(40) }, SECRET), { ok: false, reason: 'missing' }, 'the legacy sha1 header alone is not enough')
  t.strictSame(verifySignature(raw, { 'x-hub-signature': 'sha1=0000', ...sign(raw) }, SECRET), { ok: true }, 'the legacy header is ignored')
  t.strictSame(verifySignature(raw, { 'X-Hub-Signature-256': good }, SECRET), { ok: true }, 'header name case')
  t.strictSame(verifySignature(raw, { 'x-hub-signature-256': hex }, SECRET), { ok: false, reason: 'malformed' }, 'no sha256= prefix')
  t.strictSame(verifySignature(raw, { 'x-hub-signature-256': 'sha1=' + hex }, SECRET), { ok: false, reason: 'malformed' }, 'other algorithm')
  t.strictSame(verifySignature(raw, { 'x-hub-signature-256': 'sha256=' + hex.slice(1) }, SECRET), { ok: false, reason: 'malformed' }, 'short')
  t.strictSame(verifySignature(raw, { 'x-hub-signature-256': 'sha256=' + 'g'.repeat(64) }, SECRET), { ok: false, reason: 'malformed' }, 'not hex')
  t.strictSame(verifySignature(raw, { 'x-hub-signature-256': [good, good] }, SECRET), { ok: false, reason: 'malformed' }, 'sent twice')
  t.throws(() => verifySignature(raw, sign(raw), ''), /not configured/, 'an empty app secret is refused')
})

t.test('handshake', async (t) => {
  const query = (extra: Record<string, unknown> = {}) => ({ 'hub.mode': 'subscribe', 'hub.verify_token': 'vt-123', 'hub.challenge': '1158201444', ...extra })
  t.strictSame(metaHandshake(query(), 'vt-123'), { status: 200, contentType: 'text/plain', body: '1158201444' })
  const odd = 'abc 123 <é>&"'
  t.equal(metaHandshake(query({ 'hub.challenge': odd }), 'vt-123').body, odd, 'echoed byte for byte, not as a number or JSON')
  t.equal(metaHandshake(query({ 'hub.challenge': '007' }), 'vt-123').body, '007', 'leading zeros kept')
  t.equal(metaHandshake(query({ 'hub.verify_token': 'wrong' }), 'vt-123').status, 403, 'wrong token')
  t.equal(metaHandshake(query({ 'hub.verify_token': 'vt-1234' }), 'vt-123').status, 403, 'longer token')
  t.equal(metaHandshake(query({ 'hub.mode': 'unsubscribe' }), 'vt-123').status, 403, 'wrong mode')
  for (const key of ['hub.mode', 'hub.verify_token', 'hub.challenge']) {
    const q: Record<string, unknown> = query()
    delete q[key]
    const result = metaHandshake(q, 'vt-123')
    t.equal(result.status, 400, `missing ${key}`)
    t.equal(result.contentType, 'text/plain')
  }
  t.equal(metaHandshake(query({ 'hub.challenge': '' }), 'vt-123').status, 400, 'empty challenge')
  t.equal(metaHandshake(query({ 'hub.challenge': ['1', '2'] }), 'vt-123').status, 400, 'repeated parameter')
  t.strictSame(
    metaHandshake({ hub: { mode: 'subscribe', verify_token: 'vt-123', challenge: 'c' } }, 'vt-123'),
    { status: 200, contentType: 'text/plain', body: 'c' },
    'a qs-style nested query works too',
  )
  t.equal(metaHandshake({ mode: 'subscribe', verify_token: 'vt-123', challenge: 'c' }, 'vt-123').status, 400, 'keys without hub. are not read')
  t.throws(() => metaHandshake(query({ 'hub.verify_token': '' }), ''), /not configured/, 'an empty configured token never matches')
})

// ---------------------------------------------------------------------------------------------
// Synthetic deliveries for the quirks

const T0 = 1767225600
function pageDelivery(changes: unknown[], time = T0 + 60): Buffer {
  return utf8(JSON.stringify({ object: 'page', entry: [{ id: PAGE, time, changes }] }))
}
function feedChange(value: Record<string, unknown> = {}) {
  return {
    field: 'feed',
    value: {
      item: 'comment',
      verb: 'add',
      comment_id: '122_1',
      post_id: POST,
      parent_id: POST,
      from: { id: '111', name: 'Resident' },
      message: 'hello',
      created_time: T0,
      ...value,
    },
  }
}

t.test('`edit` and `edited` both mean edited, with the same key for the same change', async (t) => {
  const edited = normalize(pageDelivery([feedChange({ verb: 'edited', message: 'v2' })]))
  const edit = normalize(pageDelivery([feedChange({ verb: 'edit', message: 'v2' })]))
  t.equal(edited.events[0]?.kind, 'edited')
  t.equal(edit.events[0]?.kind, 'edited')
  t.equal(edit.events[0]?.deliveryKey, edited.events[0]?.deliveryKey)
  t.equal(edit.events[0]?.platformTime, iso(T0 + 60), 'dated by entry.time, not created_time')
  t.equal(edit.events[0]?.text, 'v2')
  const two = normalize(pageDelivery([feedChange({ verb: 'edited', message: 'v2' }), feedChange({ verb: 'edited', message: 'v3' })]))
  t.not(two.events[0]?.deliveryKey, two.events[1]?.deliveryKey, 'two edits batched in one entry stay distinct')
  t.equal(normalize(pageDelivery([feedChange({ verb: 'edited', message: 'v2' })])).events[0]?.deliveryKey, edited.events[0]?.deliveryKey, 'redelivery: same key')
})

t.test('hide and unhide', async (t) => {
  const { events } = normalize(pageDelivery([feedChange({ verb: 'hide' }), feedChange({ verb: 'unhide' })]))
  t.strictSame(
    events.map((e) => [e.kind, e.platformTime, e.deliveryKey]),
    [
      ['hidden_on_platform', iso(T0 + 60), `122_1:hidden_on_platform:${T0 + 60}`],
      ['unhidden_on_platform', iso(T0 + 60), `122_1:unhidden_on_platform:${T0 + 60}`],
    ],
  )
})

t.test('`from` missing: sender_id/sender_name, else nulls', async (t) => {
  const { events } = normalize(
    pageDelivery([
      feedChange({ from: undefined, sender_id: '222', sender_name: 'Old Style' }),
      feedChange({ from: undefined, comment_id: '122_2' }),
      feedChange({ from: { id: '333' }, comment_id: '122_3' }),
    ]),
  )
  t.strictSame(events[0]?.author, { id: '222', name: 'Old Style' })
  t.equal(events[0]?.byCityAccount, false)
  t.strictSame(events[1]?.author, { id: null, name: null })
  t.strictSame(events[2]?.author, { id: '333', name: null })
})

t.test("the Page's own comment is recorded as the city's, by from.id or sender_id", async (t) => {
  const { events } = normalize(
    pageDelivery([feedChange({ from: { id: PAGE, name: 'City' } }), feedChange({ from: undefined, sender_id: PAGE, comment_id: '122_2' })]),
  )
  t.strictSame(
    events.map((e) => e.byCityAccount),
    [true, true],
  )
})

t.test('top-level vs reply, and created_time fallback', async (t) => {
  const { events } = normalize(
    pageDelivery([
      feedChange({ parent_id: POST }),
      feedChange({ comment_id: '122_2', parent_id: '122_1' }),
      feedChange({ comment_id: '122_3', parent_id: undefined }),
      feedChange({ comment_id: '122_4', created_time: undefined }),
    ]),
  )
  t.strictSame(
    events.map((e) => e.parentId),
    [null, '122_1', null, null],
  )
  t.equal(events[3]?.platformTime, iso(T0 + 60), 'add without created_time: entry.time')
})

t.test('Instagram without created_time, a reply, and the account itself', async (t) => {
  const ig = '17841400000000000'
  const body = utf8(
    JSON.stringify({
      object: 'instagram',
      entry: [
        {
          id: ig,
          time: T0 + 5,
          changes: [
            { field: 'comments', value: { id: '179_1', text: 'first', from: { id: '42', username: 'someone' }, media: { id: 'm1' } } },
            { field: 'comments', value: { id: '179_2', text: 'reply', from: { id: ig, username: 'city' }, media: { id: 'm1' }, parent_id: '179_1' } },
            { field: 'mentions', value: { media_id: 'm2' } },
          ],
        },
      ],
    }),
  )
  const { events, skipped } = normalize(body)
  assertEvents(t, events, [
    {
      platform: 'instagram',
      account: ig,
      externalId: '179_1',
      postId: 'm1',
      parentId: null,
      author: { id: '42', name: 'someone' },
      text: 'first',
      platformTime: iso(T0 + 5),
      kind: 'created',
      byCityAccount: false,
      deliveryKey: '179_1:created',
    },
    {
      platform: 'instagram',
      account: ig,
      externalId: '179_2',
      postId: 'm1',
      parentId: '179_1',
      author: { id: ig, name: 'city' },
      text: 'reply',
      platformTime: iso(T0 + 5),
      kind: 'created',
      byCityAccount: true,
      deliveryKey: '179_2:created',
    },
  ])
  t.equal(skipped.length, 1)
  t.match(skipped[0]?.reason, /field "mentions"/)
})

t.test('entry.time in milliseconds is recognised', async (t) => {
  const { events } = normalize(pageDelivery([feedChange({ verb: 'remove', message: undefined })], (T0 + 60) * 1000 + 250))
  t.equal(events[0]?.platformTime, new Date((T0 + 60) * 1000 + 250).toISOString())
})

t.test('unknown verbs, non-comment items and fields are skipped, not thrown', async (t) => {
  const changes = [
    feedChange({ verb: 'share' }),
    feedChange({ item: 'status', verb: 'add' }),
    feedChange({ item: 'reaction', verb: 'add', reaction_type: 'like' }),
    { field: 'feed', value: 'not an object' },
    { field: 'mention', value: { item: 'comment' } },
    feedChange({ comment_id: '122_ok' }),
  ]
  const { events, skipped } = normalize(pageDelivery(changes))
  t.strictSame(
    events.map((e) => e.externalId),
    ['122_ok'],
  )
  t.equal(skipped.length, 5)
  t.match(skipped[0]?.reason, /verb "share"/)
  t.match(skipped[1]?.reason, /item "status"/)
  t.match(skipped[2]?.reason, /item "reaction"/)
  t.match(skipped[4]?.reason, /field "mention"/)
  t.strictSame(skipped[0]?.raw, changes[0], 'the raw change is kept')
})

t.test('a comment change missing its id is skipped with the reason; the rest of the batch is kept', async (t) => {
  const { events, skipped } = normalize(pageDelivery([feedChange({ comment_id: undefined }), feedChange({ comment_id: '122_9' })]))
  t.equal(events.length, 1)
  t.match(skipped[0]?.reason, /^malformed change: \$\.entry\[0\]\.changes\[0\]\.value\.comment_id/)
})

t.test('another object, or an entry without changes, is skipped', async (t) => {
  const user = normalize(utf8('{"object":"user","entry":[{"id":"1","time":1,"changes":[]}]}'))
  t.equal(user.events.length, 0)
  t.match(user.skipped[0]?.reason, /object "user"/)
  const messaging = normalize(utf8(JSON.stringify({ object: 'page', entry: [{ id: PAGE, time: T0, messaging: [{}] }] })))
  t.match(messaging.skipped[0]?.reason, /no changes/)
})

t.test('not JSON, or not a Meta envelope: MalformedDeliveryError', async (t) => {
  const cases: Array<[string, Buffer, RegExp]> = [
    ['not JSON', utf8('object=page&entry='), /not JSON/],
    ['truncated JSON', utf8('{"object":"page","entry":['), /not JSON/],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0x7d]), /UTF-8/],
    ['an array', utf8('[]'), /\$/],
    ['no object', utf8('{"entry":[]}'), /\$\.object/],
    ['entry not an array', utf8('{"object":"page","entry":{}}'), /\$\.entry/],
    ['entry without id', utf8('{"object":"page","entry":[{"time":1,"changes":[]}]}'), /\$\.entry\[0\]\.id/],
  ]
  for (const [what, body, path] of cases) {
    const error = t.throws(() => normalize(body), MalformedDeliveryError, what) as MalformedDeliveryError
    t.ok(error instanceof MalformedDeliveryError, what)
    t.ok(error.issues.length > 0, `${what}: issues listed`)
    t.match(error.issues.map((i) => `${i.path} ${i.message}`).join('\n'), path, `${what}: path`)
  }
})

t.test('a delivery of 1,000 changes normalizes to 1,000 events', async (t) => {
  const changes = Array.from({ length: 1000 }, (_, i) =>
    feedChange({ comment_id: `122_${i}`, message: `comment ${i} \u00e9`, created_time: T0 + i, from: { id: String(1000 + i), name: `R${i}` } }),
  )
  // As Meta sends it: non-ASCII escaped.
  const body = utf8(JSON.stringify({ object: 'page', entry: [{ id: PAGE, time: T0 + 2000, changes }] }).replace(/\u00e9/g, '\\u00e9'))
  t.strictSame(verifySignature(body, sign(body), SECRET), { ok: true })
  const { events, skipped } = normalize(body)
  t.equal(events.length, 1000)
  t.equal(skipped.length, 0)
  t.equal(new Set(events.map((e) => e.deliveryKey)).size, 1000, 'distinct keys')
  t.equal(events[999]?.externalId, '122_999')
  t.equal(events[999]?.text, 'comment 999 é')
  t.equal(events[999]?.platformTime, iso(T0 + 999))
})
