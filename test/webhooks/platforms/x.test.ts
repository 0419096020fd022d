import t from 'tap'
import { MalformedDeliveryError, type CommentEvent } from '../../../src/webhooks/platforms/types.js'
import { normalize, parseCreatedAt, verifySignature, xCrc, xHandshake } from '../../../src/webhooks/platforms/x.js'
import { assertEvents, fixture, FIXTURES_BY_SOURCE, hmac, prettyPrinted, reserialized, utf8 } from './fixtures/support.js'

const SECRET = 'x-test-consumer-secret'
const sign = (body: Buffer, secret = SECRET) => ({ 'x-twitter-webhooks-signature': 'sha256=' + hmac(secret, body).toString('base64') })

const CITY = '1500000000000000001'

const EXPECTED: Record<string, CommentEvent[]> = {
  'x-reply.json': [
    {
      platform: 'x',
      account: CITY,
      externalId: '1901234567890123456', // id_str; the numeric id would read 1901234567890123500
      postId: '1901200000000000000', // no conversation id in the payload: the replied-to tweet
      parentId: null, // ...which is then the post: a reply to the post is top-level
      author: { id: '987654321', name: 'Jane Resident' },
      text: '@CityOfKankakee the bus stop sign on 5th Ave is down',
      platformTime: '2026-01-01T00:10:00.000Z',
      kind: 'created',
      byCityAccount: false,
      deliveryKey: '1901234567890123456:created',
    },
  ],
  'x-delete.json': [
    {
      platform: 'x',
      account: CITY,
      externalId: '1901234567890123456',
      postId: null,
      parentId: null,
      author: { id: '987654321', name: null },
      text: null,
      platformTime: '2026-01-01T00:21:40.000Z', // timestamp_ms "1767226900000"
      kind: 'deleted_by_author',
      byCityAccount: false,
      deliveryKey: '1901234567890123456:deleted_by_author',
    },
  ],
}

t.test('README vectors: CRC and signature', async (t) => {
  t.strictSame(xCrc('abc123', 'test-consumer-secret'), {
    status: 200,
    contentType: 'application/json',
    body: '{"response_token":"sha256=qU/eCGihVsFTuKUtEiRGVEy6qaS2WMueqOYk7hYQ2kU="}',
  })
  t.strictSame(xHandshake({ crc_token: 'abc123' }, 'test-consumer-secret'), xCrc('abc123', 'test-consumer-secret'))
  const body = utf8('{"for_user_id":"1","tweet_create_events":[]}')
  const headers = { 'x-twitter-webhooks-signature': 'sha256=mFJ22+8/Hf6T7Y9Mt7LB0w9TkXbkQhvSxsnPnaAxyF8=' }
  t.strictSame(verifySignature(body, headers, 'test-consumer-secret'), { ok: true })
  t.strictSame(verifySignature(body, headers, 'other'), { ok: false, reason: 'mismatch' })
  t.strictSame(normalize(body), { events: [], skipped: [] })
})

t.test('CRC without a token: 400', async (t) => {
  for (const query of [{}, { crc_token: '' }, { crc_token: ['a', 'b'] }, { crc: 'abc' }]) {
    const result = xHandshake(query, SECRET)
    t.equal(result.status, 400)
    t.equal(result.contentType, 'application/json')
    t.strictSame(JSON.parse(result.body), { error: 'crc_token is required' })
  }
  t.equal(xCrc(undefined, SECRET).status, 400)
  t.throws(() => xCrc('abc', ''), /not configured/)
})

for (const name of FIXTURES_BY_SOURCE.x) {
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
      t.strictSame(verifySignature(again, sign(raw), SECRET), { ok: false, reason: 'mismatch' })
      t.strictSame(verifySignature(raw, sign(again), SECRET), { ok: false, reason: 'mismatch' }, 'signature over re-serialized JSON')
    }
    const pretty = prettyPrinted(raw)
    t.strictSame(verifySignature(pretty, sign(raw), SECRET), { ok: false, reason: 'mismatch' })
    t.strictSame(verifySignature(raw, sign(pretty), SECRET), { ok: false, reason: 'mismatch' })
  })
}

t.test('x-reply.json does not survive re-serialization: its numeric 64-bit id is rounded', async (t) => {
  const raw = fixture('x-reply.json')
  t.match(reserialized(raw).toString('utf8'), /"id":1901234567890123500/)
  t.strictSame(verifySignature(reserialized(raw), sign(raw), SECRET), { ok: false, reason: 'mismatch' })
  t.strictSame(normalize(prettyPrinted(raw)), normalize(raw), 'id_str keeps the id exact even after the rounding')
})

t.test('signature header problems', async (t) => {
  const raw = fixture('x-reply.json')
  const good = sign(raw)['x-twitter-webhooks-signature']
  t.strictSame(verifySignature(raw, sign(raw, 'wrong'), SECRET), { ok: false, reason: 'mismatch' })
  t.strictSame(verifySignature(raw, {}, SECRET), { ok: false, reason: 'missing' })
  t.strictSame(verifySignature(raw, { 'X-Twitter-Webhooks-Signature': good }, SECRET), { ok: true })
  t.strictSame(verifySignature(raw, { 'x-twitter-webhooks-signature': good.slice(7) }, SECRET), { ok: false, reason: 'malformed' }, 'no prefix')
  t.strictSame(
    verifySignature(raw, { 'x-twitter-webhooks-signature': 'sha256=' + hmac(SECRET, raw).toString('hex') }, SECRET),
    { ok: false, reason: 'malformed' },
    'hex instead of base64',
  )
  t.strictSame(verifySignature(raw, { 'x-twitter-webhooks-signature': 'sha256=' + 'A'.repeat(43) }, SECRET), { ok: false, reason: 'malformed' }, 'unpadded')
  t.strictSame(verifySignature(raw, { 'x-twitter-webhooks-signature': 'sha256=' + 'A'.repeat(43) + '=' }, SECRET), { ok: false, reason: 'mismatch' })
})

// ---------------------------------------------------------------------------------------------

const BIG = '1900000000000000001' // > 2^53: JSON.parse makes it 1900000000000000000

function tweet(fields: Record<string, string>): string {
  const base: Record<string, string> = {
    created_at: '"Thu Jan 01 00:10:00 +0000 2026"',
    id_str: '"1901234567890123456"',
    text: '"hello"',
    truncated: 'false',
    in_reply_to_status_id_str: '"1901200000000000000"',
    user: '{"id_str":"987654321","name":"Jane Resident","screen_name":"janeres"}',
    timestamp_ms: '"1767226200000"',
  }
  return `{${Object.entries({ ...base, ...fields })
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `"${k}":${v}`)
    .join(',')}}`
}
const delivery = (json: string) => utf8(`{"for_user_id":"${CITY}",${json}}`)

t.test('id_str is used; a 64-bit numeric id comes out exactly as its digits', async (t) => {
  t.equal(JSON.parse(`{"id":${BIG}}`).id, 1900000000000000000, 'the trap')
  const both = normalize(delivery(`"tweet_create_events":[${tweet({ id: BIG, id_str: `"${BIG}"` })}]`))
  t.equal(both.events[0]?.externalId, BIG)
  const numericOnly = normalize(delivery(`"tweet_create_events":[${tweet({ id: BIG, id_str: '' })}]`))
  t.equal(numericOnly.events[0]?.externalId, BIG, 'without id_str, the numeric id read from the raw digits')
  const wrongNumber = normalize(delivery(`"tweet_create_events":[${tweet({ id: '1', id_str: `"${BIG}"` })}]`))
  t.equal(wrongNumber.events[0]?.externalId, BIG, 'id_str wins')
  const replyTo = normalize(delivery(`"tweet_create_events":[${tweet({ in_reply_to_status_id_str: '', in_reply_to_status_id: BIG })}]`))
  t.equal(replyTo.events[0]?.postId, BIG)
})

t.test('deletions with numeric status ids', async (t) => {
  const { events } = normalize(
    delivery(`"tweet_delete_events":[{"status":{"id":${BIG},"user_id":${BIG}},"timestamp_ms":"1767226900000"},{"status":{"id":12345,"user_id":"${CITY}"},"timestamp_ms":1767226900001}]`),
  )
  t.equal(events[0]?.externalId, BIG)
  t.strictSame(events[0]?.author, { id: BIG, name: null })
  t.equal(events[0]?.deliveryKey, `${BIG}:deleted_by_author`)
  t.equal(events[1]?.externalId, '12345', 'a safe number is fine')
  t.equal(events[1]?.platformTime, '2026-01-01T00:21:40.001Z', 'timestamp_ms as a number')
  t.equal(events[1]?.byCityAccount, true, "the city's own deletion")
})

t.test('a truncated tweet takes extended_tweet.full_text', async (t) => {
  const long = 'x'.repeat(250) + ' end'
  const truncated = normalize(delivery(`"tweet_create_events":[${tweet({ text: '"xxx…"', truncated: 'true', extended_tweet: JSON.stringify({ full_text: long }) })}]`))
  t.equal(truncated.events[0]?.text, long)
  const notTruncated = normalize(delivery(`"tweet_create_events":[${tweet({ text: '"short"', truncated: 'false', extended_tweet: '{"full_text":"ignored"}' })}]`))
  t.equal(notTruncated.events[0]?.text, 'short')
  const noExtended = normalize(delivery(`"tweet_create_events":[${tweet({ text: '"cut…"', truncated: 'true' })}]`))
  t.equal(noExtended.events[0]?.text, 'cut…', 'truncated without extended_tweet: the text there is')
})

t.test('v1.1 HTML entities in text are decoded once', async (t) => {
  const { events } = normalize(delivery(`"tweet_create_events":[${tweet({ text: '"a &lt;b&gt; &amp; c &amp;amp; d"' })}]`))
  t.equal(events[0]?.text, 'a <b> & c &amp; d')
})

t.test('time: timestamp_ms first, else created_at', async (t) => {
  const { events } = normalize(delivery(`"tweet_create_events":[${tweet({ timestamp_ms: '', created_at: '"Tue Mar 17 12:00:00 +0000 2026"' })}]`))
  t.equal(events[0]?.platformTime, '2026-03-17T12:00:00.000Z')
  t.equal(parseCreatedAt('Mon Mar 17 12:00:00 +0000 2026'), Date.UTC(2026, 2, 17, 12))
  t.equal(parseCreatedAt('Mon Mar 17 12:00:00 +0130 2026'), Date.UTC(2026, 2, 17, 10, 30))
  t.equal(parseCreatedAt('Mon Mar 17 12:00:00 -0500 2026'), Date.UTC(2026, 2, 17, 17))
  t.equal(parseCreatedAt('Mon Feb 30 12:00:00 +0000 2026'), null)
  t.equal(parseCreatedAt('2026-03-17T12:00:00Z'), null)
  t.equal(parseCreatedAt('Mon Foo 17 12:00:00 +0000 2026'), null)
  const none = normalize(delivery(`"tweet_create_events":[${tweet({ timestamp_ms: '', created_at: '"yesterday"' })}]`))
  t.equal(none.events.length, 0)
  t.match(none.skipped[0]?.reason, /malformed change: \$\.tweet_create_events\[0\]: tweet has no usable/)
})

t.test("the city's own tweet is recorded as the city's", async (t) => {
  const { events } = normalize(delivery(`"tweet_create_events":[${tweet({ user: `{"id_str":"${CITY}","name":"City"}` })}]`))
  t.equal(events.length, 1)
  t.equal(events[0]?.byCityAccount, true)
})

t.test('conversation root, when present, is the post', async (t) => {
  const { events } = normalize(
    delivery(
      `"tweet_create_events":[${tweet({ conversation_id_str: '"1800000000000000000"', in_reply_to_status_id_str: '"1901200000000000000"' })},${tweet({
        id_str: '"1901234567890123457"',
        conversation_id_str: '"1800000000000000000"',
        in_reply_to_status_id_str: '"1800000000000000000"',
      })},${tweet({ id_str: '"1901234567890123458"', in_reply_to_status_id_str: 'null' })}]`,
    ),
  )
  t.strictSame(
    events.map((e) => [e.postId, e.parentId]),
    [
      ['1800000000000000000', '1901200000000000000'],
      ['1800000000000000000', null],
      [null, null],
    ],
  )
})

t.test('other event arrays and retweets are skipped, not thrown', async (t) => {
  const { events, skipped } = normalize(
    delivery(`"user_has_blocked":false,"favorite_events":[{"id":"f1"}],"follow_events":[],"tweet_create_events":[${tweet({ retweeted_status: '{"id_str":"1"}' })}]`),
  )
  t.equal(events.length, 0)
  t.strictSame(
    skipped.map((s) => s.reason),
    ['x tweet 1901234567890123456 is a retweet, not a comment', 'x favorite_events are not comment events', 'x follow_events are not comment events'],
  )
})

t.test('not JSON, or not an X envelope: MalformedDeliveryError', async (t) => {
  for (const [what, body] of [
    ['not JSON', utf8('for_user_id=1')],
    ['no for_user_id', utf8('{"tweet_create_events":[]}')],
    ['events not an array', utf8('{"for_user_id":"1","tweet_create_events":{}}')],
    ['a string', utf8('"x"')],
  ] as const) {
    t.throws(() => normalize(body), MalformedDeliveryError, what)
  }
  const { skipped } = normalize(delivery(`"tweet_create_events":[{"text":"no id","timestamp_ms":"1"}]`))
  t.match(skipped[0]?.reason, /neither id_str nor id/)
})
