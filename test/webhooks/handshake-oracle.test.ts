// Handshakes are not signing oracles (issue 23, item 1): X's CRC and LinkedIn's challenge answer
// an HMAC of a caller-chosen value with the secret that also signs deliveries. Whatever an attacker
// asks a handshake to sign, the answer never authenticates a delivery, and nothing is stored.
import t from 'tap'
import { deliver, fixture } from '../factories/webhooks.js'
import { testApp } from '../helpers/app.js'

/** What an attacker asks the handshake to sign: real deliveries, tokens, and tokens with the documented prefix. */
function candidates(body: Buffer): string[] {
  const text = body.toString('utf8')
  return [
    text, // the whole delivery, as the body to forge
    JSON.stringify(JSON.parse(text)), // the same, compact
    `hmacsha256=${text}`, // LinkedIn's documented form signs this prefix and the body
    '9b4507b3-9040-4669-9ca3-6b94edb50553', // a token as the platforms send it
    'bm90IGEgZGVsaXZlcnk=',
    'hmacsha256=9b4507b3-9040-4669-9ca3-6b94edb50553',
    '[]',
    '{}',
    '"a"',
    '1',
  ]
}

/** The signature headers an attacker can build from a handshake's answer to `token`, with the body each would authenticate. */
function forgeries(source: 'x' | 'linkedin', token: string, answer: Record<string, string>): Array<{ body: string; headers: Record<string, string> }> {
  if (source === 'x') return [{ body: token, headers: { 'x-twitter-webhooks-signature': answer.response_token! } }]
  const mac = answer.challengeResponse!
  const forms = [
    { body: token, headers: { 'x-li-signature': mac } }, // plain: HMAC(body)
    { body: token, headers: { 'x-li-signature': `hmacsha256=${mac}` } }, // header-prefix: HMAC(body)
  ]
  // documented: HMAC("hmacsha256=" + body): a challenge "hmacsha256=B" signs body B.
  if (token.startsWith('hmacsha256=')) forms.push({ body: token.slice('hmacsha256='.length), headers: { 'x-li-signature': mac } })
  return forms
}

for (const [source, fixtureName, query] of [
  ['x', 'x-reply.json', 'crc_token'],
  ['linkedin', 'linkedin-comment.json', 'challengeCode'],
] as const) {
  t.test(`${source}: no handshake answer authenticates a delivery`, async (t) => {
    const { app, token } = await testApp(t)
    const stored = async () => (await app.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM webhook_delivery')).rows[0]!.n
    let signed = 0
    let refusedTokens = 0
    for (const candidate of candidates(fixture(fixtureName))) {
      const res = await app.inject({ url: `/v1/webhooks/${source}?${query}=${encodeURIComponent(candidate)}` })
      if (res.statusCode !== 200) {
        t.equal(res.statusCode, 400, `a value no platform sends is refused: ${candidate.slice(0, 40)}`)
        refusedTokens++
        continue
      }
      signed++
      for (const forgery of forgeries(source, candidate, res.json())) {
        const post = await deliver(app, source, forgery.body, { 'content-type': 'application/json', ...forgery.headers })
        t.equal(post.statusCode, 401, `the answer to ${candidate.slice(0, 40)} does not sign the body ${forgery.body.slice(0, 40)}`)
      }
    }
    t.ok(signed >= 2, `tokens as the platform sends them are still answered (${signed})`)
    t.ok(refusedTokens >= 3, `deliveries, JSON and other values are never signed (${refusedTokens})`)
    t.equal(await stored(), 0, 'nothing was stored')

    // The real thing still works, and the TST sees the attempts.
    const real = fixture(fixtureName)
    t.equal((await deliver(app, source, real)).statusCode, 200, 'a delivery signed by the platform is stored')
    const status = await app.inject({ url: '/v1/webhooks/status', headers: { authorization: `Bearer ${token('tst_admin')}` } })
    const counters = (status.json() as { sources: Record<string, { rejected: { handshake: number } }> }).sources[source]
    t.ok(counters && counters.rejected.handshake > 0, `the attempts are counted on the status route (${counters?.rejected.handshake})`)
  })
}

t.test('a handshake token is answered as the platform expects', async (t) => {
  const { app } = await testApp(t)
  const x = await app.inject({ url: '/v1/webhooks/x?crc_token=9b4507b3-9040-4669-9ca3-6b94edb50553' })
  t.equal(x.statusCode, 200)
  t.match(x.json(), { response_token: /^sha256=[A-Za-z0-9+/]{43}=$/ })
  const linkedin = await app.inject({ url: '/v1/webhooks/linkedin?challengeCode=890e4665-4dfe-4ab1-b689-ed553bceeed0&applicationId=1' })
  t.equal(linkedin.statusCode, 200)
  t.match(linkedin.json(), { challengeCode: '890e4665-4dfe-4ab1-b689-ed553bceeed0', challengeResponse: /^[0-9a-f]{64}$/ })
})
