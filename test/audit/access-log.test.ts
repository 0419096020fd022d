import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import t, { type Test } from 'tap'
import { recordAccess } from '../../src/audit/access-log.js'
import { testApp } from '../helpers/app.js'
import { postWebsite } from '../factories/records.js'

async function appWithComments(t: Test) {
  const ctx = await testApp(t)
  await postWebsite(
    ctx.app,
    Array.from({ length: 7 }, (_, i) => ({ id: `b${i}`, text: `Budget hearing question ${i} about the library`, at: new Date(Date.UTC(2026, 1, 1, 10, i)).toISOString() })),
  )
  await postWebsite(ctx.app, [{ id: 'other', text: 'Snow plows on River Road', at: '2026-02-02T10:00:00Z' }])
  return ctx
}

const log = (ctx: { app: FastifyInstance }) =>
  ctx.app.db.prisma.accessLogEntry.findMany({ orderBy: { seq: 'asc' } })

t.test('every search and every record read is logged with exactly the ids returned', async (t) => {
  const ctx = await appWithComments(t)
  const { app, token } = ctx
  const clerk = { authorization: `Bearer ${token('records_clerk', 'carol')}` }

  const first = await app.inject({ url: '/v1/records/search?q=budget&limit=3', headers: clerk })
  const page1 = first.json()
  t.equal(page1.items.length, 3)
  const second = await app.inject({ url: `/v1/records/search?q=budget&limit=3&cursor=${page1.nextCursor}`, headers: clerk })
  const page2 = second.json()
  const empty = await app.inject({ url: '/v1/records/search?q=zebra', headers: clerk })
  t.equal(empty.json().total, 0)
  const read = await app.inject({ url: `/v1/records/${page1.items[1].id}`, headers: { authorization: `Bearer ${token('auditor', 'dana')}` } })
  t.equal(read.statusCode, 200)
  const missing = await app.inject({ url: '/v1/records/00000000-0000-4000-8000-000000000000', headers: clerk })
  t.equal(missing.statusCode, 404)

  const entries = await log(ctx)
  t.equal(entries.length, 5, 'one entry per read, found or not')
  t.match(entries[0], {
    actor: 'user:carol',
    roles: ['records_clerk'],
    action: 'records.search',
    route: 'GET /v1/records/search',
    query: { q: 'budget', limit: 3 },
    recordIds: page1.items.map((i: { id: string }) => i.id),
    count: 3,
    requestId: first.headers['x-request-id'],
  })
  t.same(entries[1]!.recordIds, page2.items.map((i: { id: string }) => i.id), 'the second page: its own ids, in order')
  t.match(entries[1]!.query, { q: 'budget', limit: 3, cursor: page1.nextCursor })
  t.match(entries[2], { action: 'records.search', query: { q: 'zebra' }, recordIds: [], count: 0 }, 'a search that found nothing is a read too')
  t.match(entries[3], { actor: 'user:dana', roles: ['auditor'], action: 'records.read', route: 'GET /v1/records/:id', recordIds: [page1.items[1].id], count: 1, requestId: read.headers['x-request-id'] })
  t.match(entries[4], { action: 'records.read', query: { id: '00000000-0000-4000-8000-000000000000' }, recordIds: [], count: 0 }, 'a miss is logged')
  for (const e of entries) t.ok(Math.abs(e.at.getTime() - Date.now()) < 60 * 60_000, 'at is the time of the read')
})

t.test('the auditor reads the access log, with filters; that read is logged too', async (t) => {
  const ctx = await appWithComments(t)
  const { app, token } = ctx
  const carol = { authorization: `Bearer ${token('records_clerk', 'carol')}` }
  const erin = { authorization: `Bearer ${token('records_clerk', 'erin')}` }
  const auditor = { authorization: `Bearer ${token('auditor', 'dana')}` }
  const snow = (await app.inject({ url: '/v1/records/search?q=snow', headers: carol })).json().items[0].id
  await app.inject({ url: '/v1/records/search?q=budget', headers: carol })
  await app.inject({ url: `/v1/records/${snow}`, headers: erin })
  await app.inject({ url: '/v1/records/search?platform=website', headers: erin })

  const get = async (params: string) => {
    const res = await app.inject({ url: `/v1/audit/access?${params}`, headers: auditor })
    t.equal(res.statusCode, 200, params)
    return res.json() as { items: Array<{ id: string; actor: string; action: string; recordIds: string[]; query: unknown }>; nextCursor: string | null }
  }
  const all = await get('')
  t.same(all.items.map((e) => `${e.actor} ${e.action}`), ['user:erin records.search', 'user:erin records.read', 'user:carol records.search', 'user:carol records.search'], 'newest first')
  t.same((await get('actor=user:carol')).items.length, 2)
  t.same((await get('actor=erin')).items.length, 2, 'the bare subject works too')
  t.same((await get('action=records.read')).items.map((e) => e.actor), ['user:erin'])
  t.same((await get(`recordId=${snow}`)).items.map((e) => e.action), ['records.search', 'records.read', 'records.search'], 'who has seen this record')
  t.same((await get('from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z')).items, [])
  t.same((await get('action=audit.access&limit=200')).items.length, 6, 'each of these reads of the log was itself logged')

  const page1 = await get('limit=2&action=records.search')
  await app.inject({ url: '/v1/records/search?q=library', headers: carol })
  const page2 = await get(`limit=2&action=records.search&cursor=${page1.nextCursor}`)
  t.same([...page1.items, ...page2.items].map((e) => e.actor), ['user:erin', 'user:carol', 'user:carol'], 'pages stay stable while entries arrive')
  t.equal(page2.nextCursor, null)

  const entries = await log(ctx)
  const lastAudit = entries.at(-1)!
  t.match(lastAudit, { actor: 'user:dana', action: 'audit.access', route: 'GET /v1/audit/access', query: { action: 'records.search', limit: 2 } })
  t.same(lastAudit.recordIds, page2.items.map((e) => e.id), 'an audit.access entry lists the log entries returned')

  const bad = await app.inject({ url: '/v1/audit/access?recordId=nope', headers: auditor })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().errors[0].path, 'querystring:$.recordId')
  t.equal((await app.inject({ url: '/v1/audit/access?cursor=xyz', headers: auditor })).statusCode, 400)
})

t.test('no log entry, no read: when the entry cannot be written the read fails and nothing is returned', async (t) => {
  const ctx = await appWithComments(t)
  const { app, token } = ctx
  const client = new pg.Client({ connectionString: ctx.databaseUrl })
  await client.connect()
  t.teardown(() => client.end())
  await client.query(`CREATE FUNCTION refuse_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full (simulated)'; END $$`)
  await client.query('CREATE TRIGGER access_log_refuse BEFORE INSERT ON access_log FOR EACH ROW EXECUTE FUNCTION refuse_insert()')
  const clerk = { authorization: `Bearer ${token('records_clerk')}` }
  const search = await app.inject({ url: '/v1/records/search?q=budget', headers: clerk })
  t.equal(search.statusCode, 500)
  t.notMatch(search.body, /budget|library/i, 'no record content in the answer')
  const id = (await app.db.prisma.comment.findFirstOrThrow()).id
  const read = await app.inject({ url: `/v1/records/${id}`, headers: clerk })
  t.equal(read.statusCode, 500)
  t.notMatch(read.body, /budget|library|snow/i)
  const audit = await app.inject({ url: '/v1/audit/access', headers: { authorization: `Bearer ${token('auditor')}` } })
  t.equal(audit.statusCode, 500)
})

t.test('the access log is append-only, even for the owner of the schema', async (t) => {
  const ctx = await appWithComments(t)
  const { app, token } = ctx
  await app.inject({ url: '/v1/records/search?q=budget', headers: { authorization: `Bearer ${token('records_clerk')}` } })
  const client = new pg.Client({ connectionString: ctx.databaseUrl })
  await client.connect()
  t.teardown(() => client.end())
  const before = (await client.query('SELECT * FROM access_log ORDER BY seq')).rows
  t.equal(before.length, 1)
  for (const [what, sql] of [
    ['UPDATE', `UPDATE access_log SET record_ids = '{}'`],
    ['DELETE', 'DELETE FROM access_log'],
    ['TRUNCATE', 'TRUNCATE access_log'],
  ] as const) {
    const error = await client.query(sql).then(
      () => null,
      (e: Error) => e,
    )
    t.match(error?.message, new RegExp(`table "access_log" is append-only: ${what} is not allowed`), what)
  }
  t.same((await client.query('SELECT * FROM access_log ORDER BY seq')).rows, before, 'unchanged')

  await client.query('SET ROLE townsquare_runtime')
  t.equal((await client.query('SELECT count(*)::int AS n FROM access_log')).rows[0].n, 1, 'the runtime role reads')
  await client.query(
    `INSERT INTO access_log (id, actor, roles, at, action, route, query, record_ids, count, request_id)
     VALUES (gen_random_uuid(), 'user:x', '{auditor}', now(), 'records.read', 'GET /v1/records/:id', '{}', '{}', 0, 'r1')`,
  )
  t.pass('and appends')
  for (const sql of ['UPDATE access_log SET actor = actor', 'DELETE FROM access_log', 'TRUNCATE access_log']) {
    await t.rejects(client.query(sql), /permission denied/, `runtime role: ${sql}`)
  }
})

t.test('recordAccess: the function other domains call', async (t) => {
  const ctx = await testApp(t)
  const ids = ['00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b']
  const { id } = await recordAccess(ctx.app.db.prisma, {
    actor: 'user:carol',
    roles: ['records_clerk'],
    at: new Date('2026-03-01T12:00:00Z'),
    action: 'foia.production',
    route: 'POST /v1/foia/requests/:id/productions',
    query: { requestId: 'R-1' },
    recordIds: ids,
    requestId: 'req-1',
  })
  const row = await ctx.app.db.prisma.accessLogEntry.findUniqueOrThrow({ where: { id } })
  t.match(row, { actor: 'user:carol', action: 'foia.production', recordIds: ids, count: 2, query: { requestId: 'R-1' }, requestId: 'req-1' })
  t.equal(row.at.toISOString(), '2026-03-01T12:00:00.000Z')
})
