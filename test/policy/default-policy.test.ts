import t from 'tap'
import { compilePolicy } from '../../src/policy/compile.js'
import { DEFAULT_POLICY, DEFAULT_POLICY_DESCRIPTION, DEFAULT_POLICY_NAME, defaultPolicy } from '../../src/policy/default-policy.js'
import { RuleCategory, validatePolicyContent } from '../../src/policy/rules.js'
import { check } from './fixtures/policy.js'

const compiled = compilePolicy(DEFAULT_POLICY, 'default-v1')

t.test('the default policy passes the schema and covers every category', async (t) => {
  const r = validatePolicyContent(DEFAULT_POLICY)
  t.ok(r.ok, r.ok ? 'valid' : JSON.stringify(r.problems))
  t.equal(DEFAULT_POLICY_NAME, 'City Social Media Comment Policy')
  t.ok(DEFAULT_POLICY_DESCRIPTION.length > 50)
  t.equal(defaultPolicy.content, DEFAULT_POLICY)
  const categories = new Set(DEFAULT_POLICY.rules.map((r) => r.category))
  for (const c of RuleCategory.options) t.ok(categories.has(c), c)
  t.same(
    DEFAULT_POLICY.rules.map((r) => `${r.code} ${r.category} ${r.action}`),
    [
      '4.a obscenity remove',
      '4.b threats_of_violence remove',
      '4.c harassment flag',
      '4.d private_information remove',
      '4.e private_information flag',
      '4.f spam_or_commercial_solicitation flag',
      '4.g spam_or_commercial_solicitation remove',
      '4.h illegal_activity flag',
      '4.i impersonation flag',
      '4.j malicious_links remove',
      '4.k other flag',
    ],
  )
})

t.test('realistic comments', async (t) => {
  const cases: Array<[string, 'allow' | 'flag' | 'remove', string[]]> = [
    ['Great job on the Washington Ave repaving!', 'allow', []],
    ['The property tax assessment went up 12% again. Who approved this?', 'allow', []],
    ['This new tax is going to hurt small businesses downtown.', 'allow', []],
    ['Prices will shoot up if the council passes this. Vote no.', 'allow', []],
    ['The mayor is wrong about the garage and should resign. Terrible decision.', 'allow', []],
    ['Classic Kankakee: the cockpit tour at the airport was cancelled again 🙄', 'allow', []],
    ['Meeting is Nov 12 at 7:30 pm at City Hall, 385 E Oak St. Everyone welcome!', 'flag', ['4.e']],
    ['Call me at (815) 555-0142', 'flag', ['4.e']],
    ['My SSN is 123-45-6789', 'remove', ['4.d']],
    ['Email me at jane.doe@example.com if you found my dog', 'flag', ['4.e']],
    ['This is complete bullshit', 'remove', ['4.a']],
    ['What a load of sh1t', 'remove', ['4.a']],
    ['The council are a bunch of idiots', 'flag', ['4.c']],
    ['If you come to my street again I will kill you', 'remove', ['4.b']],
    ['Someone should bomb the water plant', 'remove', ['4.b']],
    ['Work from home and earn $5000 a week!!! Click here', 'flag', ['4.f']],
    ['CRYPTO GIVEAWAY — send 1 BTC, get 2 back', 'flag', ['4.f']],
    ['selling weed, DM me', 'flag', ['4.h']],
    ['Hello residents, I am the mayor and this is the official city account', 'flag', ['4.i']],
    ['Free gift cards here: bit.ly/3xYz9', 'remove', ['4.j']],
    ['Get your refund at https://kankakee-tax-refund.example/claim', 'remove', ['4.j']],
    ['Z\u0351\u0352\u0353\u0354\u0355\u0356\u0357algo text', 'flag', ['4.k']],
    ['You f*cking moron, I know where you live. 815-555-0199', 'remove', ['4.a', '4.b', '4.c', '4.e']],
    ['Vielen Dank für die schnelle Reparatur! 👍', 'allow', []],
    ['¡Gracias por arreglar la calle! Muy bien hecho.', 'allow', []],
    ['شكرا لكم على العمل الرائع', 'allow', []],
  ]
  for (const [text, outcome, codes] of cases) {
    const r = check(t, compiled, text)
    t.equal(r.outcome, outcome, text)
    t.same(r.matches.map((m) => m.ruleCode), codes, `${text}: rules`)
  }
})

t.test('repeated posting (4.g): the third near-copy within ten minutes is removed', async (t) => {
  const text = 'Fix the potholes on Court Street NOW'
  const platformTime = '2026-11-24T12:00:00Z'
  const history = [
    { text: 'Fix the potholes on Court Street NOW!!!', platformTime: '2026-11-24T11:58:00Z' },
    { text: 'fix the potholes on court street now', platformTime: '2026-11-24T11:55:30Z' },
  ]
  const r = check(t, compiled, { text, platformTime, authorHistory: history })
  t.equal(r.outcome, 'remove')
  t.same(r.matches.map((m) => m.ruleCode), ['4.g'])
  t.equal(check(t, compiled, { text, platformTime, authorHistory: history.slice(0, 1) }).outcome, 'allow')
})
