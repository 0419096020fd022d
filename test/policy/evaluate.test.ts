import t from 'tap'
import { compilePolicy, PolicyCache } from '../../src/policy/compile.js'
import { DEFAULT_POLICY } from '../../src/policy/default-policy.js'
import { evaluate, MAX_EVIDENCE_PER_RULE } from '../../src/policy/evaluate.js'
import { textSimilarity } from '../../src/policy/repetition.js'
import { Evaluation } from '../../src/policy/rules.js'
import { check, content, evidenceTexts, policy } from './fixtures/policy.js'

t.test('empty or null text is allowed without matches', async (t) => {
  const p = compilePolicy(DEFAULT_POLICY, 'v1')
  for (const text of [null, '']) {
    t.same(evaluate(p, { text }), { versionId: 'v1', outcome: 'allow', matches: [] })
  }
  t.same(evaluate(p, { text: '', authorHistory: [{ text: '', platformTime: '2026-11-24T12:00:00Z' }], platformTime: '2026-11-24T12:00:00Z' }).matches, [])
  t.equal(evaluate(p, { text: '   \u200b  ' }).outcome, 'allow')
})

t.test('outcome precedence: remove > flag > allow; matches in rule order', async (t) => {
  const p = policy(
    { code: 'f1', action: 'flag', matcher: { type: 'terms', terms: ['idiot'] } },
    { code: 'r1', action: 'remove', matcher: { type: 'terms', terms: ['shit'] } },
    { code: 'f2', action: 'flag', matcher: { type: 'terms', terms: ['moron'] } },
  )
  t.equal(check(t, p, 'fine comment').outcome, 'allow')
  t.equal(check(t, p, 'idiot').outcome, 'flag')
  t.equal(check(t, p, 'moron and idiot').outcome, 'flag')
  const both = check(t, p, 'moron, shit, idiot')
  t.equal(both.outcome, 'remove')
  t.same(both.matches.map((m) => [m.ruleCode, m.action, m.category]), [
    ['f1', 'flag', 'other'],
    ['r1', 'remove', 'other'],
    ['f2', 'flag', 'other'],
  ])
  t.ok(Evaluation.safeParse(both).success, 'the result satisfies the response schema')
})

t.test('deterministic: same text and version give deep-equal results', async (t) => {
  const p1 = compilePolicy(DEFAULT_POLICY, 'v1')
  const p2 = compilePolicy(structuredClone(DEFAULT_POLICY), 'v1')
  const text = 'You idiot, call (815) 555-0142 or see bit.ly/abc — sh1t, s h i t, kill-you, 12 Oak St, bob@example.com'
  const a = evaluate(p1, { text })
  t.same(evaluate(p1, { text }), a)
  t.same(evaluate(p2, { text }), a, 'a fresh compilation gives the same result')
  t.equal(JSON.stringify(evaluate(p1, { text })), JSON.stringify(a), 'byte-identical JSON')
  for (const m of a.matches) {
    const starts = m.evidence.map((e) => e.start)
    t.same(starts, [...starts].sort((x, y) => x - y), `evidence of ${m.ruleCode} by offset`)
  }
})

t.test('repetition: near-same comments within the window', async (t) => {
  const p = policy({ code: 'rep', action: 'flag', matcher: { type: 'repetition', minCount: 3, windowMinutes: 10, similarity: 0.9 } })
  const now = '2026-11-24T12:00:00Z'
  const text = 'Vote NO on the new parking garage, it is a waste of our tax money!!'
  const at = (minutesBefore: number) => new Date(Date.parse(now) - minutesBefore * 60_000).toISOString()
  const same = (m: number, s = text) => ({ text: s, platformTime: at(m) })

  // two earlier copies (one slightly different) + this one = 3
  const r = check(t, p, { text, platformTime: now, authorHistory: [same(2), same(5, 'vote no on the new parking garage - it is a waste of our tax money')] })
  t.equal(r.outcome, 'flag')
  t.same(r.matches[0]!.evidence, [{ start: 0, end: text.length, text, detail: '3 same or similar comments (similarity >= 0.9) within 10 minutes, including this one' }])

  t.equal(check(t, p, { text, platformTime: now, authorHistory: [same(2)] }).outcome, 'allow', 'only 2')
  t.equal(check(t, p, { text, platformTime: now, authorHistory: [same(2), same(11)] }).outcome, 'allow', 'outside the window')
  t.equal(check(t, p, { text, platformTime: now, authorHistory: [same(2), same(-1)] }).outcome, 'allow', 'after this comment')
  t.equal(check(t, p, { text, platformTime: now, authorHistory: [same(2), same(3, 'The parking garage is a great idea, thank you council')] }).outcome, 'allow', 'a different comment')
  t.equal(check(t, p, { text, authorHistory: [same(2), same(3)] }).outcome, 'allow', 'no platformTime: no window')
  t.equal(check(t, p, { text, platformTime: now, authorHistory: [same(0), same(10)] }).outcome, 'flag', 'window bounds are inclusive')

  t.equal(textSimilarity(text, text.toUpperCase()), 1)
  t.ok(textSimilarity(text, text + ' ok') > 0.9)
  t.ok(textSimilarity(text, 'something else entirely') < 0.2)
  t.equal(textSimilarity('ab', 'ab'), 1)
  t.equal(textSimilarity('ab', 'ac'), 0)
})

t.test('a 1 MB comment evaluates correctly (linear behaviour)', async (t) => {
  const p = compilePolicy(DEFAULT_POLICY, 'v1')
  const chunk = 'The city council did a great job on the Washington Ave repaving, honestly. Thank you 👍 café! '
  let text = ''
  while (text.length < 1_000_000) text += chunk
  const clean = evaluate(p, { text })
  t.equal(clean.outcome, 'allow')

  const dirty = text.slice(0, 500_000) + ' you idiot, sh1t! ' + text.slice(500_000) + ' call 815-555-0142'
  const r = check(t, p, { text: dirty, authorHistory: [{ text: dirty, platformTime: '2026-11-24T11:59:00Z' }], platformTime: '2026-11-24T12:00:00Z' })
  t.equal(r.outcome, 'remove')
  t.same(r.matches.map((m) => m.ruleCode), ['4.a', '4.c', '4.e'])
  t.equal(r.matches[0]!.evidence[0]!.start, 500_005 + 'idiot, '.length)

  // many hits: evidence is capped, the rest counted
  const flood = 'shit '.repeat(200_000)
  const f = check(t, p, { text: flood })
  t.equal(f.matches[0]!.evidence.length, MAX_EVIDENCE_PER_RULE)
  t.equal(f.matches[0]!.omittedEvidence, 200_000 - MAX_EVIDENCE_PER_RULE)
  t.equal(check(t, p, { text: 'a'.repeat(1_000_000) }).outcome, 'allow')
  t.equal(check(t, p, { text: '$'.repeat(500_000) + 'hit' }).outcome, 'remove')
  t.equal(check(t, p, { text: '1'.repeat(1_000_000) }).outcome, 'allow')
})

t.test('policy cache compiles each version once', async (t) => {
  const cache = new PolicyCache(2)
  let loads = 0
  const load = () => {
    loads++
    return content({ matcher: { type: 'terms', terms: ['x'] } })
  }
  const a = cache.get('v1', load)
  t.equal(cache.get('v1', load), a)
  t.equal(loads, 1)
  cache.get('v2', load)
  cache.get('v1', load) // v1 is now most recently used
  cache.get('v3', load) // evicts v2
  t.ok(cache.has('v1'))
  t.notOk(cache.has('v2'))
  t.equal(cache.size, 2)
  t.equal(loads, 3)

  let asyncLoads = 0
  const slow = async () => {
    asyncLoads++
    await new Promise((resolve) => setTimeout(resolve, 5))
    return content({ matcher: { type: 'terms', terms: ['y'] } })
  }
  const [x, y] = await Promise.all([cache.load('v9', slow), cache.load('v9', slow)])
  t.equal(x, y)
  t.equal(asyncLoads, 1, 'concurrent misses share one load')
  t.equal(x.versionId, 'v9')
})

t.test('evidence offsets are UTF-16 offsets into the original text', async (t) => {
  const p = policy({ matcher: { type: 'terms', terms: ['idiot'] } }, { matcher: { type: 'private_information', detectors: ['email'] } })
  const text = '😀😀 Ｉｄｉｏｔ and 𝐢𝐝𝐢𝐨𝐭 mail ｂｏｂ＠ｅｘａｍｐｌｅ．ｃｏｍ'
  const r = check(t, p, text)
  t.same(evidenceTexts(r), ['Ｉｄｉｏｔ', '𝐢𝐝𝐢𝐨𝐭', 'ｂｏｂ＠ｅｘａｍｐｌｅ．ｃｏｍ'])
  t.equal(r.matches[0]!.evidence[0]!.start, 5)
})
