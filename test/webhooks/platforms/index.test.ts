import { readdirSync } from 'node:fs'
import t from 'tap'
import { isWebhookSource, MalformedDeliveryError, platformAdapters, sourceOfPlatform } from '../../../src/webhooks/platforms/index.js'
import * as linkedin from '../../../src/webhooks/platforms/linkedin.js'
import * as meta from '../../../src/webhooks/platforms/meta.js'
import { parseJsonBody } from '../../../src/webhooks/platforms/parse.js'
import * as website from '../../../src/webhooks/platforms/website.js'
import * as x from '../../../src/webhooks/platforms/x.js'
import { fixture, FIXTURES_BY_SOURCE, FIXTURES_DIR, utf8 } from './fixtures/support.js'

t.test('every fixture on disk is covered by a platform test', async (t) => {
  const onDisk = readdirSync(FIXTURES_DIR).sort()
  t.ok(onDisk.length > 0)
  t.strictSame(Object.values(FIXTURES_BY_SOURCE).flat().sort(), onDisk)
})

t.test('the registry: one adapter per route, wired to its module', async (t) => {
  t.strictSame(Object.keys(platformAdapters).sort(), ['linkedin', 'meta', 'website', 'x'])
  t.equal(platformAdapters.meta.verifySignature, meta.verifySignature)
  t.equal(platformAdapters.meta.handshake, meta.metaHandshake)
  t.equal(platformAdapters.x.handshake, x.xHandshake)
  t.equal(platformAdapters.linkedin.verifySignature, linkedin.verifySignature)
  t.equal(platformAdapters.linkedin.handshake, linkedin.linkedinHandshake)
  // normalize is the module's, less what PostgreSQL cannot keep (keepRepresentable): the same on every fixture.
  const modules = { meta, x, linkedin, website }
  for (const [source, names] of Object.entries(FIXTURES_BY_SOURCE)) {
    for (const name of names) {
      const body = fixture(name)
      t.same(platformAdapters[source as keyof typeof modules].normalize(body), modules[source as keyof typeof modules].normalize(body), `${source} ${name}`)
    }
  }
  t.equal(platformAdapters.website.handshake, undefined, 'the website has no handshake')
  for (const [source, adapter] of Object.entries(platformAdapters)) t.equal(adapter.source, source)
  for (const [platform, source] of Object.entries(sourceOfPlatform)) {
    t.ok(platformAdapters[source].platforms.includes(platform as never), `${platform} is produced by ${source}`)
  }
  t.ok(Object.isFrozen(platformAdapters))
  t.equal(isWebhookSource('meta'), true)
  t.equal(isWebhookSource('facebook'), false)
  t.equal(isWebhookSource('toString'), false)
})

t.test('every fixture normalizes through the registry to its own platforms', async (t) => {
  for (const [source, names] of Object.entries(FIXTURES_BY_SOURCE)) {
    if (!isWebhookSource(source)) throw new Error(source)
    const adapter = platformAdapters[source]
    for (const name of names) {
      const { events } = adapter.normalize(fixture(name))
      t.ok(events.length > 0, name)
      for (const event of events) {
        t.ok(adapter.platforms.includes(event.platform), `${name}: ${event.platform}`)
        t.type(event.externalId, 'string')
        t.match(event.platformTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
      }
    }
  }
})

t.test('parseJsonBody keeps integers beyond 2^53 exact and leaves everything else alone', async (t) => {
  const body = utf8('{"a":1900000000000000001,"b":-9007199254740993,"c":9007199254740991,"d":1.5e300,"e":"12345678901234567890","f":[12345678901234567890.5],"g":"x\\"1234567890123456789\\"","h":0}')
  t.strictSame(parseJsonBody('x', body), {
    a: '1900000000000000001',
    b: '-9007199254740993',
    c: 9007199254740991,
    d: 1.5e300,
    e: '12345678901234567890',
    f: [JSON.parse('12345678901234567890.5') as number], // not an integer: left to JSON.parse
    g: 'x"1234567890123456789"',
    h: 0,
  })
  t.strictSame(parseJsonBody('meta', utf8('{"m":"\\u00e9\\ud83d\\udc4d"}')), { m: 'é👍' }, '\\u escapes decoded')
  t.strictSame(parseJsonBody('meta', Buffer.from('\uFEFF{"a":1}', 'utf8')), { a: 1 }, 'a UTF-8 BOM is dropped')
  const error = t.throws(() => parseJsonBody('website', utf8('{"a":'))) as MalformedDeliveryError
  t.ok(error instanceof MalformedDeliveryError)
  t.match(error.message, /^malformed website delivery: \$: body is not JSON/)
  t.strictSame(error.issues.map((i) => i.path), ['$'])
})

t.test('MalformedDeliveryError lists a few issues in its message and all in issues', async (t) => {
  const issues = Array.from({ length: 7 }, (_, i) => ({ path: `$.a[${i}]`, message: 'bad' }))
  const error = new MalformedDeliveryError('meta', issues)
  t.equal(error.name, 'MalformedDeliveryError')
  t.equal(error.issues.length, 7)
  t.match(error.message, /\$\.a\[4\]: bad; and 2 more$/)
})
