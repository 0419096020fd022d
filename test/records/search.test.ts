import t, { type Test } from 'tap'
import { inTransaction } from '../../src/db/tx.js'
import { seedDefaultPolicy } from '../../src/policy/seed.js'
import { testApp } from '../helpers/app.js'
import { decideOn, postWebsite, SITE } from '../factories/records.js'
import { deliver, FIXTURE_SOURCES, fixture } from '../factories/webhooks.js'

interface Item {
  id: string
  externalId: string
  recordKind: string
  platform: string
  parentId: string | null
  versions: Array<{ id: string; kind: string; text: string | null; ledgerEntryId: string }>
  stateChanges: Array<{ kind: string }>
  decisions: Array<{ id: string; actor: string; action: string; ruleCodes: string[]; noticeText: string | null; ledgerEntryId: string; actions: Array<{ operation: string; status: string }> }>
}
interface Page {
  total: number
  items: Item[]
  nextCursor: string | null
}

const PAT = { id: 'u-1', name: 'Pat Q. Public', email: 'pat@example.org' }
const JORDAN = { id: 'u-2', name: 'Jordan Lee' }
const SAM = { id: 'u-3', name: 'Sam Smith' }
const ALEX = { id: 'u-4', name: 'Alex Rivera' }
const LIBRARY = `${SITE}/news/library`

/**
 * The app with the default policy in force since before the comments, the platform fixtures (five
 * platforms, a city reply, an author's deletion), and website comments with edits, a thread and
 * decisions made through the moderation route.
 */
async function recordsApp(t: Test) {
  const ctx = await testApp(t)
  const { app, token } = ctx
  await inTransaction(app.db.prisma, (tx) => seedDefaultPolicy(tx, () => new Date('2025-12-01T00:00:00Z')))
  for (const [name, source] of Object.entries(FIXTURE_SOURCES)) await deliver(app, source, fixture(name))
  await postWebsite(app, [
    { id: 'w1', text: 'The Court Street bridge repaving is taking forever', at: '2026-02-01T10:00:00Z', author: PAT },
    { id: 'w1', type: 'comment.edited', text: 'The repaving is finally done, thanks', at: '2026-02-01T10:30:00Z', author: PAT },
    { id: 'w2', text: 'When will the library reopen after the flood?', at: '2026-02-02T10:00:00Z', author: JORDAN, page: LIBRARY },
    { id: 'w3', text: 'The library budget should go to road repairs', at: '2026-02-03T10:00:00Z', author: PAT, page: LIBRARY },
    { id: 'w4', text: 'Parking downtown is impossible on weekends', at: '2026-02-04T10:00:00Z', author: SAM },
    { id: 'w5', text: 'Snow removal on River Road was excellent', at: '2026-02-05T10:00:00Z', author: JORDAN, page: LIBRARY, parentId: 'w3' },
    { id: 'w6', text: 'The parking meters on Schuyler Avenue are broken again', at: '2026-02-06T10:00:00Z', author: ALEX },
  ])
  const alice = token('tst_moderator', 'alice')
  const bob = token('tst_moderator', 'bob')
  const removal = await decideOn(app, alice, 'w4', { action: 'remove', ruleCodes: ['4.a'], note: 'reported twice' })
  const hiding = await decideOn(app, bob, 'w6', { action: 'hide', ruleCodes: ['4.c'] })
  await decideOn(app, bob, 'w2', { action: 'approve' })
  const clerk = { authorization: `Bearer ${token('records_clerk', 'carol')}` }
  const search = async (params: string, headers: Record<string, string> = clerk): Promise<Page> => {
    const res = await app.inject({ url: `/v1/records/search?${params}`, headers })
    if (res.statusCode !== 200) throw new Error(`search ${params}: ${res.statusCode} ${res.body}`)
    return res.json()
  }
  const ids = async (params: string) => (await search(`${params}${params ? '&' : ''}limit=100`)).items.map((i) => i.externalId).sort()
  return { ...ctx, clerk, search, ids, removal, hiding }
}

const LINKEDIN = 'urn:li:comment:(urn:li:activity:7100000000000000001,7100000000000000002)'
/** The website fixture's comment (January 2026). */
const C1001 = 'c-1001'
const FACEBOOK_IDS = [
  '122131676912594941_1213590066990001',
  '122131676912594941_1213590066990002',
  '122131676912594941_1213590066990003',
]

t.test('each filter alone', async (t) => {
  const { app, ids, search } = await recordsApp(t)
  const all = await search('limit=100')
  t.equal(all.total, all.items.length, 'total counts every match')
  t.ok(all.total >= 13, 'fixtures and website comments are all records')

  const { versions, vectors } = (
    await app.db.pool.query(`SELECT (SELECT count(*)::int FROM comment_event WHERE text IS NOT NULL) AS versions, (SELECT count(*)::int FROM comment_text_search) AS vectors`)
  ).rows[0]
  t.equal(vectors, versions, 'the database keeps a text vector for every version, however it was inserted')
  t.same(await ids('q=library'), [LINKEDIN, 'w2', 'w3'], 'a word')
  t.same(await ids('q=libraries'), [LINKEDIN, 'w2', 'w3'], 'English stemming: libraries finds library')
  t.same(await ids('q=LIBRARY%20budget'), ['w3'], 'all words must match, any case')
  t.same(await ids('q=forever'), ['w1'], 'a text only an earlier version had is found')
  t.same(await ids('platform=website'), [C1001, 'w1', 'w2', 'w3', 'w4', 'w5', 'w6'])
  t.same(await ids('platform=linkedin'), [LINKEDIN])
  t.ok((await ids('platform=facebook')).every((id) => FACEBOOK_IDS.includes(id) || id.startsWith('122131676912594941_')))
  t.same(await ids('account=www.citykankakee-il.gov'), [C1001, 'w1', 'w2', 'w3', 'w4', 'w5', 'w6'])
  t.same(await ids(`postId=${encodeURIComponent(LIBRARY)}`), ['w2', 'w3', 'w5'])
  t.same(await ids('authorId=u-1'), ['w1', 'w3'])
  t.same(await ids('authorName=jordan'), ['w2', 'w5'], 'part of the name, any case')
  t.same(await ids('authorName=%25'), [], 'LIKE wildcards in a name are taken literally')
  t.same(await ids('platform=website&from=2026-02-03T10:00:00Z'), ['w3', 'w4', 'w5', 'w6'], 'from is inclusive')
  t.same(await ids('platform=website&to=2026-02-03T10:00:00Z'), [C1001, 'w1', 'w2'], 'to is exclusive')
  t.same(await ids('from=2026-02-02T00:00:00%2B02:00&to=2026-02-03T00:00:00Z'), ['w2'], 'offsets are honoured')
  t.same(await ids('kind=removed_comment'), ['w4', 'w6'], 'removed or hidden')
  t.same(await ids('kind=city_comment'), ['122131676912594941_1213590066990003'], "the city's own reply")
  t.notOk((await ids('kind=comment')).some((id) => ['w4', 'w6', '122131676912594941_1213590066990003'].includes(id)))
  t.equal((await ids('kind=comment')).length + 3, all.total, 'the three kinds partition the records')
  t.same(await ids('removed=true'), ['w4', 'w6'])
  t.equal((await ids('removed=false')).length, all.total - 2)
  t.same(await ids('rule=4.a'), ['w4'])
  t.same(await ids('rule=4.c'), ['w6'])
  t.same(await ids('moderator=alice'), ['w4'])
  t.same(await ids('moderator=bob'), ['w2', 'w6'])
  t.same(await ids('decision=approve'), ['w2'])
  t.same(await ids('decision=hide'), ['w6'])
})

t.test('phrases, prefixes and exclusions', async (t) => {
  const { ids } = await recordsApp(t)
  const q = (text: string) => ids(`q=${encodeURIComponent(text)}`)
  t.same(await q('"library budget"'), ['w3'], 'an exact phrase')
  t.same(await q('"budget library"'), [], 'the words in another order are not the phrase')
  t.same(await q('"court street bridge"'), ['w1'], 'a phrase from an earlier version')
  t.same(await q('park*'), ['w4', 'w6'], 'a prefix')
  t.same(await q('repav*'), ['w1'])
  t.same(await q('library -flood'), [LINKEDIN, 'w3'], 'an excluded word')
  t.same(await q('library -"road repairs"'), [LINKEDIN, 'w2'], 'an excluded phrase')
  t.same(await q('park* -meter*'), ['w4'], 'an excluded prefix')
  t.same(await q('"parking downtown" weekends'), ['w4'], 'a phrase and a word')
  t.same(await q('unheardofword'), [])
  t.same(await q('library & | ! <-> :* ( )'), [LINKEDIN, 'w2', 'w3'], 'tsquery operators in the text are not syntax')
})

t.test('filters combined', async (t) => {
  const { ids } = await recordsApp(t)
  t.same(await ids('q=park*&authorId=u-3'), ['w4'])
  t.same(await ids('q=library&from=2026-02-03T00:00:00Z'), ['w3'])
  t.same(await ids('q=library&authorName=pat'), ['w3'])
  t.same(await ids('platform=website&removed=true&moderator=bob&rule=4.c&decision=hide'), ['w6'])
  t.same(await ids('rule=4.a&moderator=bob'), [], 'rule and moderator must hold for one decision')
  t.same(await ids(`postId=${encodeURIComponent(LIBRARY)}&kind=comment&q=snow`), ['w5'])
  t.same(await ids('platform=facebook&q=library'), [])
})

t.test('a result has every version, decision, notice and platform action', async (t) => {
  const { app, search, removal } = await recordsApp(t)
  const page = await search('q=parking&authorId=u-3')
  t.equal(page.total, 1)
  const [w4] = page.items
  t.match(w4, {
    externalId: 'w4',
    platform: 'website',
    account: 'www.citykankakee-il.gov',
    postId: `${SITE}/news/road-work`,
    author: { id: 'u-3', name: 'Sam Smith', email: null },
    byCity: false,
    status: 'active',
    moderationStatus: 'removed',
    recordKind: 'removed_comment',
    text: 'Parking downtown is impossible on weekends',
    versionCount: 1,
  })
  t.equal(w4!.versions.length, 1)
  const event = await app.db.prisma.commentEvent.findFirstOrThrow({ where: { commentId: w4!.id } })
  t.same(w4!.versions[0], {
    id: event.id,
    kind: 'created',
    text: 'Parking downtown is impossible on weekends',
    platformTime: '2026-02-04T10:00:00.000Z',
    receivedAt: event.receivedAt.toISOString(),
    ledgerEntryId: event.ledgerEntryId,
    verified: true,
  })
  t.equal(w4!.decisions.length, 1)
  t.match(w4!.decisions[0], {
    id: removal.id,
    versionId: event.id,
    actor: 'user:alice',
    automatic: false,
    action: 'remove',
    platformAction: 'delete',
    ruleCodes: ['4.a'],
    note: 'reported twice',
    noticeText: removal.noticeText,
    ledgerEntryId: removal.ledgerEntryId,
  })
  t.ok(removal.noticeText && removal.noticeText.length > 20, 'the exact notice text')
  t.same(w4!.decisions[0]!.actions.map((a) => `${a.operation}:${a.status}`), ['delete:pending', 'reply:pending'], 'the removal and the notice, not carried out yet')

  const w1 = (await search('q=forever')).items[0]!
  t.same(w1.versions.map((v) => [v.kind, v.text]), [
    ['created', 'The Court Street bridge repaving is taking forever'],
    ['edited', 'The repaving is finally done, thanks'],
  ], 'every version, oldest first')

  const x = (await search('platform=x')).items.find((i) => i.stateChanges.length > 0)
  t.same(x?.stateChanges.map((s) => s.kind), ['deleted_by_author'], "an author's deletion is a state change of the record")
})

t.test('pagination: newest first, total, stable while new comments arrive', async (t) => {
  const { app, search } = await recordsApp(t)
  const base = Date.parse('2026-03-01T00:00:00Z')
  const batch = (from: number, count: number) =>
    Array.from({ length: count }, (_, i) => ({ id: `p${from + i}`, text: `Pothole number ${from + i} on Court Street`, at: new Date(base + (from + i) * 60_000).toISOString() }))
  await postWebsite(app, batch(0, 12))
  await postWebsite(app, batch(12, 11))
  const seen: string[] = []
  const totals: number[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const page: Page = await search(`q=pothole&limit=5${cursor ? `&cursor=${cursor}` : ''}`)
    seen.push(...page.items.map((i) => i.externalId))
    totals.push(page.total)
    cursor = page.nextCursor
    pages++
    // New matching comments arrive between pages; they are newer, so they belong before page 1.
    if (pages <= 2) await postWebsite(app, batch(100 + pages * 10, 3))
  } while (cursor)
  t.equal(pages, 5, '23 comments in pages of 5')
  t.equal(seen.length, 23, 'every comment that existed is listed, none twice')
  t.equal(new Set(seen).size, 23)
  const original = [...batch(0, 12), ...batch(12, 11)].map((c) => c.id)
  const bySeq = await app.db.prisma.comment.findMany({ where: { externalId: { in: original } }, orderBy: { seq: 'desc' }, select: { externalId: true } })
  t.same(seen, bySeq.map((c) => c.externalId), 'newest first by arrival (seq)')
  t.same(seen.slice(0, 11).sort(), batch(12, 11).map((c) => c.id).sort(), 'the later delivery comes first')
  t.same(totals, [23, 26, 29, 29, 29], 'total is the exact count when each page was read')
  const first = await search('q=pothole&limit=5')
  t.equal(first.total, 29)
  t.same(first.items.slice(0, 3).map((i) => i.externalId).sort(), ['p120', 'p121', 'p122'], 'a new search starts with the newest')
  const last = await search('q=pothole&limit=100')
  t.equal(last.nextCursor, null)
})

t.test('bad filters are 400 problems naming the field', async (t) => {
  const { app, clerk } = await recordsApp(t)
  const cases: Array<[string, string]> = [
    ['platform=myspace', 'querystring:$.platform'],
    ['removed=yes', 'querystring:$.removed'],
    ['kind=tweet', 'querystring:$.kind'],
    ['decision=delete', 'querystring:$.decision'],
    ['from=yesterday', 'querystring:$.from'],
    ['limit=101', 'querystring:$.limit'],
    ['limit=0', 'querystring:$.limit'],
    ['colour=red', 'querystring:$'],
    ['q=', 'querystring:$.q'],
    ['q=-flood', 'querystring:$.q'],
    ['q=%22%22%20*', 'querystring:$.q'],
    ['cursor=garbage', 'querystring:$.cursor'],
    [`cursor=${Buffer.from('{"seq":"1; drop"}').toString('base64url')}`, 'querystring:$.cursor'],
  ]
  for (const [params, path] of cases) {
    const res = await app.inject({ url: `/v1/records/search?${params}`, headers: clerk })
    t.equal(res.statusCode, 400, params)
    t.match(res.headers['content-type'], /application\/problem\+json/)
    t.match(res.json(), { type: '/problems/validation', status: 400 }, params)
    t.ok(res.json().errors.some((e: { path: string }) => e.path === path || e.path.startsWith(path)), `${params}: ${path} in ${res.body}`)
  }
  t.equal(await app.db.prisma.accessLogEntry.count(), 0, 'nothing was read, so nothing is logged')
})

t.test('one record, with its thread links', async (t) => {
  const { app, clerk, search, token } = await recordsApp(t)
  const w3 = (await search('q=%22library%20budget%22')).items[0]!
  const w5 = (await search('q=snow')).items[0]!
  const res = await app.inject({ url: `/v1/records/${w3.id}`, headers: clerk })
  t.equal(res.statusCode, 200)
  const detail = res.json()
  t.match(detail, { id: w3.id, externalId: 'w3', recordKind: 'comment', author: { id: 'u-1', name: 'Pat Q. Public', email: 'pat@example.org' } })
  t.same(detail.thread, { parentId: null, replyIds: [w5.id] })
  const { thread, ...rest } = detail
  t.ok(thread)
  t.same(rest, w3, 'the same shape as a search result')
  const reply = (await app.inject({ url: `/v1/records/${w5.id}`, headers: { authorization: `Bearer ${token('auditor', 'dana')}` } })).json()
  t.same(reply.thread, { parentId: w3.id, replyIds: [] })

  const missing = await app.inject({ url: '/v1/records/00000000-0000-4000-8000-000000000000', headers: clerk })
  t.equal(missing.statusCode, 404)
  t.match(missing.json(), { type: '/problems/not-found', status: 404 })
  t.equal((await app.inject({ url: '/v1/records/not-a-uuid', headers: clerk })).statusCode, 400)
})

t.test('roles: records clerks and auditors search; moderators and admins do not', async (t) => {
  const { app, token, search } = await recordsApp(t)
  t.equal((await search('q=library', { authorization: `Bearer ${token('auditor')}` })).total, 3)
  for (const role of ['tst_moderator', 'tst_admin', 'admin'] as const) {
    for (const url of ['/v1/records/search?q=library', '/v1/records/00000000-0000-4000-8000-000000000000', '/v1/audit/access']) {
      t.equal((await app.inject({ url, headers: { authorization: `Bearer ${token(role)}` } })).statusCode, 403, `${role} ${url}`)
    }
  }
  t.equal((await app.inject({ url: '/v1/audit/access', headers: { authorization: `Bearer ${token('records_clerk')}` } })).statusCode, 403, 'clerks do not read the access log')
  t.equal((await app.inject({ url: '/v1/records/search' })).statusCode, 401)
})
