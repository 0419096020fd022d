// Comments delivered through the real webhook route, and the steps of the retention workflow.
import type { FastifyInstance } from 'fastify'
import type pg from 'pg'
import { deliver } from './webhooks.js'

export { manualClock } from './clock.js'

export const DAY = 86_400_000

export interface MetaComment {
  n: number
  text: string
  name?: string
  at: Date
}

export const metaCommentId = (n: number) => `122131676912594941_${8000000 + n}`

/** One Meta page delivery carrying these comments (a batch when more than one). */
export function metaDelivery(comments: MetaComment[]): Buffer {
  const page = '448242228374517'
  const post = `${page}_122131676912594941`
  const changes = comments.map((c) => ({
    field: 'feed',
    value: {
      from: { id: String(7100000000 + c.n), name: c.name ?? `Resident ${c.n}` },
      message: c.text,
      post_id: post,
      comment_id: metaCommentId(c.n),
      parent_id: post,
      created_time: Math.floor(c.at.getTime() / 1000),
      item: 'comment',
      verb: 'add',
    },
  }))
  return Buffer.from(JSON.stringify({ object: 'page', entry: [{ id: page, time: Math.floor(Date.now() / 1000), changes }] }))
}

export async function deliverComments(app: FastifyInstance, comments: MetaComment[]): Promise<string[]> {
  const res = await deliver(app, 'meta', metaDelivery(comments))
  if (res.statusCode !== 200) throw new Error(`delivery refused: ${res.statusCode} ${res.body}`)
  const ids: string[] = []
  for (const c of comments) {
    const row = await app.db.prisma.comment.findUnique({ where: { platform_externalId: { platform: 'facebook', externalId: metaCommentId(c.n) } } })
    ids.push(row!.id)
  }
  return ids
}

export function call(app: FastifyInstance, token: string, method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) {
  return app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload === undefined ? {} : { payload: payload as object }) })
}

export async function adoptSchedules(app: FastifyInstance, token: string, days = 365) {
  for (const kind of ['comment', 'removed_comment', 'city_comment']) {
    const res = await call(app, token, 'PUT', `/v1/retention/schedules/${kind}`, { retentionDays: days, scheduleReference: `LRC application 26-0001, item ${kind}` })
    if (res.statusCode !== 200) throw new Error(`schedule refused: ${res.body}`)
  }
}

/** Every place a string could hide: each row of each table as text, in any case (text-search vectors keep words lowercased), and each bytea column's bytes. */
export async function tablesContaining(pool: pg.Pool, needle: string): Promise<string[]> {
  const found: string[] = []
  const tables = await pool.query<{ schema: string; name: string }>(
    `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
      WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')`,
  )
  for (const t of tables.rows) {
    const rel = `"${t.schema}"."${t.name}"`
    const rows = await pool.query(`SELECT count(*)::int AS n FROM ${rel} x WHERE strpos(lower(x::text), lower($1)) > 0`, [needle])
    if (rows.rows[0].n > 0) found.push(`${rel} (row text)`)
    const bytea = await pool.query<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND data_type = 'bytea'`, [t.schema, t.name])
    for (const c of bytea.rows) {
      const hit = await pool.query(`SELECT count(*)::int AS n FROM ${rel} WHERE position(convert_to($1, 'UTF8') IN "${c.column_name}") > 0`, [needle])
      if (hit.rows[0].n > 0) found.push(`${rel}.${c.column_name} (bytes)`)
    }
  }
  return found
}

/** Waits until some session of this database waits for the retention advisory lock. */
export async function waitForLockWaiter(pool: pg.Pool): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND wait_event = 'advisory'`)
    if (rows[0].n > 0) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error('no session waited for the retention lock')
}
