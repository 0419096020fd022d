// The format 2 commitment's fast paths (src/ledger/sha256.ts, and the string digest computed on a
// string's UTF-8 bytes in reused buffers) against the construction as docs/ledger.md states it, with
// node:crypto: the same bytes for every length, key and kind of text. The vectors
// (format2.test.ts) pin the construction itself.
import { createHash, createHmac, randomBytes } from 'node:crypto'
import t from 'tap'
import { fieldKey, HmacKey, segmentDigest, segmentKeys, segments, stringDigest, valueDigest } from '../../src/ledger/commitment.js'
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
