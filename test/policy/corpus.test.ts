// The default policy against the evaluation corpus (test/policy/fixtures/corpus.ts): every
// ordinary comment allowed, every evasion caught by its rule with its technique named.
import t from 'tap'
import { compilePolicy } from '../../src/policy/compile.js'
import { DEFAULT_POLICY } from '../../src/policy/default-policy.js'
import { CONTACT, EVASIONS, KNOWN_FALSE_POSITIVES, ORDINARY } from './fixtures/corpus.js'
import { check } from './fixtures/policy.js'

const compiled = compilePolicy(DEFAULT_POLICY, 'default-v1')

t.test('the corpus is the size the issue asks for', async (t) => {
  t.ok(ORDINARY.length >= 150, `${ORDINARY.length} ordinary comments`)
  t.ok(EVASIONS.length >= 80, `${EVASIONS.length} evasions`)
  t.equal(new Set(ORDINARY).size, ORDINARY.length, 'no duplicates')
})

t.test('every ordinary comment is allowed', async (t) => {
  for (const text of ORDINARY) {
    const r = check(t, compiled, text)
    t.same(r.matches.map((m) => `${m.ruleCode}: ${m.evidence.map((e) => `${e.text} (${e.detail})`).join('; ')}`), [], text)
  }
})

t.test('known false positives of the term lists are flagged, not removed', async (t) => {
  for (const { text, rule } of KNOWN_FALSE_POSITIVES) {
    const r = check(t, compiled, text)
    t.equal(r.outcome, 'flag', text)
    t.same(r.matches.map((m) => m.ruleCode), [rule], text)
  }
})

t.test('contact information in the clear is flagged by 4.e, as before', async (t) => {
  for (const text of CONTACT) {
    const r = check(t, compiled, text)
    t.equal(r.outcome, 'flag', text)
    t.same(r.matches.map((m) => m.ruleCode), ['4.e'], text)
  }
})

t.test('every evasion is caught by its rule, which names the technique', async (t) => {
  for (const { text, rule, technique } of EVASIONS) {
    const r = check(t, compiled, text)
    const match = r.matches.find((m) => m.ruleCode === rule)
    t.ok(match, `${JSON.stringify(text)} matches ${rule} (got ${r.matches.map((m) => m.ruleCode).join(', ') || 'nothing'})`)
    t.ok(
      match?.evidence.some((e) => e.detail?.includes(technique)),
      `${JSON.stringify(text)}: evidence names ${technique} (${JSON.stringify(match?.evidence.map((e) => e.detail))})`,
    )
    // a removing rule removes; a flagging one flags, unless another rule removes too
    if (DEFAULT_POLICY.rules.find((x) => x.code === rule)!.action === 'remove') t.equal(r.outcome, 'remove', `${JSON.stringify(text)}: removed`)
    else t.not(r.outcome, 'allow', `${JSON.stringify(text)}: not allowed`)
  }
})
