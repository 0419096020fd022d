// The format 2 commitment's fast paths (src/ledger/sha256.ts, and the string digest computed on a
// string's UTF-8 bytes in reused buffers) against the construction as docs/ledger.md states it, with
// node:crypto: the same bytes for every length, key and kind of text. The vectors
// (format2.test.ts) pin the construction itself.
import { createHash, createHmac, randomBytes } from 'node:crypto'
import t from 'tap'
import { canonicalJson } from '../../src/ledger/canonical-json.js'
import { checkDisclosure, disclose, fieldKey, HmacKey, openPayload, payloadCommitment, segmentDigest, segmentKeys, segments, skeleton, stringDigest, valueDigest } from '../../src/ledger/commitment.js'
import { sha256BlockState, sha256Into } from '../../src/ledger/sha256.js'

t.test('sha256Into is SHA-256 for every length around the block boundaries, and after a prefix state', async (t) => {
  let bad = 0
  for (let len = 0; len <= 300; len++) {
    const data = randomBytes(len + 7)
    const out = Buffer.alloc(40)
    sha256Into(data, 3, 3 + len, out, 5)
    if (!out.subarray(5, 37).equals(createHash('sha256').update(data.subarray(3, 3 + len)).digest())) bad++
    const block = randomBytes(64)
    sha256Into(data, 3, 3 + len, out, 0, sha256BlockState(block), 64)
    if (!out.subarray(0, 32).equals(createHash('sha256').update(block).update(data.subarray(3, 3 + len)).digest())) bad++
  }
  t.equal(bad, 0, 'no length differs')
  // The input and the output may be the same buffer (the HMAC's inner digest is written over its message).
  const same = Buffer.from(randomBytes(100))
  const expected = createHash('sha256').update(same).digest()
  sha256Into(same, 0, 100, same, 0)
  t.same(same.subarray(0, 32), expected)
})

t.test('K(p) is HMAC-SHA256 under the salt, for keys of every length and pointers of any text', async (t) => {
  const LABEL = Buffer.from('townsquare/ledger/v2/key\0', 'utf8')
  let bad = 0
  for (let len = 0; len <= 130; len += 1) {
    const key = randomBytes(len)
    const keyed = new HmacKey(key)
    for (const pointer of ['', '/text', '/author/name', '/a~1b/0', '/é/日本/😀', '/' + 'x'.repeat(200), '/\ud800lone']) {
      const expected = createHmac('sha256', key).update(LABEL).update(pointer, 'utf8').digest()
      if (!keyed.fieldKey(pointer).equals(expected) || !fieldKey(key, pointer).equals(expected)) bad++
    }
  }
  t.equal(bad, 0)
})

t.test("a string's digest is the digest of its segments' digests under the SHAKE256 keys", async (t) => {
  const reference = (key: Buffer, text: string) => {
    const segs = segments(text)
    const keys = segmentKeys(key, segs.length)
    return stringDigest(segs.map((s, i) => segmentDigest(keys[i]!, s)))
  }
  const texts = [
    '',
    ' ',
    '   leading spaces',
    'trailing   ',
    'one',
    'please fix the potholes on Washington Avenue before winter',
    'tabs\tand\nnew\r\nlines\v\fall',
    'no\u00a0break\u2003spaces stay inside a word',
    'é日本😀 mixed   scripts',
    'a lone \ud800 surrogate and \udfff another',
    'x'.repeat(5000) + ' ' + 'y'.repeat(119) + ' z',
    Array.from({ length: 3000 }, (_, i) => `w${i}`).join(' '),
  ]
  for (let i = 0; i < 200; i++) {
    const alphabet = ['a', 'b', ' ', '\t', '\n', 'é', '😀', '\u00a0', '123', 'long-word-' + 'q'.repeat(i)]
    texts.push(Array.from({ length: i % 40 }, () => alphabet[Math.floor(Math.random() * alphabet.length)]).join(''))
  }
  let bad = 0
  for (const text of texts) {
    const key = randomBytes(32)
    if (!valueDigest(key, text).equals(reference(key, text))) bad++
  }
  t.equal(bad, 0, `all ${texts.length} texts`)
})

t.test("a payload's commitment written in one walk is the SHA-256 of the canonical JSON of its skeleton", async (t) => {
  const payloads: unknown[] = [
    { author: { id: 'u-1', name: 'Resident 1' }, kind: 'created', platform: 'website', platformTime: '2026-11-02T15:00:00.000Z', text: 'please fix the potholes' },
    { b: 1, a: [true, false, null, 0, -1.5e300, 'x', [], {}, [[{ z: 'deep' }]]], '10': 'ten', '2': 'two', 'é': 'accent', 'Z': 'upper', '~/': 'escaped', '': 'empty key', '😀': 'astral' },
    [],
    {},
    'a bare string',
    42,
    null,
  ]
  for (const payload of payloads) {
    const salt = randomBytes(32)
    const reference = createHash('sha256').update(canonicalJson(skeleton(payload, salt)), 'utf8').digest('hex')
    t.equal(payloadCommitment(payload, salt), reference, JSON.stringify(payload).slice(0, 40))
    const opened = openPayload(payload, salt)
    t.equal(opened.commitment, reference)
    t.ok([...opened.keys].every(([p, k]) => k.equals(fieldKey(salt, p))), 'each field key is K(p)')
    const { displayed, disclosure } = disclose(payload, salt, {}, opened.keys)
    t.same(disclose(payload, salt).disclosure, disclosure, 'the same disclosure with the keys given')
    t.equal(checkDisclosure(displayed, disclosure, reference).problem, null, 'and it opens the commitment')
  }
  t.throws(() => payloadCommitment(JSON.parse('{"\\ud800":"lone"}'), randomBytes(32)), TypeError, 'a key with a lone surrogate is refused, as canonicalJson refuses it')
})
