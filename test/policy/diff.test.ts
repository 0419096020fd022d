import t from 'tap'
import { DEFAULT_POLICY } from '../../src/policy/default-policy.js'
import { deepEqual, diffVersions } from '../../src/policy/diff.js'
import type { PolicyVersionContent } from '../../src/policy/rules.js'

t.test('identical versions: everything unchanged', async (t) => {
  const d = diffVersions(DEFAULT_POLICY, structuredClone(DEFAULT_POLICY))
  t.same(d.added, [])
  t.same(d.removed, [])
  t.same(d.changed, [])
  t.same(d.unchanged, DEFAULT_POLICY.rules.map((r) => r.code))
  t.equal(d.orderChanged, false)
  t.equal(d.policyUrlChanged, false)
})

t.test('added, removed and changed rules, with field and term details', async (t) => {
  const a = DEFAULT_POLICY
  const b: PolicyVersionContent = structuredClone(DEFAULT_POLICY)
  const obscenity = b.rules[0]!
  if (obscenity.matcher.type !== 'terms') throw new Error('4.a is a terms rule')
  obscenity.matcher.terms = [...obscenity.matcher.terms.filter((x) => x !== 'wtf' && x !== 'stfu'), 'frack off']
  b.rules[2]!.action = 'remove' // 4.c
  b.rules[2]!.title = 'Harassment'
  b.rules[3]!.matcher = { type: 'private_information', detectors: ['ssn', 'email'] } // 4.d
  b.rules[9]!.matcher = { type: 'links', denyDomains: ['malware.example', 'new-phish.example'], shorteners: true } // 4.j
  b.rules[10]!.matcher = { type: 'terms', terms: ['zalgo'] } // 4.k: regex -> terms
  b.rules.splice(7, 1) // drop 4.h
  b.rules.push({ ...structuredClone(b.rules[0]!), code: '4.l', title: 'New rule' })
  b.appealUrl = 'https://www.citykankakee-il.gov/appeals'

  const d = diffVersions(a, b)
  t.same(d.added, ['4.l'])
  t.same(d.removed, ['4.h'])
  t.same(
    d.changed.map((c) => c.code),
    ['4.a', '4.c', '4.d', '4.j', '4.k'],
  )
  const by = Object.fromEntries(d.changed.map((c) => [c.code, c]))
  t.same(by['4.a'], { code: '4.a', fields: ['matcher'], matcherFields: ['terms'], termsAdded: ['frack off'], termsRemoved: ['wtf', 'stfu'] })
  t.same(by['4.c'], { code: '4.c', fields: ['title', 'action'] })
  t.same(by['4.d'], { code: '4.d', fields: ['matcher'], matcherFields: ['detectors'] })
  t.same(by['4.j']!.denyDomainsAdded, ['new-phish.example'])
  t.same(by['4.j']!.denyDomainsRemoved, ['phish.example', 'free-gift-cards.example', 'kankakee-tax-refund.example'])
  t.same(by['4.k']!.matcherFields, ['type'])
  t.same(d.unchanged, ['4.b', '4.e', '4.f', '4.g', '4.i'])
  t.equal(d.appealUrlChanged, true)
  t.equal(d.policyUrlChanged, false)
  t.equal(d.orderChanged, false)
})

t.test('reordering is reported', async (t) => {
  const b = structuredClone(DEFAULT_POLICY)
  b.rules.reverse()
  const d = diffVersions(DEFAULT_POLICY, b)
  t.equal(d.orderChanged, true)
  t.equal(d.changed.length, 0)
})

t.test('deepEqual ignores key order and undefined keys', async (t) => {
  t.ok(deepEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }))
  t.ok(deepEqual({ a: 1, flags: undefined }, { a: 1 }))
  t.notOk(deepEqual([1, 2], [2, 1]))
  t.notOk(deepEqual({ a: 1 }, { a: '1' }))
})
