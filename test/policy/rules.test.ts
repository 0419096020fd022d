import t from 'tap'
import { compilePolicy } from '../../src/policy/compile.js'
import {
  formatIssuePath,
  PolicyValidationError,
  PolicyVersionContent,
  Rule,
  validatePolicyContent,
} from '../../src/policy/rules.js'
import { check, content, evidenceTexts, policy, rule } from './fixtures/policy.js'

const problemsOf = (input: unknown) => {
  const r = validatePolicyContent(input)
  return r.ok ? [] : r.problems
}

t.test('a valid version parses; schemas carry descriptions for the API', async (t) => {
  const c = content({ matcher: { type: 'terms', terms: ['a'] } }, { matcher: { type: 'regex', pattern: 'x+', flags: { caseInsensitive: true } } })
  t.ok(PolicyVersionContent.safeParse(c).success)
  t.ok(Rule.shape.noticeTemplate.description?.includes('{ruleCode}'))
  t.ok(PolicyVersionContent.description)
})

t.test('invalid RE2 syntax is reported with its path and the RE2 message', async (t) => {
  const c = content(
    { matcher: { type: 'terms', terms: ['ok'] } },
    { matcher: { type: 'regex', pattern: 'fine' } },
    { matcher: { type: 'regex', pattern: '(unclosed' } },
    { matcher: { type: 'regex', pattern: '(?<=lookbehind)x' } },
    { matcher: { type: 'regex', pattern: '(a)\\1' } },
  )
  const problems = problemsOf(c)
  t.same(
    problems.map((p) => p.path),
    ['rules[2].matcher.pattern', 'rules[3].matcher.pattern', 'rules[4].matcher.pattern'],
  )
  t.match(problems[0]!.message, /invalid RE2 regular expression: .*missing closing \)/)
  t.throws(() => compilePolicy(c, 'v'), PolicyValidationError)
  try {
    compilePolicy(c, 'v')
  } catch (err) {
    t.equal((err as PolicyValidationError).problems.length, 3)
  }
})

t.test('every problem is listed at once, each with its path', async (t) => {
  const c = {
    rules: [
      rule({ code: '1', matcher: { type: 'terms', terms: ['fine', '...', '\u200b'] } }),
      { ...rule({ code: '1', matcher: { type: 'links', denyDomains: ['not a domain', 'ok.example'], shorteners: false } }), noticeTemplate: 'Hi {name} {ruleCode} {' },
      rule({ code: 'bad code!', matcher: { type: 'private_information', detectors: ['phone', 'phone'] } }),
      rule({ code: '3', matcher: { type: 'repetition', minCount: 1, windowMinutes: 10, similarity: 1.5 } }),
      rule({ code: '4', matcher: { type: 'links', denyDomains: [], shorteners: false } }),
    ],
    policyUrl: 'ftp://example.org/policy',
    appealUrl: 'not a url',
  }
  const paths = problemsOf(c).map((p) => p.path)
  for (const expected of [
    'policyUrl',
    'appealUrl',
    'rules[0].matcher.terms[1]',
    'rules[0].matcher.terms[2]',
    'rules[1].noticeTemplate',
    'rules[1].matcher.denyDomains[0]',
    'rules[2].code',
    'rules[2].matcher.detectors[1]',
    'rules[3].matcher.minCount',
    'rules[3].matcher.similarity',
    'rules[4].matcher.denyDomains',
  ]) {
    t.ok(paths.includes(expected), `reports ${expected}`)
  }
  const template = problemsOf(c).filter((p) => p.path === 'rules[1].noticeTemplate')
  t.equal(template.length, 2, 'unknown placeholder and stray brace')
  t.match(template[0]!.message, /unknown placeholder \{name\}/)
})

t.test('duplicate rule codes are reported on the later rule', async (t) => {
  const c = content({ code: '4.a', matcher: { type: 'terms', terms: ['x'] } }, { code: '4.b', matcher: { type: 'terms', terms: ['y'] } }, { code: '4.a', matcher: { type: 'terms', terms: ['z'] } })
  const problems = problemsOf(c)
  t.same(problems.map((p) => p.path), ['rules[2].code'])
  t.match(problems[0]!.message, /duplicate rule code "4.a" \(also rules\[0\]\)/)

  // also when another rule is malformed
  const broken = structuredClone(c) as unknown as { rules: Array<Record<string, unknown>> }
  broken.rules[1]!.category = 'opinions'
  t.same(problemsOf(broken).map((p) => p.path), ['rules[1].category', 'rules[2].code'])
})

t.test('rule codes', async (t) => {
  for (const code of ['4', '4.b', '12.c.3', 'A-1', 'x'.repeat(32)]) t.same(problemsOf(content({ code, matcher: { type: 'terms', terms: ['a'] } })), [], code)
  for (const code of ['', '.4', '4 b', '4/b', 'x'.repeat(33), 'ä']) t.ok(problemsOf(content({ code, matcher: { type: 'terms', terms: ['a'] } })).length > 0, code)
})

t.test('formatIssuePath', async (t) => {
  t.equal(formatIssuePath(['rules', 3, 'matcher', 'pattern']), 'rules[3].matcher.pattern')
  t.equal(formatIssuePath([]), '')
  t.equal(formatIssuePath(['policyUrl']), 'policyUrl')
})

t.test('regex rules run RE2 on the original text', async (t) => {
  const p = policy(
    { code: 'r1', matcher: { type: 'regex', pattern: 'order #\\d{3,}' } },
    { code: 'r2', action: 'flag', matcher: { type: 'regex', pattern: 'crypto\\s+giveaway', flags: { caseInsensitive: true } } },
  )
  const r = check(t, p, 'Order #123 and order #4567, CRYPTO   Giveaway 😀 crypto giveaway')
  t.same(r.matches.map((m) => m.ruleCode), ['r1', 'r2'])
  t.same(evidenceTexts(r), ['order #4567', 'CRYPTO   Giveaway', 'crypto giveaway'], 'case-sensitive unless the flag is set')
  t.equal(r.outcome, 'remove')
  t.equal(check(t, p, 'nothing here').outcome, 'allow')
  // empty matches are skipped
  const empty = policy({ matcher: { type: 'regex', pattern: 'x*' } })
  t.same(evidenceTexts(check(t, empty, 'abxxc')), ['xx'])
})

t.test('the catastrophic pattern (a+)+$ is linear under RE2', async (t) => {
  const p = policy({ matcher: { type: 'regex', pattern: '(a+)+$' } })
  const text = 'a'.repeat(100_000) + 'b'
  t.equal(check(t, p, text).outcome, 'allow')
  const hit = check(t, p, 'a'.repeat(100_000))
  t.equal(hit.outcome, 'remove')
  t.equal(hit.matches[0]!.evidence[0]!.end, 100_000)
})
