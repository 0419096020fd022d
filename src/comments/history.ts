import { asSql, type Queryable } from '../db/sql.js'
import { decodeFingerprint, fingerprintOf, RECENT_VERSIONS_COMPARED, type Fingerprint } from '../policy/repetition.js'

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
  /** At most this many versions, the most recent (default RECENT_VERSIONS_COMPARED; repetition.ts versionsCompared). */
  limit?: number
}

export interface HistoryItem {
  text: string
  platformTime: string
}

/** A version of the history as a repetition rule needs it: its fingerprint (repetition.ts). */
export interface FingerprintItem {
  platformTime: string
  fingerprint: Fingerprint
}

// Each author's history is its own lookup through comment (author_id, platform) and comment_event
// (comment_id, platform_time): the LATERAL with its LIMIT keeps the planner from flattening it into
// one join. As a join, a group of 800 comments was planned as hash and merge joins over every
// comment and every event, once the statistics were older than the table: 250 ms per group at
// 80,000 comments, growing with the table (bench:ingest:storage, --group 16; docs/performance.md,
// round 7).
// Bounded: at most `limit` versions per request, the most recent (ties: by external id, then event
// key, the later counting as more recent). The texts or fingerprints of the versions picked are
// returned once per statement (rows with a null i), however many requests picked them: a flooding
// author's 50-comment delivery reads each of their recent versions once, not 50 times.
const historySql = (payload: string) => `WITH picked AS MATERIALIZED (
  SELECT w.i, earlier.id, earlier.platform_time, earlier.external_id, earlier.event_key
    FROM unnest($1::int[], $2::text[], $3::text[], $4::uuid[], $5::timestamptz[], $6::timestamptz[], $7::text[], $8::int[]) AS w(i, platform, author_id, comment_id, from_t, to_t, external_id, lim)
    CROSS JOIN LATERAL (
      SELECT e.id, e.platform_time, c.external_id, e.event_key
        FROM comment c
        JOIN comment_event e ON e.comment_id = c.id
       WHERE c.platform = w.platform AND c.author_id = w.author_id AND c.id <> w.comment_id AND c.external_id IS DISTINCT FROM w.external_id
         AND e.kind IN ('created', 'edited') AND e.platform_time >= w.from_t AND e.platform_time <= w.to_t
       ORDER BY e.platform_time DESC, c.external_id COLLATE "C" DESC, e.event_key COLLATE "C" DESC
       LIMIT w.lim
    ) earlier
)
SELECT p.i, p.id::text AS id, p.platform_time, p.external_id, p.event_key, NULL::bytea AS fingerprint, NULL::text AS text FROM picked p
UNION ALL
SELECT NULL, v.id::text, NULL, NULL, NULL, v.fingerprint, v.text
  FROM (SELECT DISTINCT id FROM picked) d
  CROSS JOIN LATERAL (SELECT e.id, ${payload} FROM comment_event e WHERE e.id = d.id OFFSET 0) v`

/** Texts of the versions picked (policy impact replays drafts through them). */
const HISTORY_TEXTS_SQL = historySql('NULL::bytea AS fingerprint, e.text')
/** Fingerprints of the versions picked; the text only of a version stored without one (older rows). */
const HISTORY_FINGERPRINTS_SQL = historySql(
  `e.repetition_fingerprint AS fingerprint,
          CASE WHEN e.repetition_fingerprint IS NULL OR substr(e.repetition_fingerprint, 1, 1) <> '\\x01'::bytea THEN e.text END AS text`,
)

type HistoryRow = { i: number | null; id: string; text: string | null; platform_time: Date | null; external_id: string | null; event_key: string | null; fingerprint: Buffer | null }

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
      wanted.map((w) => Math.max(0, Math.floor(w.limit ?? RECENT_VERSIONS_COMPARED))),
    ],
  }
}

interface Picked {
  id: string
  platformTime: string
  externalId: string
  eventKey: string
}

/** Per request, the versions picked (oldest first; ties as ordered above), and the payload of each version. */
function collect(requests: readonly HistoryRequest[], rows: readonly HistoryRow[]) {
  const histories = requests.map(() => [] as Picked[])
  const payloads = new Map<string, { text: string | null; fingerprint: Buffer | null }>()
  for (const row of rows) {
    if (row.i === null) {
      payloads.set(row.id, { text: row.text, fingerprint: row.fingerprint })
    } else {
      histories[Number(row.i)]!.push({ id: row.id, platformTime: row.platform_time!.toISOString(), externalId: row.external_id!, eventKey: row.event_key! })
    }
  }
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
  for (const h of histories) h.sort((a, b) => cmp(a.platformTime, b.platformTime) || cmp(a.externalId, b.externalId) || cmp(a.eventKey, b.eventKey))
  return { histories, payloads }
}

/**
 * For each request, the texts the same author posted on the same platform in other comments during
 * the window before it, oldest first, at most `limit` (the most recent): what repetition (spam
 * flood) rules compare against. One query for a whole delivery.
 */
export async function authorHistories(tx: Queryable, requests: readonly HistoryRequest[]): Promise<HistoryItem[][]> {
  const { wanted, values } = historyParams(requests)
  if (wanted.length === 0) return requests.map(() => [])
  const rows = await asSql(tx).query<HistoryRow>(HISTORY_TEXTS_SQL, values)
  const { histories, payloads } = collect(requests, rows)
  return histories.map((h) => h.map(({ id, platformTime }) => ({ text: payloads.get(id)!.text ?? '', platformTime })))
}

/**
 * The fingerprints of the versions authorHistories would return (a version stored without one gets
 * it from its text here), each item with its comment's external id and its event key (so a caller
 * can merge versions it is about to store), and the number of published policy versions
 * (PolicyResolver.versionsAt), in one statement: ingestion evaluates a delivery before storing it.
 */
export async function authorHistoriesAndPublishedCount(
  tx: Queryable,
  requests: readonly HistoryRequest[],
): Promise<{ publishedCount: number; histories: Array<Array<FingerprintItem & { externalId: string; eventKey: string }>> }> {
  const { values } = historyParams(requests)
  const rows = await asSql(tx).query<HistoryRow & { published: number | null }>(
    `WITH h AS (${HISTORY_FINGERPRINTS_SQL})
     SELECT NULL::int AS i, NULL::text AS id, NULL::timestamptz AS platform_time, NULL::text AS external_id, NULL::text AS event_key,
            NULL::bytea AS fingerprint, NULL::text AS text, (SELECT count(*) FROM policy_version WHERE status = 'published')::int AS published
     UNION ALL
     SELECT h.*, NULL FROM h`,
    values,
  )
  const { histories, payloads } = collect(requests, rows.slice(1))
  const fingerprints = new Map<string, Fingerprint>()
  for (const [id, p] of payloads) fingerprints.set(id, (p.fingerprint && decodeFingerprint(p.fingerprint)) || fingerprintOf(p.text ?? ''))
  return {
    publishedCount: rows[0]!.published!,
    histories: histories.map((h) => h.map(({ id, platformTime, externalId, eventKey }) => ({ platformTime, fingerprint: fingerprints.get(id)!, externalId, eventKey }))),
  }
}
