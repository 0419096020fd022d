import t from 'tap'
import { monthOf } from '../../src/moderation/transparency.js'
import { testApp } from '../helpers/app.js'
import * as F from '../factories/moderation.js'

const at = (iso: string) => new Date(iso)

const RULES_V1: F.RuleSpec[] = [
  { code: '4.a', title: 'Obscene language', category: 'obscenity', action: 'remove' },
  { code: '4.c', title: 'Harassment', category: 'harassment', action: 'flag' },
  { code: '4.e', title: 'Phone numbers', category: 'private_information', action: 'flag' },
]
// Version 2 rewords the title of 4.a.
const RULES_V2: F.RuleSpec[] = [{ ...RULES_V1[0]!, title: 'Obscenity' }, RULES_V1[1]!, RULES_V1[2]!]

t.test('public statistics: exact counts by month, platform, rule, action and decider; appeals; no personal data', async (t) => {
  const { app } = await testApp(t)
  const prisma = app.db.prisma
  const v1 = await F.publishedVersion(prisma, { version: 1, effectiveFrom: at('2025-12-01T00:00:00Z'), rules: RULES_V1 })
  const v2 = await F.publishedVersion(prisma, { version: 2, effectiveFrom: at('2026-03-01T00:00:00Z'), rules: RULES_V2 })

  // Personal data planted in the fixtures: none of it may reach the public statistics.
  const secrets: string[] = []
  let k = 0
  const mk = async (platform: F.CommentSpec['platform'], when: string) => {
    k++
    const spec = {
      platform,
      at: at(when),
      text: `Secret comment text number ${k} about Mayor Wiltshire`,
      externalId: `extid-${k}-7731${k}`,
      authorId: `authorid-${k}-5520${k}`,
      authorName: `Zebulon Quackenbush${k}`,
      authorEmail: `zebulon${k}@example.org`,
    }
    const c = await F.comment(prisma, spec)
    secrets.push(spec.text, spec.externalId, spec.authorId, spec.authorName, spec.authorEmail, c.id, c.eventId)
    return c
  }
  const decide = async (c: { id: string; eventId: string }, spec: Omit<Parameters<typeof F.decision>[1], 'commentId' | 'eventId'>) => {
    const id = await F.decision(prisma, { commentId: c.id, eventId: c.eventId, note: `private note ${k}`, ...spec })
    secrets.push(id, `private note ${k}`)
    return id
  }
  const moderator = 'user:mod-ellen-8841'
  secrets.push('mod-ellen-8841')

  const cA = await mk('facebook', '2026-01-10T00:00:00Z')
  const cB = await mk('x', '2026-01-20T00:00:00Z')
  const cC = await mk('facebook', '2026-01-31T00:00:00Z')
  const cD = await mk('instagram', '2026-02-06T00:00:00Z')
  const cE = await mk('website', '2026-03-02T00:00:00Z')
  const cF = await mk('facebook', '2026-03-03T00:00:00Z')
  const cG = await mk('linkedin', '2026-02-20T00:00:00Z')
  const cOld = await mk('facebook', '2025-12-31T00:00:00Z')
  const cLate = await mk('facebook', '2026-04-01T00:00:00Z')

  const d1 = await decide(cA, { action: 'remove', ruleCodes: ['4.a'], policyVersionId: v1.id, decidedAt: at('2026-01-10T00:00:01Z') })
  const d2 = await decide(cB, { action: 'hide', ruleCodes: ['4.a'], policyVersionId: v1.id, decidedAt: at('2026-01-20T00:00:01Z') })
  // 23:30 in Chicago on January 31 is February 1 in UTC: months are UTC.
  const d3 = await decide(cC, { action: 'remove', actor: moderator, ruleCodes: ['4.c'], policyVersionId: v1.id, decidedAt: at('2026-01-31T23:30:00-06:00') })
  await decide(cD, { action: 'approve', actor: moderator, policyVersionId: v1.id, decidedAt: at('2026-02-06T12:00:00Z') })
  await decide(cG, { action: 'remove', actor: moderator, ruleCodes: ['9.z'], policyVersionId: null, decidedAt: at('2026-02-20T12:00:00Z') })
  await decide(cE, { action: 'restore', actor: moderator, ruleCodes: ['4.a'], policyVersionId: v2.id, decidedAt: at('2026-03-02T12:00:00Z') })
  const d6 = await decide(cF, { action: 'remove', ruleCodes: ['4.a', '4.e'], policyVersionId: v2.id, decidedAt: at('2026-03-31T23:59:59.999Z') })
  // Just outside the range on either side.
  const dOld = await decide(cOld, { action: 'remove', ruleCodes: ['4.a'], policyVersionId: v1.id, decidedAt: at('2025-12-31T23:59:59.999Z') })
  await decide(cLate, { action: 'remove', ruleCodes: ['4.a'], policyVersionId: v2.id, decidedAt: at('2026-04-01T00:00:00Z') })

  const contact = 'appellant-private@example.org'
  const statement = 'My private appeal statement, signed Zebulon'
  secrets.push(contact, statement)
  const file = (decisionId: string, c: { id: string }, status: 'open' | 'upheld' | 'reversed', filedAt: string) =>
    F.appeal(prisma, { decisionId, commentId: c.id, status, filedAt: at(filedAt), decidedAt: at(filedAt), contact, statement })
  await file(d1, cA, 'reversed', '2026-01-15T00:00:00Z')
  await file(d2, cB, 'upheld', '2026-01-25T00:00:00Z')
  await file(d3, cC, 'upheld', '2026-02-10T00:00:00Z')
  await file(d6, cF, 'open', '2026-03-31T12:00:00Z')
  await file(dOld, cOld, 'reversed', '2025-12-31T12:00:00Z')

  const res = await app.inject({ method: 'GET', url: '/v1/transparency/stats?from=2026-01&to=2026-03' })
  t.equal(res.statusCode, 200, res.body)
  const body = res.json()

  t.same(body.range, { from: '2026-01-01T00:00:00.000Z', to: '2026-04-01T00:00:00.000Z' }, 'to=2026-03 includes March')
  t.same(body.currentPolicy, { name: 'City Social Media Comment Policy', version: 2, effectiveFrom: '2026-03-01T00:00:00.000Z' })

  const d = body.decisions
  t.match(d, { total: 7, automatic: 3, byPerson: 4, withoutRuleCode: 1 })
  t.same(d.byAction, { remove: 4, hide: 1, approve: 1, restore: 1 })
  t.same(d.byMonth, [
    { month: '2026-01', total: 2, automatic: 2, byPerson: 0, byAction: { remove: 1, hide: 1, approve: 0, restore: 0 } },
    { month: '2026-02', total: 3, automatic: 0, byPerson: 3, byAction: { remove: 2, hide: 0, approve: 1, restore: 0 } },
    { month: '2026-03', total: 2, automatic: 1, byPerson: 1, byAction: { remove: 1, hide: 0, approve: 0, restore: 1 } },
  ])
  t.same(d.byPlatform, [
    { platform: 'facebook', total: 3, automatic: 2, byPerson: 1 },
    { platform: 'instagram', total: 1, automatic: 0, byPerson: 1 },
    { platform: 'x', total: 1, automatic: 1, byPerson: 0 },
    { platform: 'linkedin', total: 1, automatic: 0, byPerson: 1 },
    { platform: 'website', total: 1, automatic: 0, byPerson: 1 },
  ])
  t.same(d.byRule, [
    { ruleCode: '4.a', category: 'obscenity', title: 'Obscene language', policyVersions: [1], total: 2, automatic: 2, byPerson: 0 },
    { ruleCode: '4.a', category: 'obscenity', title: 'Obscenity', policyVersions: [2], total: 2, automatic: 1, byPerson: 1 },
    { ruleCode: '4.c', category: 'harassment', title: 'Harassment', policyVersions: [1], total: 1, automatic: 0, byPerson: 1 },
    { ruleCode: '4.e', category: 'private_information', title: 'Phone numbers', policyVersions: [2], total: 1, automatic: 1, byPerson: 0 },
    { ruleCode: '9.z', category: null, title: null, policyVersions: [], total: 1, automatic: 0, byPerson: 1 },
  ], 'category and title come from the version each decision cites; unknown when it cites none')

  const a = body.appeals
  t.match(a, { filed: 4, upheld: 2, reversed: 1, open: 1 })
  t.equal(a.reversalRate, 1 / 3, 'reversed / decided')
  t.same(a.byMonth, [
    { month: '2026-01', filed: 2, upheld: 1, reversed: 1, open: 0, reversalRate: 0.5 },
    { month: '2026-02', filed: 1, upheld: 1, reversed: 0, open: 0, reversalRate: 0 },
    { month: '2026-03', filed: 1, upheld: 0, reversed: 0, open: 1, reversalRate: null },
  ])

  const json = res.body
  for (const secret of secrets) t.notOk(json.includes(secret), `the statistics do not contain ${JSON.stringify(secret)}`)
  t.notOk(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i.test(json), 'no id of any kind')
  t.notOk(json.includes('user:'), 'no moderator')

  // The same range as datetimes: to is exclusive.
  const exact = await app.inject({ method: 'GET', url: '/v1/transparency/stats?from=2026-01-01T00:00:00Z&to=2026-03-31T23:59:59.999Z' })
  t.equal(exact.statusCode, 200)
  t.equal(exact.json().decisions.total, 6, 'a decision at the exclusive end is left out')

  // Without a token, and with a staff token alike.
  const authed = await app.inject({ method: 'GET', url: '/v1/transparency/stats?from=2026-01&to=2026-03', headers: { authorization: `Bearer ${app.jwt.sign({ sub: 'x', roles: ['auditor'] })}` } })
  t.equal(authed.statusCode, 200)
  t.same(authed.json(), body)
})

t.test('public statistics: the last 12 months by default, zeros included; bad ranges are 400', async (t) => {
  const { app } = await testApp(t)
  const prisma = app.db.prisma
  const now = new Date()
  const recent = await F.comment(prisma, { platform: 'website', text: 'recent', at: now })
  await F.decision(prisma, { commentId: recent.id, eventId: recent.eventId, action: 'remove', ruleCodes: ['4.a'], decidedAt: now })
  const old = new Date(now.getTime() - 400 * 86_400_000)
  const past = await F.comment(prisma, { platform: 'website', text: 'old', at: old })
  await F.decision(prisma, { commentId: past.id, eventId: past.eventId, action: 'remove', ruleCodes: ['4.a'], decidedAt: old })

  const res = await app.inject('/v1/transparency/stats')
  t.equal(res.statusCode, 200, res.body)
  const body = res.json()
  t.equal(body.decisions.total, 1, 'only the last 12 months')
  t.equal(body.decisions.byMonth.length, 12)
  t.equal(body.decisions.byMonth.at(-1).month, monthOf(now), 'up to the current month')
  t.equal(body.decisions.byMonth.at(-1).total, 1)
  t.equal(body.decisions.byMonth.filter((m: { total: number }) => m.total === 0).length, 11, 'months without decisions are listed with 0')
  t.equal(body.appeals.byMonth.length, 12)
  t.equal(body.appeals.reversalRate, null, 'no appeal decided')
  t.equal(body.currentPolicy, null, 'no policy published')

  for (const query of ['from=2026-05&to=2026-04', 'from=2026-04-01T00:00:00Z&to=2026-04-01T00:00:00Z', 'from=2000-01&to=2026-01', 'from=2026-13', 'to=yesterday']) {
    const bad = await app.inject(`/v1/transparency/stats?${query}`)
    t.equal(bad.statusCode, 400, query)
    t.equal(bad.headers['content-type'], 'application/problem+json; charset=utf-8')
  }
})

t.test('consistency report: roles, agreement rates, and same evidence with different decisions', async (t) => {
  const { app, token } = await testApp(t)
  const prisma = app.db.prisma
  const v1 = await F.publishedVersion(prisma, { version: 1, effectiveFrom: at('2025-12-01T00:00:00Z'), rules: RULES_V1 })
  const ann = 'user:mod-ann'
  const bob = 'user:mod-bob'

  const make = async (platform: F.CommentSpec['platform'], ruleCode: string, texts: string[], evaluatedAt = '2026-01-05T00:00:00Z') => {
    const c = await F.comment(prisma, { platform, text: `comment with ${texts.join(', ')}`, at: at(evaluatedAt) })
    const rule = RULES_V1.find((r) => r.code === ruleCode)
    await F.evaluation(prisma, {
      commentId: c.id,
      eventId: c.eventId,
      policyVersionId: v1.id,
      matches: [{ ruleCode, texts, ...(rule ? { category: rule.category, action: rule.action } : {}) }],
      evaluatedAt: at(evaluatedAt),
    })
    return c
  }
  const decide = (c: { id: string; eventId: string }, action: 'remove' | 'hide' | 'approve' | 'restore', decidedAt: string, actor = 'system', ruleCodes: string[] = []) =>
    F.decision(prisma, { commentId: c.id, eventId: c.eventId, action, actor, ruleCodes, policyVersionId: v1.id, decidedAt: at(decidedAt) })

  // Planted: the same harassing words, removed on one comment and approved on another.
  const p1 = await make('facebook', '4.c', ['You Idiot'])
  const p2 = await make('website', '4.c', ['  you   IDIOT '])
  await decide(p1, 'remove', '2026-01-10T00:00:00Z', ann, ['4.c'])
  await decide(p2, 'approve', '2026-01-11T00:00:00Z', bob)
  // Two versions matched 4.c, then hidden by a person.
  const t1 = await make('facebook', '4.c', ['moron'])
  const t1v2 = await F.commentVersion(prisma, t1.id, { platform: 'facebook', text: 'still a moron', at: at('2026-01-06T00:00:00Z') })
  await F.evaluation(prisma, { commentId: t1.id, eventId: t1v2, policyVersionId: v1.id, matches: [{ ruleCode: '4.c', texts: ['moron'] }], evaluatedAt: at('2026-01-06T00:00:00Z') })
  await decide(t1, 'hide', '2026-01-12T00:00:00Z', ann, ['4.c'])
  // A person decided before the matcher matched: not a follow-up of the match.
  const u1 = await make('facebook', '4.c', ['jerk'], '2026-01-20T00:00:00Z')
  await decide(u1, 'approve', '2026-01-02T00:00:00Z', bob)

  // Consistent: removed automatically on Facebook, hidden on X (where removal is hiding): same outcome.
  const q1 = await make('facebook', '4.a', ['darn'])
  const q2 = await make('x', '4.a', ['DARN'])
  await decide(q1, 'remove', '2026-01-05T00:00:01Z', 'system', ['4.a'])
  await decide(q2, 'hide', '2026-01-05T00:00:01Z', 'system', ['4.a'])

  // A larger divergent group: two removed automatically, one approved by a person.
  const s1 = await make('facebook', '4.a', ['heck'])
  const s2 = await make('instagram', '4.a', ['Heck'])
  const s3 = await make('linkedin', '4.a', ['heck '])
  await decide(s1, 'remove', '2026-01-05T00:00:01Z', 'system', ['4.a'])
  await decide(s2, 'remove', '2026-01-05T00:00:01Z', 'system', ['4.a'])
  await decide(s3, 'approve', '2026-01-15T00:00:00Z', bob)

  // Consistent by their latest decisions: r1 removed then restored, r2 approved. Before the
  // restoration (to=2026-02-05) they diverged.
  const r1 = await make('facebook', '4.e', ['815-555-0142'])
  const r2 = await make('website', '4.e', ['815-555-0142'])
  await decide(r1, 'remove', '2026-02-01T00:00:00Z', ann, ['4.e'])
  await decide(r1, 'restore', '2026-02-10T00:00:00Z', bob)
  await decide(r2, 'approve', '2026-01-20T00:00:00Z', bob)

  // Cited by a person, never matched.
  const w1 = await F.comment(prisma, { platform: 'website', text: 'unmatched', at: at('2026-01-05T00:00:00Z') })
  await decide(w1, 'remove', '2026-01-25T00:00:00Z', ann, ['4.x'])

  const url = '/v1/moderation/consistency'
  t.equal((await app.inject(url)).statusCode, 401, 'no token')
  t.equal((await app.inject({ url, headers: { authorization: `Bearer ${token('tst_moderator')}` } })).statusCode, 403, 'moderators do not audit themselves')
  t.equal((await app.inject({ url, headers: { authorization: `Bearer ${token('tst_admin')}` } })).statusCode, 200, 'tst_admin')
  const res = await app.inject({ url, headers: { authorization: `Bearer ${token('auditor')}` } })
  t.equal(res.statusCode, 200, res.body)
  const body = res.json()
  t.same(body.range, { from: null, to: null })

  const rule = (code: string) => body.rules.find((r: { ruleCode: string }) => r.ruleCode === code)
  t.same(body.rules.map((r: { ruleCode: string }) => r.ruleCode), ['4.a', '4.c', '4.e', '4.x'])
  t.same(rule('4.c'), {
    ruleCode: '4.c',
    matchedVersions: 5,
    personDecisionsCiting: 2,
    followUp: { decided: 3, removedOrHidden: 2, approved: 1, restored: 0, agreementRate: 2 / 3 },
  }, 'p1 removed, t1 hidden, p2 approved; u1 was decided before the match')
  t.same(rule('4.a'), {
    ruleCode: '4.a',
    matchedVersions: 5,
    personDecisionsCiting: 0,
    followUp: { decided: 1, removedOrHidden: 0, approved: 1, restored: 0, agreementRate: 0 },
  }, 'automatic decisions are not a follow-up')
  t.same(rule('4.e'), {
    ruleCode: '4.e',
    matchedVersions: 2,
    personDecisionsCiting: 1,
    followUp: { decided: 2, removedOrHidden: 0, approved: 1, restored: 1, agreementRate: 0 },
  }, "a comment's latest decision by a person counts")
  t.same(rule('4.x'), {
    ruleCode: '4.x',
    matchedVersions: 0,
    personDecisionsCiting: 1,
    followUp: { decided: 0, removedOrHidden: 0, approved: 0, restored: 0, agreementRate: null },
  })

  const groups = body.divergent.groups
  t.equal(body.divergent.totalGroups, 2)
  t.same(groups.map((g: { ruleCode: string; evidenceText: string; size: number }) => [g.ruleCode, g.evidenceText, g.size]), [
    ['4.a', 'heck', 3],
    ['4.c', 'you idiot', 2],
  ], 'largest group first; the consistent pairs (darn, the phone number) are not reported')
  const planted = groups[1]
  t.same(planted.outcomes, { removed: 1, kept: 1 })
  t.match(planted.comments, [
    { commentId: p2.id, platform: 'website', action: 'approve', outcome: 'kept', automatic: false, actor: bob, decidedAt: '2026-01-11T00:00:00.000Z' },
    { commentId: p1.id, platform: 'facebook', action: 'remove', outcome: 'removed', automatic: false, actor: ann, decidedAt: '2026-01-10T00:00:00.000Z' },
  ])
  t.equal(planted.comments.length, 2)
  t.same(groups[0].outcomes, { removed: 2, kept: 1 })
  t.same(new Set(groups[0].comments.map((c: { commentId: string }) => c.commentId)), new Set([s1.id, s2.id, s3.id]))

  const limited = (await app.inject({ url: `${url}?limit=1`, headers: { authorization: `Bearer ${token('auditor')}` } })).json()
  t.equal(limited.divergent.totalGroups, 2, 'the total counts every group')
  t.same(limited.divergent.groups.map((g: { evidenceText: string }) => g.evidenceText), ['heck'])

  // As of 2026-02-05, r1 was still removed: it diverged from r2, and agreement on 4.e was half.
  const asOf = await app.inject({ url: `${url}?to=2026-02-05T00:00:00Z`, headers: { authorization: `Bearer ${token('auditor')}` } })
  t.equal(asOf.statusCode, 200, asOf.body)
  const early = asOf.json()
  t.same(early.range, { from: null, to: '2026-02-05T00:00:00.000Z' })
  t.same(early.divergent.groups.map((g: { ruleCode: string; evidenceText: string }) => [g.ruleCode, g.evidenceText]), [
    ['4.a', 'heck'],
    ['4.c', 'you idiot'],
    ['4.e', '815-555-0142'],
  ])
  t.match(early.rules.find((r: { ruleCode: string }) => r.ruleCode === '4.e').followUp, { decided: 2, removedOrHidden: 1, approved: 1, restored: 0, agreementRate: 0.5 })

  // Only decisions from February on: r1's restoration and removal; the January decisions are out.
  const feb = (await app.inject({ url: `${url}?from=2026-02`, headers: { authorization: `Bearer ${token('auditor')}` } })).json()
  t.same(feb.divergent, { totalGroups: 0, groups: [] })
  t.same(feb.rules, [
    { ruleCode: '4.e', matchedVersions: 0, personDecisionsCiting: 1, followUp: { decided: 1, removedOrHidden: 0, approved: 0, restored: 1, agreementRate: 0 } },
  ], 'matches are counted when evaluated in the range (January here); follow-ups when decided in it')

  const bad = await app.inject({ url: `${url}?from=2026-03&to=2026-02`, headers: { authorization: `Bearer ${token('auditor')}` } })
  t.equal(bad.statusCode, 400)
})
