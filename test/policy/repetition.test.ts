import { createHash } from 'node:crypto'
import t from 'tap'
import { compilePolicy } from '../../src/policy/compile.js'
import { DEFAULT_POLICY } from '../../src/policy/default-policy.js'
import { evaluate } from '../../src/policy/evaluate.js'
import {
  decodeFingerprint,
  encodeFingerprint,
  fingerprintOf,
  fingerprintSimilarity,
  isSimilarFingerprint,
  RECENT_VERSIONS_COMPARED,
  recentInWindow,
  SKETCH_SIZE,
  textSimilarity,
  versionsCompared,
} from '../../src/policy/repetition.js'

/** A deterministic comment of ordinary words, different for every seed. */
function comment(seed: number, length: number): string {
  let x = seed * 2654435761 + 7
  const next = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32)
  const words = ['the', 'council', 'bridge', 'budget', 'parking', 'garage', 'water', 'rates', 'school', 'library', 'police', 'road', 'repair', 'vote', 'meeting', 'taxes', 'park', 'trees', 'snow', 'plow', 'street', 'lights', 'permit', 'zoning', 'housing', 'noise', 'trash', 'pickup', 'sidewalk', 'crossing']
  let s = ''
  while (s.length < length) s += words[Math.floor(next() * words.length)] + (next() < 0.08 ? `${Math.floor(next() * 1000)}. ` : ' ')
  return s.slice(0, length)
}

t.test('fingerprints of a text are stable: same text, same bytes, across runs and releases', async (t) => {
  const text = comment(1, 8000)
  t.same(encodeFingerprint(fingerprintOf(text)), encodeFingerprint(fingerprintOf(text)))
  t.same(decodeFingerprint(encodeFingerprint(fingerprintOf(text))), fingerprintOf(text), 'the stored form reads back to the same fingerprint')
  t.same(encodeFingerprint(fingerprintOf('VOTE   NO on the garage!!')), encodeFingerprint(fingerprintOf('vote no on the garage')), 'it is of the normalized form')
  // Stored fingerprints are compared with new ones: a change of the algorithm must be a new format
  // (FINGERPRINT_FORMAT), never a silent change of these bytes.
  const digest = (s: string) => createHash('sha256').update(encodeFingerprint(fingerprintOf(s))).digest('hex')
  t.equal(digest(text), '6af07212adc82424bb0e16a90792428b9e55840cd8d7345f7368c859a41e94bc', 'an 8,000-character comment')
  t.equal(digest('Vote no on the new parking garage, it is a waste of our tax money'), '5e32c75fbe4b9653f19d6e6ee152ca229ae202e5c8b2159eb72a8ecd03a3b116', 'a short comment')
  t.equal(fingerprintOf(text).hashes.length, SKETCH_SIZE, 'at most SKETCH_SIZE values, however long the text')
  t.equal(decodeFingerprint(Buffer.from([2, 0, 0, 0, 0, 0, 0, 0, 0])), null, 'another format is not read as one')
})

t.test('similarity from fingerprints is the exact Jaccard index when both texts have at most 256 3-grams', async (t) => {
  const base = 'vote no on the new parking garage - it is a waste of our tax money'
  const pairs: Array<[string, string]> = [
    [base, base],
    [base, base.toUpperCase()],
    [base, base + ' ok'],
    [base, base.replace('garage', 'garaje')],
    [base, 'The parking garage is a great idea, thank you council'],
    [base, 'something else entirely'],
    ['ab', 'ab'],
    ['ab', 'ac'],
    ['ab', base],
    [comment(3, 240), comment(3, 240).slice(0, 200) + ' and more words here'],
  ]
  for (const [a, b] of pairs) {
    t.equal(fingerprintSimilarity(fingerprintOf(a), fingerprintOf(b)), textSimilarity(a, b), `${a.slice(0, 30)} / ${b.slice(0, 30)}`)
  }
})

t.test('long texts: the estimate is close to the exact index (docs/policy.md states the bound)', async (t) => {
  const long = comment(5, 8000)
  const variants = [
    long,
    long.slice(0, 4000) + ' the council should act ' + long.slice(4030),
    long.slice(0, 7000) + comment(6, 1000),
    long.slice(0, 5600) + comment(7, 2400),
    long.slice(0, 4000) + comment(8, 4000),
    comment(9, 8000),
  ]
  for (const v of variants) {
    const exact = textSimilarity(long, v)
    const estimate = fingerprintSimilarity(fingerprintOf(long), fingerprintOf(v))
    t.ok(Math.abs(estimate - exact) <= 0.06, `exact ${exact.toFixed(3)}, estimate ${estimate.toFixed(3)}`)
  }
  t.equal(fingerprintSimilarity(fingerprintOf(long), fingerprintOf(long.toUpperCase())), 1, 'the same normalized text is 1')
  t.notOk(isSimilarFingerprint(fingerprintOf(long), fingerprintOf(long.slice(0, 3000)), 0.9), 'sizes alone rule out a text less than half as long')
})

t.test('work per comment is bounded: a rule compares at most K of the author versions, the most recent', async (t) => {
  t.equal(RECENT_VERSIONS_COMPARED, 100)
  t.equal(versionsCompared(3), 100)
  t.equal(versionsCompared(1000), 999, 'a rule with a larger minCount compares minCount - 1, so it can still match')
  const now = Date.parse('2026-11-24T12:00:00Z')
  const at = (secondsBefore: number) => new Date(now - secondsBefore * 1000).toISOString()
  // 500 versions in the window, oldest first, and some outside it.
  const history = [
    ...Array.from({ length: 20 }, (_, i) => ({ platformTime: at(3600 + i) })),
    ...Array.from({ length: 500 }, (_, i) => ({ platformTime: at(500 - i) })),
  ]
  const picked = recentInWindow(history, now, 600_000, 100)
  t.equal(picked.length, 100, 'K of 500, whatever the history')
  t.same(picked, Array.from({ length: 100 }, (_, i) => 420 + i), 'the most recent')
  t.same(recentInWindow(history.slice(0, 30), now, 600_000, 100), Array.from({ length: 10 }, (_, i) => 20 + i), 'fewer in the window: all of them')

  // Behaviour of the bound with the default policy (4.g: 3 similar within 10 minutes remove): two
  // copies among the 100 most recent versions count; two copies older than those are not looked at.
  const p = compilePolicy(DEFAULT_POLICY, 'v1')
  const spam = 'Visit my page for the best deals on gutters in town'
  const filler = Array.from({ length: 300 }, (_, i) => ({ text: `comment number ${i} about the bridge and the budget ${i * 7}`, platformTime: at(400 - i) }))
  const recentCopies = [...filler, { text: spam, platformTime: at(50) }, { text: spam, platformTime: at(40) }]
  recentCopies.sort((a, b) => (a.platformTime < b.platformTime ? -1 : 1))
  t.equal(evaluate(p, { text: spam, authorHistory: recentCopies, platformTime: at(0) }).outcome, 'remove', 'copies among the K most recent are caught')
  const oldCopies = [{ text: spam, platformTime: at(590) }, { text: spam, platformTime: at(580) }, ...filler]
  t.equal(evaluate(p, { text: spam, authorHistory: oldCopies, platformTime: at(0) }).outcome, 'allow', 'copies behind 100 later versions are not compared (documented bound)')
})
