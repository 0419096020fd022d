import pg from 'pg'
import t from 'tap'
import { inTransaction } from '../../src/db/tx.js'
import { DEFAULT_POLICY } from '../../src/policy/default-policy.js'
import type { PolicyVersionContent } from '../../src/policy/rules.js'
import { seedDefaultPolicy } from '../../src/policy/seed.js'
import { testApp } from '../helpers/app.js'

const rule = (code: string, terms: string[], action: 'remove' | 'flag' = 'remove') => ({
  code,
  title: `Rule ${code}`,
  sectionText: `Section ${code} of the policy.`,
  category: 'obscenity' as const,
  action,
  noticeTemplate: 'Your comment on {platform} was removed under rule {ruleCode} ({ruleTitle}). Policy: {policyUrl}. Appeal: {appealUrl}.',
  matcher: { type: 'terms' as const, terms },
})

const content = (rules: ReturnType<typeof rule>[]): PolicyVersionContent => ({
  rules,
  policyUrl: 'https://www.citykankakee-il.gov/social-media-policy',
  appealUrl: 'https://www.citykankakee-il.gov/comment-appeals',
})

t.test('policies and versions: drafts edit, publishing freezes and records, the public reads what is in force', async (t) => {
  const { app, token, databaseUrl } = await testApp(t)
  const admin = { authorization: `Bearer ${token('tst_admin', 'jsmith')}` }
  const call = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: object, headers: Record<string, string> = admin) =>
    app.inject({ method, url, headers, ...(payload ? { payload } : {}) })

  t.equal((await call('GET', '/v1/policies/current', undefined, {})).statusCode, 404, 'nothing in force yet')

  const created = await call('POST', '/v1/policies', { name: 'City of Kankakee Social Media Comment Policy', description: 'Adopted 2026' }, { ...admin, 'idempotency-key': 'p1' })
  t.equal(created.statusCode, 201)
  const policyId = created.json().id
  const replay = await call('POST', '/v1/policies', { name: 'City of Kankakee Social Media Comment Policy', description: 'Adopted 2026' }, { ...admin, 'idempotency-key': 'p1' })
  t.equal(replay.json().id, policyId, 'Idempotency-Key replays the creation')
  t.equal((await call('POST', '/v1/policies', { name: 'City of Kankakee Social Media Comment Policy' })).statusCode, 409, 'names are unique')

  const noContent = await call('POST', `/v1/policies/${policyId}/versions`, {})
  t.equal(noContent.statusCode, 400, 'the first version needs content')

  const invalid = await call('POST', `/v1/policies/${policyId}/versions`, {
    content: { ...content([rule('4.a', ['darn']), rule('4.a', ['heck'])]), rules: [rule('4.a', ['darn']), rule('4.a', ['heck']), { ...rule('4.c', []), matcher: { type: 'regex', pattern: '(unclosed' } }] },
  })
  t.equal(invalid.statusCode, 400)
  const paths = invalid.json().errors.map((e: { path: string }) => e.path)
  t.ok(paths.some((p: string) => p.includes('rules[1].code')), `duplicate code reported: ${paths}`)
  t.ok(paths.some((p: string) => p.includes('rules[2].matcher.pattern')), 'invalid regex reported with its path')

  const draft = await call('POST', `/v1/policies/${policyId}/versions`, { content: content([rule('4.a', ['darn'])]) })
  t.equal(draft.statusCode, 201)
  t.match(draft.json(), { version: 1, status: 'draft', effectiveFrom: null, createdBy: 'user:jsmith' })

  t.equal((await call('GET', `/v1/policies/${policyId}/versions/1`, undefined, {})).statusCode, 404, 'the public does not see drafts')
  t.equal((await call('GET', `/v1/policies/${policyId}/versions/1`)).statusCode, 200, 'a tst_admin does')
  t.same((await call('GET', '/v1/policies', undefined, {})).json().items, [], 'no published policy to list yet')

  const edited = await call('PUT', `/v1/policies/${policyId}/versions/1`, { content: content([rule('4.a', ['darn', 'drat'])]) })
  t.equal(edited.statusCode, 200)
  t.same(edited.json().content.rules[0].matcher.terms, ['darn', 'drat'])

  const published = await call('POST', `/v1/policies/${policyId}/versions/1/publish`, {})
  t.equal(published.statusCode, 200)
  t.match(published.json(), { status: 'published', publishedBy: 'user:jsmith', ledgerEntryId: /^[0-9a-f-]{36}$/ })
  const entry = await app.db.prisma.ledgerEntry.findUniqueOrThrow({ where: { id: published.json().ledgerEntryId } })
  t.equal(entry.kind, 'policy.published')
  t.match(JSON.parse(entry.payload!), { version: 1, policyName: 'City of Kankakee Social Media Comment Policy', content: { rules: [{ code: '4.a' }] } })

  t.match((await call('POST', `/v1/policies/${policyId}/versions/1/publish`, {})).json(), { status: 409, type: '/problems/policy-version-published' }, 'publishing twice')
  t.match((await call('PUT', `/v1/policies/${policyId}/versions/1`, { content: content([rule('4.a', ['x'])]) })).json(), { status: 409 }, 'editing a published version')

  const current = await call('GET', '/v1/policies/current', undefined, {})
  t.equal(current.statusCode, 200)
  t.match(current.json(), { version: 1, policyName: 'City of Kankakee Social Media Comment Policy' })
  t.equal((await call('GET', '/v1/policies', undefined, {})).json().items[0].versions.length, 1)

  const v2 = await call('POST', `/v1/policies/${policyId}/versions`, {})
  t.match(v2.json(), { version: 2, status: 'draft', content: { rules: [{ code: '4.a' }] } }, 'a new draft copies the latest version')
  await call('PUT', `/v1/policies/${policyId}/versions/2`, { content: content([rule('4.a', ['darn', 'heck']), rule('4.b', ['buy now'], 'flag')]) })

  const diff = (await call('GET', `/v1/policies/${policyId}/versions/1/diff/2`)).json()
  t.match(diff, { a: 1, b: 2, added: ['4.b'], removed: [], changed: [{ code: '4.a', fields: ['matcher'], termsAdded: ['heck'], termsRemoved: ['drat'] }] })
  t.equal((await call('GET', `/v1/policies/${policyId}/versions/1/diff/2`, undefined, {})).statusCode, 404, 'the public cannot diff a draft')

  const backdated = await call('POST', `/v1/policies/${policyId}/versions/2/publish`, { effectiveFrom: '2020-01-01T00:00:00Z' })
  t.match(backdated.json(), { status: 409, type: '/problems/policy-effective-conflict' }, 'no backdating')
  const sameTime = await call('POST', `/v1/policies/${policyId}/versions/2/publish`, { effectiveFrom: published.json().effectiveFrom })
  t.equal(sameTime.statusCode, 409, 'two versions in force at once are refused')

  const future = new Date(Date.now() + 3_600_000).toISOString()
  t.match((await call('POST', `/v1/policies/${policyId}/versions/2/publish`, { effectiveFrom: future })).json(), { status: 'published', effectiveFrom: future })
  t.equal((await call('GET', '/v1/policies/current', undefined, {})).json().version, 1, 'version 1 stays in force until version 2 takes effect')
  t.same((await call('GET', `/v1/policies/${policyId}/versions/1/diff/2`, undefined, {})).json().added, ['4.b'], 'published versions diff publicly')

  // As the owner, who has every privilege: the trigger is the guarantee.
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  t.teardown(() => client.end())
  await t.rejects(client.query(`UPDATE policy_version SET content = '{}' WHERE version = 1`), /is published and cannot be changed/, 'the database itself freezes published versions')
  await t.rejects(client.query(`DELETE FROM policy_version WHERE version = 1`), /is published and cannot be changed/)

  const moderator = { authorization: `Bearer ${token('tst_moderator')}` }
  const dry = await call('POST', `/v1/policies/${policyId}/versions/2/evaluate`, { text: 'Oh DARN it, buy now!' }, moderator)
  t.equal(dry.statusCode, 200)
  t.match(dry.json(), {
    evaluation: { outcome: 'remove', matches: [{ ruleCode: '4.a', evidence: [{ start: 3, end: 7, text: 'DARN' }] }, { ruleCode: '4.b', action: 'flag' }] },
    noticeText: /removed because.*Section 4\.a, Rule 4\.a: Section 4\.a of the policy\..*comment-appeals and give your appeal reference: XXXXX-XXXXX$/s,
  })
  t.same((await call('POST', `/v1/policies/${policyId}/versions/2/evaluate`, { text: 'Oh DARN it, buy now!' }, moderator)).json(), dry.json(), 'deterministic')
})

t.test('the default policy seeds once and is in force', async (t) => {
  const { app } = await testApp(t)
  const first = await inTransaction(app.db.prisma, (tx) => seedDefaultPolicy(tx, app.clock))
  t.match(first, { created: true, version: 1 })
  t.match(await inTransaction(app.db.prisma, (tx) => seedDefaultPolicy(tx, app.clock)), { created: false, policyId: first.policyId })
  const current = (await app.inject('/v1/policies/current')).json()
  t.equal(current.content.rules.length, DEFAULT_POLICY.rules.length)
  t.same(current.content.notices, DEFAULT_POLICY.notices, 'the notice templates are published with the version')
  t.equal(await app.db.prisma.ledgerEntry.count({ where: { kind: 'policy.published' } }), 1)
})
