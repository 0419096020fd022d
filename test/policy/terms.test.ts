import t from 'tap'
import { AhoCorasick } from '../../src/policy/aho-corasick.js'
import { termVariants } from '../../src/policy/compile.js'
import { check, evidenceTexts, termsPolicy } from './fixtures/policy.js'

t.test('Aho-Corasick finds every occurrence of every pattern, overlapping ones included', async (t) => {
  const ac = new AhoCorasick(['he', 'she', 'his', 'hers', 'e'])
  const found = ac.findAll('ushers').map((m) => `${m.pattern}@${m.start}-${m.end}`)
  t.same(found.sort(), ['0@2-4', '1@1-4', '3@2-6', '4@3-4'].sort())
  t.same(new AhoCorasick(['aa']).findAll('aaaa').map((m) => m.start), [0, 1, 2])
  t.same(new AhoCorasick(['x', 'x']).findAll('x').map((m) => m.pattern).sort(), [0, 1], 'duplicate patterns both reported')
  t.throws(() => new AhoCorasick(['']))
})

t.test('Aho-Corasick sparse mode finds the same matches as dense mode', async (t) => {
  const patterns = ['abc', 'bcd', 'cd', 'dab', 'b', '你好', '😀x']
  const text = 'xabcdabcd你好😀x'
  const dense = new AhoCorasick(patterns)
  const sparse = new AhoCorasick(patterns, { denseLimit: 0 })
  t.ok(dense.dense)
  t.notOk(sparse.dense)
  const key = (ac: AhoCorasick) => ac.findAll(text).map((m) => `${m.pattern}@${m.start}`).sort()
  t.same(key(sparse), key(dense))
  t.ok(key(dense).includes('5@9'))
})

t.test('term variants: each i or l may be written 1', async (t) => {
  t.same(termVariants('kill').sort(), ['k111', 'k11l', 'k1l1', 'k1ll', 'ki11', 'ki1l', 'kil1', 'kill'])
  t.same(termVariants('ass'), ['ass'])
  t.equal(termVariants('illillillill').length, 64, 'capped')
})

t.test('whole words only: innocent words containing a banned one do not match', async (t) => {
  const p = termsPolicy('cunt', 'ass', 'rapist', 'cock', 'tit', 'hell', 'cum')
  for (const innocent of [
    'Scunthorpe United played well',
    'The property tax assessment is too high',
    'a classic car show',
    'The passenger rail proposal',
    'my therapist said so',
    'the cockpit tour at the airport',
    'Title IX, the title of the report',
    'Hello, shell company? Michelle said hello',
    'cumulative rainfall',
    'A massive grass fire, the bass tournament',
  ]) {
    const r = check(t, p, innocent)
    t.equal(r.outcome, 'allow', innocent)
  }
  t.equal(check(t, p, 'what an ass.').outcome, 'remove')
  t.equal(check(t, p, 'ASS').outcome, 'remove')
  t.same(evidenceTexts(check(t, p, 'Ass, ass and (ass)')), ['Ass', 'ass', 'ass'])
})

t.test('case, accents, look-alikes, fullwidth', async (t) => {
  const p = termsPolicy('shit')
  for (const text of ['SHIT', 'Shít', 'shi\u0301t', 'ѕhit', 'ѕһіt', 'ＳＨＩＴ', '𝐬𝐡𝐢𝐭', 'ꜱʜɪᴛ']) {
    const r = check(t, p, `oh ${text} no`)
    t.equal(r.outcome, 'remove', text)
    t.same(evidenceTexts(r), [text], `evidence cites the original ${text}`)
  }
})

t.test('substitutions (leetspeak)', async (t) => {
  const p = termsPolicy('shit', 'ass', 'kill', 'idiot', 'boobs')
  const cases: Array<[string, string]> = [
    ['this is sh1t', 'sh1t'],
    ['$hit happens', '$hit'],
    ['sh!t', 'sh!t'],
    ['5h17', '5h17'],
    ['a$$ clown', 'a$$'],
    ['@ss', '@ss'],
    ['ki11 it', 'ki11'],
    ['k1ll it', 'k1ll'],
    ['you !d10t', '!d10t'],
    ['b00bs', 'b00bs'],
    ['shit!', 'shit'],
    ['sh1t!!!', 'sh1t'],
    ['(a$$)', 'a$$'],
  ]
  for (const [text, evidence] of cases) {
    const r = check(t, p, text)
    t.same(evidenceTexts(r), [evidence], text)
  }
  // digits alone are numbers, not words
  for (const text of ['Route 455', 'call 5417', '$455 fine', 'id 1d10', 'room 8008']) t.equal(check(t, p, text).outcome, 'allow', text)
  // leetspeak does not glue innocent words
  for (const text of ['cl@ssic', 'cla$$ic', 'a$$essment', 'pa$$enger']) t.equal(check(t, p, text).outcome, 'allow', text)
})

t.test('a term written with digits matches as written', async (t) => {
  const p = termsPolicy('420', 'b1tch')
  t.same(evidenceTexts(check(t, p, 'blaze it 420 today')), ['420'])
  t.same(evidenceTexts(check(t, p, 'you bitch')), ['bitch'], 'a 1 in a term may be an i')
  t.equal(check(t, p, '4200').outcome, 'allow')
})

t.test('zero-width characters inside a banned word do not prevent the match', async (t) => {
  const p = termsPolicy('shit', 'kill you')
  for (const zw of ['\u200b', '\u200c', '\u200d', '\u2060', '\ufeff', '\u00ad']) {
    const text = `oh sh${zw}it`
    const r = check(t, p, text)
    t.equal(r.outcome, 'remove', `U+${zw.codePointAt(0)!.toString(16)}`)
    t.same(evidenceTexts(r), [`sh${zw}it`])
  }
  t.same(evidenceTexts(check(t, p, 'k\u200dill\u200b y\u200dou')), ['k\u200dill\u200b y\u200dou'])
})

t.test('phrases match across any whitespace or punctuation', async (t) => {
  const p = termsPolicy('kill you')
  for (const text of ['kill you', 'kill   you', 'kill-you', 'kill.you', 'KILL_YOU', 'kill\n\tyou', 'kill… you', 'kill -- you!', 'kill, you']) {
    const r = check(t, p, `I will ${text} now`)
    t.equal(r.outcome, 'remove', JSON.stringify(text))
    t.equal(r.matches[0]!.evidence[0]!.text, text.replace(/!$/, ''))
  }
  for (const text of ['skill you', 'kill youth', 'kill y ou']) t.equal(check(t, p, text).outcome, 'allow', text)
  // written without its space, the phrase is a glued word (evasion.ts), and says so
  t.match(check(t, p, 'killyou').matches[0]!.evidence[0]!.detail, /glued words/)
})

t.test('letters spelled out one by one (spaced letters)', async (t) => {
  const p = termsPolicy('shit', 'ass')
  t.same(evidenceTexts(check(t, p, 'this is s h i t ok')), ['s h i t'])
  t.same(evidenceTexts(check(t, p, 'S.H.I.T.')), ['S.H.I.T'])
  t.same(evidenceTexts(check(t, p, 's-h-1-t')), ['s-h-1-t'])
  t.same(evidenceTexts(check(t, p, 'a s s')), ['a s s'])
  // only a whole run that spells the term exactly
  t.equal(check(t, p, 'x s h i t').outcome, 'allow')
  t.equal(check(t, p, 'U.S.A. a s k').outcome, 'allow')
  // gaps of up to three characters ("f  u  c  k", "f - u - c - k"); wider gaps and line breaks are not one word
  t.same(evidenceTexts(check(t, p, 's  h  i  t')), ['s  h  i  t'])
  t.equal(check(t, p, 's    h    i    t').outcome, 'allow', 'wider gaps are not read as one word')
  t.equal(check(t, p, 's\nh\ni\nt').outcome, 'allow', 'nor letters on lines of their own')
})

t.test('emoji and CJK do not glue to words; CJK terms match inside CJK text', async (t) => {
  const p = termsPolicy('idiot', '傻瓜', '🖕')
  t.same(evidenceTexts(check(t, p, 'you idiot😂😂')), ['idiot'])
  t.same(evidenceTexts(check(t, p, '你是傻瓜吗')), ['傻瓜'])
  t.same(evidenceTexts(check(t, p, 'ok🖕🏽ok')), ['🖕'])
  t.same(evidenceTexts(check(t, p, 'שלום idiot مرحبا')), ['idiot'])
})

t.test('every occurrence is reported once, by offset', async (t) => {
  const p = termsPolicy('shit', 'Shit', 'sh1t', 'bull shit', 'shit show')
  const text = 'shit, bull-shit and a SHIT SHOW'
  const r = check(t, p, text)
  t.same(
    r.matches[0]!.evidence.map((e) => [e.start, e.end, e.text]),
    [
      [0, 4, 'shit'],
      [6, 15, 'bull-shit'],
      [11, 15, 'shit'],
      [22, 26, 'SHIT'],
      [22, 31, 'SHIT SHOW'],
    ],
  )
  t.match(r.matches[0]!.evidence[0]!.detail, /term "shit"/)
})
