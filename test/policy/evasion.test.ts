// The evasion techniques one by one (src/policy/evasion.ts, detectors.ts), on small policies:
// what each reads through, the evidence it cites, and the ordinary words each must leave alone.
import t from 'tap'
import { detectEmails, detectPhones } from '../../src/policy/detectors.js'
import { check, evidenceTexts, termsPolicy } from './fixtures/policy.js'

const details = (p: ReturnType<typeof termsPolicy>, text: string) => check(t, p, text).matches.flatMap((m) => m.evidence.map((e) => `${e.text} | ${e.detail}`))

t.test('glued words: a term at the start of a word whose rest is terms or the closed list', async (t) => {
  const p = termsPolicy('rapist', 'hell', 'cock', 'kill you', 'fucking', 'idiot', 'ass')
  t.same(details(p, 'killyou'), ['killyou | term "kill you" (glued words)'])
  // the evidence cites the term inside the glued word
  t.same(details(p, '#fuckingidiot'), ['fucking | term "fucking" (glued words)', 'idiot | term "idiot" (glued words)'])
  t.same(details(p, 'cockyou'), ['cock | term "cock" (glued words)'])
  for (const text of ['my therapist said so', 'hello there', 'cocktail hour', 'the cockpit', 'assassin', 'asshat', 'skillyou', 'gofuckyourself']) {
    t.equal(check(t, p, text).outcome, 'allow', text)
  }
})

t.test('CamelCase: a lower-case letter then an upper-case one is a word boundary', async (t) => {
  const p = termsPolicy('ass', 'idiot')
  t.same(details(p, '#MayorIsAnIdiot'), ['Idiot | term "idiot" (camel case)'])
  t.same(details(p, 'JackAss'), ['Ass | term "ass" (camel case)'])
  for (const text of ['MassTransit', 'ClassAct', 'ASSESSMENT', 'BassPro', 'GrassRoots']) t.equal(check(t, p, text).outcome, 'allow', text)
})

t.test('repeated letters: only in a word with three of one letter in a row', async (t) => {
  const p = termsPolicy('ass', 'kill you', 'hell')
  t.same(evidenceTexts(check(t, p, 'what an asssss')), ['asssss'])
  t.same(details(p, 'I will kiiiill yoooou'), ['kiiiill yoooou | term "kill you" (repeated letters)'])
  for (const text of ['as you like', 'class', 'Passsss the budget', 'Helllllo?', 'Soooo as']) t.equal(check(t, p, text).outcome, 'allow', text)
})

t.test('masked letters: both ends letters of the term, the same length', async (t) => {
  const p = termsPolicy('fuck', 'asshole', 'idiot')
  t.same(details(p, 'f**k it'), ['f**k | term "fuck" (masked letters)'])
  t.same(details(p, 'a**hole'), ['a**hole | term "asshole" (masked letters)'])
  t.same(details(p, 'fu<k'), ['fu<k | term "fuck" (masked letters)'])
  t.same(details(p, 'id1*t'), ['id1*t | term "idiot" (masked letters)'], 'with leetspeak')
  for (const text of ['f***k', '*uck', 'fu**', 'C# and A+', 'f*ck*ng great', 'The*new* bus', 'fork(s)']) t.equal(check(t, p, text).outcome, 'allow', text)
})

t.test('right-to-left override: the text under it is read as displayed, the evidence cites it as written', async (t) => {
  const p = termsPolicy('fuck', 'kill you')
  t.same(details(p, 'a \u202ekcuf\u202c b'), ['kcuf | term "fuck" (right-to-left override)'])
  t.same(details(p, '\u202euoy llik'), ['uoy llik | term "kill you" (right-to-left override)'])
  t.equal(check(t, p, 'kcuf').outcome, 'allow', 'reversed text without the override is not read backwards')
  t.equal(check(t, p, '\u202bkcuf\u202c').outcome, 'allow', 'an embedding (U+202B) does not reverse letters')
})

t.test('spaced letters with glued words: "f u c k y o u"', async (t) => {
  const p = termsPolicy('fuck')
  t.same(details(p, 'f u c k y o u'), ['f u c k | term "fuck" (spaced letters, glued words)'])
  t.equal(check(t, p, 'f u c k e d').outcome, 'allow', 'the rest of the run must be terms or the closed list')
})

t.test('obfuscated e-mail addresses', async (t) => {
  const hits = (text: string) => detectEmails(text).map((m) => `${m.text} | ${m.detail}`)
  t.same(hits('write jane.doe [at] example [dot] com today'), ['jane.doe [at] example [dot] com | e-mail address (obfuscated)'])
  t.same(hits('jane dot doe at gmail dot com'), ['jane dot doe at gmail dot com | e-mail address (obfuscated)'])
  t.same(hits('plain jane@example.com and jane [at] example [dot] org'), ['jane@example.com | e-mail address', 'jane [at] example [dot] org | e-mail address (obfuscated)'])
  for (const text of ['the forms are online at citykankakee-il.gov', 'meet at the park at 6', 'look at the dot on the map', 'Dot at Court St.', 'we met at the dot com party']) {
    t.same(hits(text), [], text)
  }
})

t.test('obfuscated phone numbers', async (t) => {
  const hits = (text: string) => detectPhones(text).map((m) => `${m.text} | ${m.detail}`)
  t.same(hits('call eight one five five five five zero one four two now'), ['eight one five five five five zero one four two | phone number (obfuscated)'])
  t.same(hits('text 815 555 O142'), ['815 555 O142 | phone number (obfuscated)'])
  t.same(hits('it is 8 1 5 5 5 5 0 1 4 2'), ['8 1 5 5 5 5 0 1 4 2 | phone number (obfuscated)'])
  t.same(hits('call 815-555-0142'), ['815-555-0142 | phone number'], 'a plain number is reported once, as plain')
  for (const text of ['scores 21 14, 35 28, 7 3', 'one two three four five six seven eight nine potholes', 'budget line 4-1-0-5', 'zip 60901 and 60914', 'id 1 2 3 4 5 6 7 8 9 0']) {
    t.same(hits(text), [], text)
  }
})

t.test('megabyte inputs built against each technique are evaluated (linear scans; no timing asserted)', async (t) => {
  const p = termsPolicy('fuck', 'kill you')
  const M = 1_000_000
  const cases: Array<[string, string]> = [
    ['a*'.repeat(M / 2) + '1', 'allow'],
    ['fuck'.repeat(M / 4), 'allow'],
    ['fuckthis '.repeat(M / 9), 'remove'],
    ['f u c k '.repeat(M / 8), 'allow'],
    ['f' + 'u'.repeat(M) + 'ck', 'remove'],
    ['\u202e' + 'kcuf '.repeat(M / 5), 'remove'],
  ]
  for (const [text, outcome] of cases) t.equal(check(t, p, text).outcome, outcome, `${JSON.stringify(text.slice(0, 12))}…`)
  t.ok(detectEmails('jane at x dot '.repeat(M / 14) + 'com').length > 0)
  t.same(detectEmails(' '.repeat(M) + ' @'), [])
  t.same(detectPhones('8 1 5 '.repeat(M / 6)), [])
})
