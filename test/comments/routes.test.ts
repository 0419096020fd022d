import t from 'tap'
import { testApp } from '../helpers/app.js'
import { deliver, FIXTURE_SOURCES, fixture, metaBatch } from '../factories/webhooks.js'

t.test('the TST reads comments with their versions and thread', async (t) => {
  const { app, token } = await testApp(t)
  for (const [name, source] of Object.entries(FIXTURE_SOURCES)) await deliver(app, source, fixture(name))
  const auth = { authorization: `Bearer ${token('tst_moderator')}` }
  const get = async (url: string) => {
    const res = await app.inject({ url, headers: auth })
    t.equal(res.statusCode, 200, url)
    return res.json()
  }

  const all = await get('/v1/comments?limit=200')
  t.equal(all.items.length, 8, 'Facebook 4, Instagram, X, LinkedIn and website 1 each')
  t.equal(all.nextCursor, null)
  t.same(
    [...new Set(all.items.map((c: { platform: string }) => c.platform))].sort(),
    ['facebook', 'instagram', 'linkedin', 'website', 'x'],
  )

  t.equal((await get('/v1/comments?platform=facebook')).items.length, 4)
  const cityReplies = (await get('/v1/comments?platform=facebook&byCity=true')).items
  t.equal(cityReplies.length, 1, "the city's own reply")
  t.equal(cityReplies[0].moderationStatus, 'city', "the city's own reply is never moderated")
  t.same(
    [...new Set(all.items.filter((c: { byCity: boolean }) => !c.byCity).map((c: { moderationStatus: string }) => c.moderationStatus))],
    ['unevaluated'],
    'with no policy published, the public comments wait for the TST',
  )
  t.same((await get('/v1/comments?authorId=7000000000000002')).items.map((c: { author: { name: string } }) => c.author.name), ['Alex Doe'])
  t.equal((await get('/v1/comments?status=deleted_by_author')).items.length, 2, 'the Facebook removal and the X deletion')
  t.equal((await get('/v1/comments?postId=448242228374517_122131676912594941')).items.length, 4)
  t.equal((await get('/v1/comments?from=2030-01-01T00:00:00Z')).items.length, 0)

  const website = (await get('/v1/comments?platform=website')).items[0]
  const detail = await get(`/v1/comments/${website.id}`)
  t.match(detail, { platform: 'website', text: 'Will Court St be closed on Saturday morning?', versionCount: 2, authorEmail: 'pat@example.org' })
  t.same(detail.versions.map((v: { text: string }) => v.text), ['Will Court St be closed on Saturday?', 'Will Court St be closed on Saturday morning?'])

  const sam = (await get('/v1/comments?authorId=7000000000000001')).items[0]
  const thread = await get(`/v1/comments/${sam.id}`)
  t.equal(thread.thread.parent, null)
  t.same(thread.thread.replies.map((r: { author: { name: string } }) => r.author.name).sort(), ['Alex Doe', 'City of Kankakee'])
  const alex = await get(`/v1/comments/${thread.thread.replies.find((r: { author: { name: string } }) => r.author.name === 'Alex Doe').id}`)
  t.equal(alex.thread.parent.id, sam.id)

  t.equal((await app.inject({ url: '/v1/comments/00000000-0000-4000-8000-000000000000', headers: auth })).statusCode, 404)
  t.equal((await app.inject({ url: '/v1/comments?platform=myspace', headers: auth })).statusCode, 400)
  t.equal((await app.inject({ url: '/v1/comments?cursor=garbage', headers: auth })).statusCode, 400)
  const notANumber = Buffer.from(JSON.stringify({ seq: 'x1' })).toString('base64url')
  t.equal((await app.inject({ url: `/v1/comments?cursor=${notANumber}`, headers: auth })).statusCode, 400, 'a well-formed cursor with a bad position is a 400, not a 500')
  t.equal((await app.inject({ url: '/v1/comments', headers: { authorization: `Bearer ${token('auditor')}` } })).statusCode, 403)
  t.equal((await app.inject({ url: '/v1/comments', headers: { authorization: `Bearer ${token('records_clerk')}` } })).statusCode, 200)
})

t.test('pagination is stable while new comments arrive', async (t) => {
  const { app, token } = await testApp(t)
  await deliver(app, 'meta', metaBatch(25, { firstId: 0 }))
  const auth = { authorization: `Bearer ${token('tst_admin')}` }
  const seen: string[] = []
  let cursor: string | null = null
  let pages = 0
  do {
    const res: { items: Array<{ externalId: string }>; nextCursor: string | null } = (
      await app.inject({ url: `/v1/comments?limit=10${cursor ? `&cursor=${cursor}` : ''}`, headers: auth })
    ).json()
    seen.push(...res.items.map((c) => c.externalId))
    cursor = res.nextCursor
    pages++
    // New comments arrive between pages.
    if (pages === 1) await deliver(app, 'meta', metaBatch(5, { firstId: 100 }))
  } while (cursor)
  t.equal(pages, 3)
  t.equal(seen.length, 25, 'every comment that existed is listed once, none twice')
  t.equal(new Set(seen).size, 25)
})
