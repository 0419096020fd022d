import t, { type Test } from 'tap'
import { DIGIT, normalize, normalizeForComparison, normalizeTerm, SEP, SOFT, SOLO, WORD, type NormalizedText } from '../../src/policy/normalize.js'

/** [normalized char, original substring] pairs: the offset map made readable. */
const pairs = (n: NormalizedText) => [...n.text].map((_, i) => n.original.slice(n.start[i], n.end[i]))
const units = (n: NormalizedText) => Array.from({ length: n.text.length }, (_, i) => [n.text[i], n.original.slice(n.start[i], n.end[i])])

/** Every normalized unit maps to a non-empty, in-bounds, non-decreasing original range. */
function mapIsSane(t: Test, n: NormalizedText) {
  let prevStart = 0
  for (let i = 0; i < n.text.length; i++) {
    const s = n.start[i]!
    const e = n.end[i]!
    if (!(s >= 0 && e > s && e <= n.original.length && s >= prevStart)) {
      t.fail(`unit ${i} maps to [${s}, ${e}) in ${JSON.stringify(n.original)}`)
      return
    }
    prevStart = s
  }
  t.pass('offset map is monotonic and in bounds')
}

t.test('accents: precomposed and combining, with exact offsets', async (t) => {
  const pre = normalize('Café crème')
  t.equal(pre.text, 'cafe creme')
  t.same(Array.from(pre.start), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  t.same(Array.from(pre.end), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])

  const comb = normalize('cafe\u0301 ok') // e + COMBINING ACUTE ACCENT
  t.equal(comb.text, 'cafe ok')
  t.same(Array.from(comb.start), [0, 1, 2, 3, 5, 6, 7])
  t.same(Array.from(comb.end), [1, 2, 3, 5, 6, 7, 8], 'the dropped mark is attached to the e before it')
  t.same(comb.toOriginal(0, 4), { start: 0, end: 5 })
  t.equal(comb.original.slice(0, 5), 'cafe\u0301')

  const stacked = normalize('Z\u0351\u0352\u0353a') // several combining marks on one letter
  t.equal(stacked.text, 'za')
  t.same(pairs(stacked), ['Z\u0351\u0352\u0353', 'a'])
  mapIsSane(t, stacked)
})

t.test('zero-width and other invisible characters are removed, offsets skip them', async (t) => {
  const n = normalize('sh\u200dit \u200bhe\u00adllo\u2060 x\ufeffy \u200e\u200fok')
  t.equal(n.text, 'shit hello xy ok')
  t.same(units(n).slice(0, 4), [['s', 's'], ['h', 'h'], ['i', 'i'], ['t', 't']])
  t.equal(n.start[2], 3, 'the i after the ZWJ starts at 3')
  t.same(n.toOriginal(0, 4), { start: 0, end: 5 }, 'a range over the word covers the ZWJ inside it')
  mapIsSane(t, n)
})

t.test('surrogate pairs and emoji stay intact, both units map to the whole code point', async (t) => {
  const n = normalize('hi 😀 👍🏽 ❤️ 𝐬𝐡𝐢𝐭')
  t.equal(n.text, 'hi 😀 👍🏽 ❤ shit')
  t.equal(n.start[3], 3)
  t.equal(n.end[3], 5)
  t.equal(n.start[4], 3, 'low surrogate maps to the same code point')
  t.equal(n.end[4], 5)
  t.equal(n.classes[3], SOLO)
  const heart = n.text.indexOf('❤')
  t.equal(n.original.slice(n.start[heart], n.end[heart]), '❤️', 'the variation selector is attached to the heart')
  const s = n.text.indexOf('shit')
  t.same(n.toOriginal(s, s + 4), { start: n.original.indexOf('𝐬'), end: n.original.length }, 'math bold letters: 2 units each')
  mapIsSane(t, n)
  // lone surrogates do not crash and are kept
  const lone = normalize('a\ud800b\udc00c')
  t.equal(lone.text.length, 5)
  mapIsSane(t, lone)
})

t.test('right-to-left text and CJK are kept', async (t) => {
  const hebrew = normalize('שָׁלוֹם עולם')
  t.equal(hebrew.text, 'שלום עולם', 'niqqud (nonspacing marks) removed, letters kept')
  t.equal(hebrew.classes[0], WORD)
  mapIsSane(t, hebrew)
  const arabic = normalize('مَرْحَبًا بالعالم')
  t.equal(arabic.text, 'مرحبا بالعالم')
  mapIsSane(t, arabic)
  const cjk = normalize('你好，世界')
  t.equal(cjk.text, '你好 世界')
  t.equal(cjk.classes[0], SOLO, 'Han characters are words by themselves')
  t.same(pairs(cjk), ['你', '好', '，', '世', '界'])
})

t.test('fullwidth forms, ligatures and compatibility characters via NFKD', async (t) => {
  const n = normalize('ＳＨＩＴ ﬁne ①')
  t.equal(n.text, 'shit fine 1')
  t.same(pairs(n).slice(0, 4), ['Ｓ', 'Ｈ', 'Ｉ', 'Ｔ'])
  t.same(pairs(n).slice(5, 7), ['ﬁ', 'ﬁ'], 'both letters of a ligature map to it')
  mapIsSane(t, n)
})

t.test('look-alikes (Cyrillic, Greek, small capitals) map to ASCII', async (t) => {
  t.equal(normalize('ѕһіt').text, 'shit', 'Cyrillic dze, shha, byelorussian i')
  t.equal(normalize('раураl').text, 'paypal', 'Cyrillic er, a, u')
  t.equal(normalize('ΗΕΛΛΟ οκ').text, 'heλλo ok', 'Greek capitals fold to their Latin look-alike')
  t.equal(normalize('ꜱʜɪᴛ').text, 'shit', 'small capitals')
  t.equal(normalize('Straße').text, 'strasse')
  t.equal(normalize('İstanbul').text, 'istanbul')
})

t.test('separators: runs collapse to one space covering the run', async (t) => {
  const n = normalize('kill -- you!!  ok')
  t.equal(n.text, 'kill you ok')
  t.same(pairs(n), ['k', 'i', 'l', 'l', ' -- ', 'y', 'o', 'u', '!!  ', 'o', 'k'])
  t.same(Array.from(n.classes), [1, 1, 1, 1, SEP, 1, 1, 1, SEP, 1, 1])
  t.equal(normalize("don't").text, 'dont', 'apostrophe inside a word is dropped')
  t.equal(normalize("'quoted' cats'").text, ' quoted cats ', 'elsewhere it is a separator')
  t.equal(normalize('tab\tnew\nline\u00a0nbsp').text, 'tab new line nbsp')
})

t.test('substitution form: leetspeak only there', async (t) => {
  const base = normalize('sh1t $hit a$$ 5h!t')
  t.equal(base.text, 'sh1t hit a 5h t')
  t.equal(normalize('sh1t').text, 'sh1t', 'no leetspeak in the base form')
  const sub = normalize('sh1t $hit a$$ 5h!t b00b 7est', 'substitution')
  t.equal(sub.text, 'sh1t shit ass shit boob test', '1 stays 1 (it may be i or l: terms are expanded)')
  const s = sub.text.indexOf('shit')
  t.equal(sub.classes[s], SOFT, '$ is a soft letter')
  const boob = sub.text.indexOf('boob')
  t.same(Array.from(sub.classes.subarray(boob, boob + 4)), [WORD, DIGIT, DIGIT, WORD], 'digits keep their class')
  t.same(pairs(sub).slice(5, 9), ['$', 'h', 'i', 't'])
  t.equal(normalize('phone 815', 'detector').text, 'phone 815', 'the detector form keeps digits and punctuation')
  t.equal(normalize('(815) 555-0142', 'detector').text, '(815) 555-0142')
})

t.test('terms are normalized like text', async (t) => {
  t.equal(normalizeTerm('  Kill   YOU! '), 'kill you', 'trailing ! of a term is punctuation')
  t.equal(normalizeTerm('kill-you'), 'kill you')
  t.equal(normalizeTerm('a$$'), 'ass')
  t.equal(normalizeTerm('Café'), 'cafe')
  t.equal(normalizeTerm('...'), '')
  t.equal(normalizeTerm('\u200b\u200d'), '')
  t.equal(normalizeForComparison('  Hello,   WORLD!! '), 'hello world')
})

t.test('offset maps are sane on mixed input', async (t) => {
  const text = 'Ça va? 👩‍👩‍👧 שלום ＡＢＣ café\u0301 ѕh\u200bit 你好 a\u0000b ' + '\u{1F1FA}\u{1F1F8}'
  for (const mode of ['base', 'substitution', 'detector'] as const) mapIsSane(t, normalize(text, mode))
})
