import { asSql, type Queryable } from '../db/sql.js'

export interface HistoryRequest {
  commentId: string
  platform: string
  authorId: string | null
  platformTime: Date
  /** How far back to look; 0 for no history. */
  windowMs: number
}

/**
 * For each request, the texts the same author posted on the same platform in other comments during
 * the window before it, oldest first: what repetition (spam flood) rules compare against. One query
 * for a whole delivery.
 */
export async function authorHistories(tx: Queryable, requests: readonly HistoryRequest[]): Promise<Array<Array<{ text: string; platformTime: string }>>> {
  const histories = requests.map(() => [] as Array<{ text: string; platformTime: string }>)
  const wanted = requests.map((r, i) => ({ ...r, i })).filter((r) => r.windowMs > 0 && r.authorId)
  if (wanted.length === 0) return histories
  const rows = await asSql(tx).query<{ i: number; text: string; platform_time: Date }>(
    `SELECT w.i, e.text, e.platform_time
       FROM unnest($1::int[], $2::text[], $3::text[], $4::uuid[], $5::timestamptz[], $6::timestamptz[]) AS w(i, platform, author_id, comment_id, from_t, to_t)
       JOIN comment c ON c.platform = w.platform AND c.author_id = w.author_id AND c.id <> w.comment_id
       JOIN comment_event e ON e.comment_id = c.id AND e.kind IN ('created', 'edited') AND e.platform_time >= w.from_t AND e.platform_time <= w.to_t
      ORDER BY e.platform_time`,
    [
      wanted.map((w) => w.i),
      wanted.map((w) => w.platform),
      wanted.map((w) => w.authorId!),
      wanted.map((w) => w.commentId),
      wanted.map((w) => new Date(w.platformTime.getTime() - w.windowMs)),
      wanted.map((w) => w.platformTime),
    ],
  )
  for (const row of rows) histories[Number(row.i)]!.push({ text: row.text, platformTime: row.platform_time.toISOString() })
  return histories
}
