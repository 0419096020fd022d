import t from 'tap'
import { MalformedDeliveryError, type CommentEvent } from '../../../src/webhooks/platforms/types.js'
import { normalize, verifySignature, websiteSignatureHeader } from '../../../src/webhooks/platforms/website.js'
import { assertEvents, fixture, FIXTURES_BY_SOURCE, hmac, prettyPrinted, reserialized, utf8 } from './fixtures/support.js'

const SECRET = 'website-test-secret'
const NOW = new Date('2026-01-01T00:30:00Z')
const unix = (date: Date) => Math.floor(date.getTime() / 1000)
const sign = (body: Buffer, t = unix(NOW), secret = SECRET) => ({ 'townsquare-signature': `t=${t},v1=${hmac(secret, `${t}.`, body).toString('hex')}` })

const PAGE_URL = 'https://www.citykankakee-il.gov/news/road-work'
const EXPECTED: Record<string, CommentEvent[]> = {
  'website-comments.json': [
    {
      platform: 'website',
      account: 'www.citykankakee-il.gov',
      externalId: 'c-1001',
      postId: PAGE_URL,
      parentId: null,
      author: { id: 'u-77', name: 'Pat Q. Public', email: 'pat@example.org' },
      text: 'Will Court St be closed on Saturday?',
      platformTime: '2026-01-01T00:20:00.000Z',
      kind: 'created',
      byCityAccount: false,
      deliveryKey: 'evt_01',
    },
    {
      platform: 'website',
      account: 'www.citykankakee-il.gov',
      externalId: 'c-1001',
      postId: PAGE_URL,
      parentId: null,
      author: { id: 'u-77', name: 'Pat Q. Public', email: null },
      text: 'Will Court St be closed on Saturday morning?',
      platformTime: '2026-01-01T00:25:00.000Z',
      kind: 'edited',
      byCityAccount: false,
      deliveryKey: 'evt_02',
    },
  ],
}

t.test('README vector: website signature', async (t) => {
  const body = utf8('{"events":[]}')
  const header = 't=1767225600,v1=c72468147b6e9879f160c42b8a9bd90b9dc6c0e23ca338b0faaedd1c736e0dad'
  const at = new Date(1767225600 * 1000)
  t.strictSame(verifySignature(body, { 'townsquare-signature': header }, 'test-website-secret', at), { ok: true })
  t.equal(websiteSignatureHeader(body, 'test-website-secret', at), header, 'the signing helper produces the vector')
  t.strictSame(verifySignature(body, { 'townsquare-signature': header }, 'other', at), { ok: false, reason: 'mismatch' })
  t.strictSame(normalize(body), { events: [], skipped: [] })
})

for (const name of FIXTURES_BY_SOURCE.website) {
  t.test(`fixture ${name}: signed, verified, normalized`, async (t) => {
    const raw = fixture(name)
    t.strictSame(verifySignature(raw, sign(raw), SECRET, NOW), { ok: true })
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
      t.strictSame(verifySignature(again, sign(raw), SECRET, NOW), { ok: false, reason: 'mismatch' })
      t.strictSame(verifySignature(raw, sign(again), SECRET, NOW), { ok: false, reason: 'mismatch' }, 'signature over re-serialized JSON')
    }
    const pretty = prettyPrinted(raw)
    t.strictSame(verifySignature(pretty, sign(raw), SECRET, NOW), { ok: false, reason: 'mismatch' })
    t.strictSame(verifySignature(raw, sign(pretty), SECRET, NOW), { ok: false, reason: 'mismatch' })
  })
}

t.test('replay window: 300 seconds either way', async (t) => {
  const raw = fixture('website-comments.json')
  const now = unix(NOW)
  t.strictSame(verifySignature(raw, sign(raw, now - 120), SECRET, NOW), { ok: true }, 'two minutes old')
  t.strictSame(verifySignature(raw, sign(raw, now - 300), SECRET, NOW), { ok: true }, 'exactly 300 s old')
  t.strictSame(verifySignature(raw, sign(raw, now + 300), SECRET, NOW), { ok: true }, '300 s ahead (clock skew)')
  t.strictSame(verifySignature(raw, sign(raw, now - 301), SECRET, NOW), { ok: false, reason: 'expired' }, '301 s old')
  t.strictSame(verifySignature(raw, sign(raw, now + 301), SECRET, NOW), { ok: false, reason: 'expired' }, '301 s ahead')
  t.strictSame(verifySignature(raw, sign(raw, now - 86400), SECRET, NOW), { ok: false, reason: 'expired' }, 'a day old')
  t.strictSame(verifySignature(raw, sign(raw, now - 86400, 'wrong'), SECRET, NOW), { ok: false, reason: 'mismatch' }, 'expired and forged: mismatch')
  t.strictSame(verifySignature(raw, sign(raw), SECRET), { ok: false, reason: 'expired' }, '`now` defaults to the clock')
  t.strictSame(verifySignature(raw, { 'townsquare-signature': websiteSignatureHeader(raw, SECRET) }, SECRET), { ok: true }, 'signed now, checked now')
})

t.test('signature header problems', async (t) => {
  const raw = fixture('website-comments.json')
  const t0 = unix(NOW)
  const mac = hmac(SECRET, `${t0}.`, raw).toString('hex')
  const check = (value: string | undefined) => verifySignature(raw, value === undefined ? {} : { 'townsquare-signature': value }, SECRET, NOW)
  t.strictSame(check(undefined), { ok: false, reason: 'missing' })
  t.strictSame(check(''), { ok: false, reason: 'missing' })
  t.strictSame(check(`t=${t0}, v1=${mac}`), { ok: true }, 'spaces after the comma')
  t.strictSame(check(`v1=${mac},t=${t0}`), { ok: true }, 'order does not matter')
  t.strictSame(check(`t=${t0},v1=${mac},v2=abc`), { ok: true }, 'unknown keys are ignored')
  t.strictSame(check(`t=${t0},v1=${hmac(SECRET, raw).toString('hex')}`), { ok: false, reason: 'mismatch' }, 'MAC without the timestamp')
  t.strictSame(check(`t=${t0 + 1},v1=${mac}`), { ok: false, reason: 'mismatch' }, 'timestamp changed')
  t.strictSame(check(`v1=${mac}`), { ok: false, reason: 'malformed' }, 'no t')
  t.strictSame(check(`t=${t0}`), { ok: false, reason: 'malformed' }, 'no v1')
  t.strictSame(check(`t=abc,v1=${mac}`), { ok: false, reason: 'malformed' }, 't not digits')
  t.strictSame(check(`t=-${t0},v1=${mac}`), { ok: false, reason: 'malformed' }, 'negative t')
  t.strictSame(check(`t=${t0},t=${t0},v1=${mac}`), { ok: false, reason: 'malformed' }, 'duplicate t')
  t.strictSame(check(`t=${t0},v1=${mac},v1=${mac}`), { ok: false, reason: 'malformed' }, 'duplicate v1')
  t.strictSame(check(`t=${t0},v1=${mac.slice(2)}`), { ok: false, reason: 'malformed' }, 'short MAC')
  t.strictSame(check(mac), { ok: false, reason: 'malformed' }, 'bare MAC')
  t.strictSame(check(`t=${t0};v1=${mac}`), { ok: false, reason: 'malformed' }, 'wrong separator')
})

// ---------------------------------------------------------------------------------------------

function event(fields: Record<string, unknown> = {}) {
  return {
    id: 'evt_x',
    type: 'comment.created',
    commentId: 'c-1',
    pageUrl: 'https://www.citykankakee-il.gov:8443/events?id=3',
    author: { id: 'u-1', name: 'Resident' },
    text: 'hello',
    occurredAt: '2026-01-01T02:00:00+02:00',
    ...fields,
  }
}
const deliveryOf = (...events: unknown[]) => utf8(JSON.stringify({ events }))

t.test('events: deletion, reply, offsets, unknown types', async (t) => {
  const { events, skipped } = normalize(
    deliveryOf(
      event(),
      event({ id: 'evt_y', type: 'comment.deleted', text: undefined }),
      event({ id: 'evt_z', commentId: 'c-2', parentId: 'c-1' }),
      event({ id: 'evt_w', type: 'comment.flagged' }),
    ),
  )
  assertEvents(t, events, [
    {
      platform: 'website',
      account: 'www.citykankakee-il.gov:8443',
      externalId: 'c-1',
      postId: 'https://www.citykankakee-il.gov:8443/events?id=3',
      parentId: null,
      author: { id: 'u-1', name: 'Resident', email: null },
      text: 'hello',
      platformTime: '2026-01-01T00:00:00.000Z',
      kind: 'created',
      byCityAccount: false,
      deliveryKey: 'evt_x',
    },
    {
      platform: 'website',
      account: 'www.citykankakee-il.gov:8443',
      externalId: 'c-1',
      postId: 'https://www.citykankakee-il.gov:8443/events?id=3',
      parentId: null,
      author: { id: 'u-1', name: 'Resident', email: null },
      text: null,
      platformTime: '2026-01-01T00:00:00.000Z',
      kind: 'deleted_by_author',
      byCityAccount: false,
      deliveryKey: 'evt_y',
    },
    {
      platform: 'website',
      account: 'www.citykankakee-il.gov:8443',
      externalId: 'c-2',
      postId: 'https://www.citykankakee-il.gov:8443/events?id=3',
      parentId: 'c-1',
      author: { id: 'u-1', name: 'Resident', email: null },
      text: 'hello',
      platformTime: '2026-01-01T00:00:00.000Z',
      kind: 'created',
      byCityAccount: false,
      deliveryKey: 'evt_z',
    },
  ])
  t.strictSame(
    skipped.map((s) => s.reason),
    ['website event type "comment.flagged" is not a comment event'],
  )
})

t.test('an event that breaks the contract is skipped with its reason', async (t) => {
  const { events, skipped } = normalize(
    deliveryOf(
      event({ text: undefined }),
      event({ pageUrl: 'javascript:alert(1)' }),
      event({ occurredAt: 'yesterday' }),
      event({ author: { name: 'no id' } }),
      event({ id: 'evt_ok' }),
    ),
  )
  t.strictSame(
    events.map((e) => e.deliveryKey),
    ['evt_ok'],
  )
  t.equal(skipped.length, 4)
  t.match(skipped[0]?.reason, /\$\.events\[0\]\.text/)
  t.match(skipped[1]?.reason, /\$\.events\[1\]\.pageUrl/)
  t.match(skipped[2]?.reason, /\$\.events\[2\]\.occurredAt/)
  t.match(skipped[3]?.reason, /\$\.events\[3\]\.author\.id/)
})

t.test('not JSON, or not the envelope: MalformedDeliveryError', async (t) => {
  for (const [what, body] of [
    ['not JSON', utf8('hello')],
    ['empty', Buffer.alloc(0)],
    ['no events', utf8('{"event":{}}')],
    ['events not an array', utf8('{"events":{"id":"evt"}}')],
    ['null', utf8('null')],
  ] as const) {
    t.throws(() => normalize(body), MalformedDeliveryError, what)
  }
})
