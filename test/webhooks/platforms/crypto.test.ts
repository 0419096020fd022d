import t from 'tap'
import {
  assertSecret,
  bytesEqual,
  decodeBase64Mac,
  decodeHexMac,
  hmacSha256,
  readHeader,
  shortDigest,
  stringsEqual,
} from '../../../src/webhooks/platforms/crypto.js'
import { hmac } from './fixtures/support.js'

// The README's table, row by row, through the one shared HMAC helper.
t.test('README test vectors', async (t) => {
  t.equal(
    'sha256=' + hmacSha256('test-app-secret', '{"object":"page","entry":[]}').toString('hex'),
    'sha256=1a82db3abc2fa71a3fffecfedef579a8468a44850cd8a83a0c56974faff81689',
    'Meta signature',
  )
  t.equal('sha256=' + hmacSha256('test-consumer-secret', 'abc123').toString('base64'), 'sha256=qU/eCGihVsFTuKUtEiRGVEy6qaS2WMueqOYk7hYQ2kU=', 'X CRC')
  t.equal(
    'sha256=' + hmacSha256('test-consumer-secret', '{"for_user_id":"1","tweet_create_events":[]}').toString('base64'),
    'sha256=mFJ22+8/Hf6T7Y9Mt7LB0w9TkXbkQhvSxsnPnaAxyF8=',
    'X signature',
  )
  t.equal(hmacSha256('test-client-secret', 'challenge-1').toString('hex'), '1803a251a826675b23809e4af754cd3cbc226588115a74e076b4d7f595824e00', 'LinkedIn challenge')
  t.equal(
    hmacSha256('test-client-secret', 'hmacsha256=', '{"type":"ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS","notifications":[]}').toString('hex'),
    '341cf5778654a2e246e6fc68fb6ec196f21f44f3bc76346a8896e2de2f4857a7',
    'LinkedIn signature (documented form)',
  )
  t.equal(
    't=1767225600,v1=' + hmacSha256('test-website-secret', '1767225600', '.', '{"events":[]}').toString('hex'),
    't=1767225600,v1=c72468147b6e9879f160c42b8a9bd90b9dc6c0e23ca338b0faaedd1c736e0dad',
    'website signature',
  )
})

t.test('hmacSha256 feeds its parts in order, strings and bytes alike', async (t) => {
  const body = Buffer.from('{"a":"\\u00e9"}', 'utf8')
  t.strictSame(hmacSha256('k', '1.', body), hmac('k', Buffer.concat([Buffer.from('1.'), body])))
  t.strictSame(hmacSha256('k', 'é'), hmac('k', Buffer.from('é', 'utf8')), 'strings are UTF-8')
})

t.test('an empty secret is a configuration error, never a MAC', async (t) => {
  t.throws(() => hmacSha256('', 'x'), /not configured/)
  t.throws(() => assertSecret(''), /not configured/)
  t.doesNotThrow(() => assertSecret('s'))
})

t.test('bytesEqual checks lengths before timingSafeEqual (which would throw)', async (t) => {
  t.equal(bytesEqual(Buffer.from('abc'), Buffer.from('abc')), true)
  t.equal(bytesEqual(Buffer.from('abc'), Buffer.from('abd')), false)
  t.equal(bytesEqual(Buffer.from('abc'), Buffer.from('abcd')), false)
  t.equal(bytesEqual(Buffer.alloc(0), Buffer.alloc(0)), true)
  t.equal(stringsEqual('token', 'token'), true)
  t.equal(stringsEqual('token', 'token2'), false)
  t.equal(stringsEqual('é', 'e'), false)
})

t.test('MAC decoding accepts exactly one SHA-256 digest', async (t) => {
  const digest = hmac('k', 'm')
  t.strictSame(decodeHexMac(digest.toString('hex')), digest)
  t.strictSame(decodeHexMac(digest.toString('hex').toUpperCase()), digest, 'hex case does not matter')
  t.equal(decodeHexMac(digest.toString('hex').slice(2)), null, 'too short')
  t.equal(decodeHexMac(digest.toString('hex') + '00'), null, 'too long')
  t.equal(decodeHexMac('z'.repeat(64)), null, 'not hex')
  t.equal(decodeHexMac(digest.toString('base64')), null, 'base64 is not hex')
  t.strictSame(decodeBase64Mac(digest.toString('base64')), digest)
  t.equal(decodeBase64Mac(digest.toString('base64url')), null, 'base64url is not the documented alphabet/padding')
  t.equal(decodeBase64Mac(digest.toString('base64').slice(0, -1)), null, 'padding required')
  t.equal(decodeBase64Mac(digest.toString('hex')), null, 'hex is not base64')
  t.equal(decodeBase64Mac(''), null)
})

t.test('readHeader: one value, any case of the name', async (t) => {
  t.strictSame(readHeader({ 'x-sig': 'v' }, 'X-Sig'), { status: 'present', value: 'v' })
  t.strictSame(readHeader({ 'X-Sig': ' v ' }, 'x-sig'), { status: 'present', value: 'v' }, 'trimmed')
  t.strictSame(readHeader({ 'x-sig': ['v'] }, 'x-sig'), { status: 'present', value: 'v' })
  t.strictSame(readHeader({}, 'x-sig'), { status: 'missing' })
  t.strictSame(readHeader({ 'x-sig': undefined }, 'x-sig'), { status: 'missing' })
  t.strictSame(readHeader({ 'x-sig': '' }, 'x-sig'), { status: 'missing' })
  t.strictSame(readHeader({ 'x-sig': [] }, 'x-sig'), { status: 'missing' })
  t.strictSame(readHeader({ 'x-sig': ['a', 'b'] }, 'x-sig'), { status: 'malformed' }, 'sent twice')
  t.strictSame(readHeader({ 'x-sig': 'a', 'X-SIG': 'b' }, 'x-sig'), { status: 'malformed' }, 'two spellings')
})

t.test('shortDigest is stable and distinguishes texts', async (t) => {
  t.equal(shortDigest('a'), shortDigest('a'))
  t.not(shortDigest('a'), shortDigest('b'))
  t.match(shortDigest(''), /^[0-9a-f]{16}$/)
})
