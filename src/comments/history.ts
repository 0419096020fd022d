import { asSql, type Queryable } from '../db/sql.js'

export interface HistoryRequest {
  commentId: string
  /**
   * The comment's id on its platform, when its row may not exist yet (ingestion reads histories
   * before it stores the delivery): other comments are then those with another external id too.
   */
  externalId?: string
  platform: string
  authorId: string | null
  platformTime: Date
  /** How far back to look; 0 for no history. */
  windowMs: number
}

export interface HistoryItem {
  text: string
  platformTime: string
}

// Each author's history is its own lookup through comment (author_id, platform) and comment_event
// (comment_id, platform_time): OFFSET 0 keeps the planner from flattening it into one join. As a
// join, a group of 800 comments was planned as hash and merge joins over every comment and every
// event, once the statistics were older than the table: 250 ms per group at 80,000 comments,
// growing with the table (bench:ingest:storage, --group 16; docs/performance.md, round 7).
const HISTORY_SQL = `SELECT w.i, earlier.text, earlier.platform_time, earlier.external_id, earlier.event_key
       FROM unnest($1::int[], $2::text[], $3::text[], $4::uuid[], $5::timestamptz[], $6::timestamptz[], $7::text[]) AS w(i, platform, author_id, comment_id, from_t, to_t, external_id)
       CROSS JOIN LATERAL (
         SELECT e.text, e.platform_time, c.external_id, e.event_key
           FROM comment c
           JOIN comment_event e ON e.comment_id = c.id
          WHERE c.platform = w.platform AND c.author_id = w.author_id AND c.id <> w.comment_id AND c.external_id IS DISTINCT FROM w.external_id
            AND e.kind IN ('created', 'edited') AND e.platform_time >= w.from_t AND e.platform_time <= w.to_t
         OFFSET 0
       ) earlier
      ORDER BY earlier.platform_time`

type HistoryRow = { i: number; text: string; platform_time: Date; external_id: string; event_key: string }

function historyParams(requests: readonly HistoryRequest[]) {
  const wanted = requests.map((r, i) => ({ ...r, i })).filter((r) => r.windowMs > 0 && r.authorId)
  return {
    wanted,
    values: [
      wanted.map((w) => w.i),
      wanted.map((w) => w.platform),
      wanted.map((w) => w.authorId!),
      wanted.map((w) => w.commentId),
      wanted.map((w) => new Date(w.platformTime.getTime() - w.windowMs)),
      wanted.map((w) => w.platformTime),
      wanted.map((w) => w.externalId ?? null),
    ],
  }
}

function collect(requests: readonly HistoryRequest[], rows: readonly HistoryRow[]) {
  const histories = requests.map(() => [] as Array<HistoryItem & { externalId: string; eventKey: string }>)
  for (const row of rows) {
    histories[Number(row.i)]!.push({ text: row.text, platformTime: row.platform_time.toISOString(), externalId: row.external_id, eventKey: row.event_key })
  }
  // Oldest first (a stable sort: the statement's order among equal times is kept).
  for (const h of histories) h.sort((a, b) => (a.platformTime < b.platformTime ? -1 : a.platformTime > b.platformTime ? 1 : 0))
  return histories
}

/**
 * For each request, the texts the same author posted on the same platform in other comments during
 * the window before it, oldest first: what repetition (spam flood) rules compare against. One query
 * for a whole delivery.
 */
export async function authorHistories(tx: Queryable, requests: readonly HistoryRequest[]): Promise<HistoryItem[][]> {
  const { wanted, values } = historyParams(requests)
  if (wanted.length === 0) return requests.map(() => [])
  const rows = await asSql(tx).query<HistoryRow>(HISTORY_SQL, values)
  return collect(requests, rows).map((h) => h.map(({ text, platformTime }) => ({ text, platformTime })))
}

/**
 * authorHistories, each item with its comment's external id and its event key (so a caller can
 * merge versions it is about to store), and the number of published policy versions
 * (PolicyResolver.versionsAt), in one statement: ingestion evaluates a delivery before storing it.
 */
export async function authorHistoriesAndPublishedCount(
  tx: Queryable,
  requests: readonly HistoryRequest[],
): Promise<{ publishedCount: number; histories: Array<Array<HistoryItem & { externalId: string; eventKey: string }>> }> {
  const { values } = historyParams(requests)
  const rows = await asSql(tx).query<HistoryRow & { published: number | null }>(
    `SELECT NULL::int AS i, NULL::text AS text, NULL::timestamptz AS platform_time, NULL::text AS external_id, NULL::text AS event_key,
            (SELECT count(*) FROM policy_version WHERE status = 'published')::int AS published
     UNION ALL
     SELECT h.*, NULL FROM (${HISTORY_SQL}) h`,
    values,
  )
  return { publishedCount: rows[0]!.published!, histories: collect(requests, rows.slice(1)) }
}
