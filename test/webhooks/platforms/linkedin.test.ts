import t from 'tap'
import { linkedinChallenge, linkedinHandshake, normalize, verifySignature } from '../../../src/webhooks/platforms/linkedin.js'
import { MalformedDeliveryError, type CommentEvent } from '../../../src/webhooks/platforms/types.js'
import { assertEvents, fixture, FIXTURES_BY_SOURCE, hmac, prettyPrinted, reserialized, utf8 } from './fixtures/support.js'

const SECRET = 'linkedin-test-client-secret'
/** The documented form: hex HMAC(secret, "hmacsha256=" + body). */
const sign = (body: Buffer, secret = SECRET) => ({ 'x-li-signature': hmac(secret, 'hmacsha256=', body).toString('hex') })

const ORG = 'urn:li:organization:12345'
const COMMENT_URN = 'urn:li:comment:(urn:li:activity:7100000000000000001,7100000000000000002)'

const EXPECTED: Record<string, CommentEvent[]> = {
  'linkedin-comment.json': [
    {
      platform: 'linkedin',
      account: ORG,
      externalId: COMMENT_URN,
      postId: 'urn:li:share:7100000000000000000',
      parentId: null, // the comment's object is the activity (post), not a comment
      author: { id: 'urn:li:person:XyZ789', name: null },
      text: 'Is the library open on Sunday?',
      platformTime: '2026-01-01T00:10:00.000Z', // lastModifiedAt 1767226200000 ms
      kind: 'created',
      byCityAccount: false,
      deliveryKey: '4406004',
    },
  ],
}

t.test('README vectors: challenge and documented signature', async (t) => {
  t.strictSame(linkedinChallenge('challenge-1', 'test-client-secret'), {
    status: 200,
    contentType: 'application/json',
    body: '{"challengeCode":"challenge-1","challengeResponse":"1803a251a826675b23809e4af754cd3cbc226588115a74e076b4d7f595824e00"}',
  })
  t.strictSame(linkedinHandshake({ challengeCode: 'challenge-1', applicationId: 'app' }, 'test-client-secret'), linkedinChallenge('challenge-1', 'test-client-secret'))
  const body = utf8('{"type":"ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS","notifications":[]}')
  const headers = { 'x-li-signature': '341cf5778654a2e246e6fc68fb6ec196f21f44f3bc76346a8896e2de2f4857a7' }
  t.strictSame(verifySignature(body, headers, 'test-client-secret'), { ok: true, variant: 'documented' })
  t.strictSame(verifySignature(body, headers, 'other'), { ok: false, reason: 'mismatch' })
  t.strictSame(normalize(body), { events: [], skipped: [] })
})

t.test('challenge without a code: 400', async (t) => {
  for (const query of [{}, { challengeCode: '' }, { challengeCode: ['a', 'b'] }, { applicationId: 'app' }]) {
    const result = linkedinHandshake(query, SECRET)
    t.equal(result.status, 400)
    t.equal(result.contentType, 'application/json')
  }
  t.throws(() => linkedinChallenge('c', ''), /not configured/)
})

t.test('the unconfirmed signature variants are accepted and named', async (t) => {
  const raw = fixture('linkedin-comment.json')
  const plainHex = hmac(SECRET, raw).toString('hex')
  const documentedHex = hmac(SECRET, 'hmacsha256=', raw).toString('hex')
  t.strictSame(verifySignature(raw, { 'x-li-signature': documentedHex }, SECRET), { ok: true, variant: 'documented' })
  t.strictSame(verifySignature(raw, { 'x-li-signature': 'hmacsha256=' + plainHex }, SECRET), { ok: true, variant: 'header-prefix' })
  t.strictSame(verifySignature(raw, { 'x-li-signature': plainHex }, SECRET), { ok: true, variant: 'plain' })
  t.strictSame(verifySignature(raw, { 'x-li-signature': documentedHex.toUpperCase() }, SECRET), { ok: true, variant: 'documented' })
  t.strictSame(
    verifySignature(raw, { 'x-li-signature': 'hmacsha256=' + documentedHex }, SECRET),
    { ok: false, reason: 'mismatch' },
    'prefix on both the header and the message is not a known form',
  )
})

for (const name of FIXTURES_BY_SOURCE.linkedin) {
  t.test(`fixture ${name}: signed, verified, normalized`, async (t) => {
    const raw = fixture(name)
    t.strictSame(verifySignature(raw, sign(raw), SECRET), { ok: true, variant: 'documented' })
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
      t.strictSame(verifySignature(again, sign(raw), SECRET), { ok: false, reason: 'mismatch' })
      t.strictSame(verifySignature(raw, sign(again), SECRET), { ok: false, reason: 'mismatch' }, 'signature over re-serialized JSON')
    }
    const pretty = prettyPrinted(raw)
    t.strictSame(verifySignature(pretty, sign(raw), SECRET), { ok: false, reason: 'mismatch' })
    t.strictSame(verifySignature(raw, sign(pretty), SECRET), { ok: false, reason: 'mismatch' })
  })
}

t.test('signature header problems', async (t) => {
  const raw = fixture('linkedin-comment.json')
  t.strictSame(verifySignature(raw, sign(raw, 'wrong'), SECRET), { ok: false, reason: 'mismatch' })
  t.strictSame(verifySignature(raw, {}, SECRET), { ok: false, reason: 'missing' })
  t.strictSame(verifySignature(raw, { 'X-LI-Signature': sign(raw)['x-li-signature'] }, SECRET), { ok: true, variant: 'documented' })
  t.strictSame(verifySignature(raw, { 'x-li-signature': 'hmacsha256=' }, SECRET), { ok: false, reason: 'malformed' })
  t.strictSame(verifySignature(raw, { 'x-li-signature': hmac(SECRET, raw).toString('base64') }, SECRET), { ok: false, reason: 'malformed' }, 'base64')
  t.strictSame(verifySignature(raw, { 'x-li-signature': 'sha256=' + hmac(SECRET, raw).toString('hex') }, SECRET), { ok: false, reason: 'malformed' })
})

// ---------------------------------------------------------------------------------------------

function notification(fields: Record<string, unknown> = {}, comment: Record<string, unknown> = {}) {
  return {
    notificationId: 1001,
    action: 'COMMENT',
    lastModifiedAt: 1767226200123,
    organizationalEntity: ORG,
    sourcePost: 'urn:li:share:1',
    generatedActivity: 'urn:li:comment:(urn:li:activity:1,2)',
    decoratedGeneratedActivity: {
      comment: { entity: 'urn:li:comment:(urn:li:activity:1,2)', owner: 'urn:li:person:P', object: 'urn:li:activity:1', text: 'hi', ...comment },
    },
    ...fields,
  }
}
const deliveryOf = (...notifications: unknown[]) => utf8(JSON.stringify({ type: 'ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS', notifications }))

t.test('lastModifiedAt is epoch milliseconds', async (t) => {
  const { events } = normalize(deliveryOf(notification()))
  t.equal(events[0]?.platformTime, '2026-01-01T00:10:00.123Z')
  const asString = normalize(deliveryOf(notification({ lastModifiedAt: '1767226200123' })))
  t.equal(asString.events[0]?.platformTime, '2026-01-01T00:10:00.123Z')
})

t.test('actions', async (t) => {
  const { events, skipped } = normalize(
    deliveryOf(
      notification({ notificationId: 1, action: 'COMMENT' }),
      notification({ notificationId: 2, action: 'COMMENT_EDIT' }, { text: 'edited text' }),
      notification({ notificationId: 3, action: 'COMMENT_DELETE' }, { text: undefined }),
      notification({ notificationId: 4, action: 'ADMIN_COMMENT' }, { owner: 'urn:li:person:Staff' }),
      notification({ notificationId: 5, action: 'LIKE' }),
      notification({ notificationId: 6, action: 'SHARE' }),
      notification({ notificationId: 7, action: 'SOMETHING_NEW' }),
      notification({ notificationId: 8, action: 'COMMENT' }, { owner: ORG }),
    ),
  )
  t.strictSame(
    events.map((e) => [e.deliveryKey, e.kind, e.text, e.byCityAccount]),
    [
      ['1', 'created', 'hi', false],
      ['2', 'edited', 'edited text', false],
      ['3', 'deleted_by_author', null, false],
      ['4', 'created', 'hi', true],
      ['8', 'created', 'hi', true],
    ],
  )
  t.strictSame(
    skipped.map((s) => s.reason),
    [
      'linkedin action "LIKE" is not a comment action',
      'linkedin action "SHARE" is not a comment action',
      'linkedin action "SOMETHING_NEW" is not a comment action',
    ],
  )
})

t.test('comment URN: generatedActivity, else the decorated entity', async (t) => {
  const { events } = normalize(
    deliveryOf(
      notification({ generatedActivity: undefined }, { entity: 'urn:li:comment:(urn:li:activity:1,3)' }),
      notification({ generatedActivity: 'urn:li:activity:9' }, { entity: 'urn:li:comment:(urn:li:activity:1,4)' }),
      notification({ decoratedGeneratedActivity: undefined }),
    ),
  )
  t.strictSame(
    events.map((e) => [e.externalId, e.author.id, e.text]),
    [
      ['urn:li:comment:(urn:li:activity:1,3)', 'urn:li:person:P', 'hi'],
      ['urn:li:comment:(urn:li:activity:1,4)', 'urn:li:person:P', 'hi'],
      ['urn:li:comment:(urn:li:activity:1,2)', null, null],
    ],
  )
  const none = normalize(deliveryOf(notification({ generatedActivity: undefined, decoratedGeneratedActivity: {} })))
  t.match(none.skipped[0]?.reason, /no comment URN/)
})

t.test('a reply: the decorated object is the parent comment', async (t) => {
  const parent = 'urn:li:comment:(urn:li:activity:1,2)'
  const { events } = normalize(
    deliveryOf(notification({ generatedActivity: 'urn:li:comment:(urn:li:activity:1,5)' }, { entity: 'urn:li:comment:(urn:li:activity:1,5)', object: parent })),
  )
  t.equal(events[0]?.parentId, parent)
})

t.test('unconfirmed decorated fields of an unexpected type read as absent', async (t) => {
  const { events, skipped } = normalize(deliveryOf(notification({}, { text: { text: 'nested' }, owner: 42 })))
  t.equal(skipped.length, 0)
  t.equal(events[0]?.text, null)
  t.equal(events[0]?.author.id, null)
})

t.test('a 64-bit numeric notificationId stays exact', async (t) => {
  const body = utf8(
    `{"type":"ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS","notifications":[{"notificationId":7100000000000000003,"action":"COMMENT","lastModifiedAt":1767226200000,"organizationalEntity":"${ORG}","generatedActivity":"urn:li:comment:(urn:li:activity:1,2)"}]}`,
  )
  t.equal(normalize(body).events[0]?.deliveryKey, '7100000000000000003')
})

t.test('another type is skipped; not JSON or the wrong shape throws', async (t) => {
  const other = normalize(utf8('{"type":"SOMETHING_ELSE","items":[]}'))
  t.equal(other.events.length, 0)
  t.match(other.skipped[0]?.reason, /type "SOMETHING_ELSE"/)
  for (const [what, body] of [
    ['not JSON', utf8('<xml/>')],
    ['no type', utf8('{"notifications":[]}')],
    ['notifications not an array', utf8('{"type":"ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS","notifications":"x"}')],
  ] as const) {
    t.throws(() => normalize(body), MalformedDeliveryError, what)
  }
  const missingOrg = normalize(deliveryOf(notification({ organizationalEntity: undefined })))
  t.match(missingOrg.skipped[0]?.reason, /^malformed change: \$\.notifications\[0\]\.organizationalEntity/)
})
