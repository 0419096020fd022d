// The baseline's storage (bench/lib/baseline-server.ts over HTTP, bench/ingest-storage.ts without
// it): one row per comment of a Meta delivery, in one multi-row INSERT.

export const BASELINE_TABLE = 'baseline_comment'

export const BASELINE_TABLE_DDL = `CREATE TABLE IF NOT EXISTS ${BASELINE_TABLE} (
  id BIGSERIAL PRIMARY KEY,
  external_id TEXT NOT NULL,
  post_id TEXT,
  author_id TEXT,
  author_name TEXT,
  text TEXT,
  platform_time TIMESTAMPTZ(3),
  received_at TIMESTAMPTZ(3) NOT NULL DEFAULT now()
)`

interface Change {
  field?: unknown
  value?: { item?: unknown; verb?: unknown; comment_id?: unknown; post_id?: unknown; from?: { id?: unknown; name?: unknown }; message?: unknown; created_time?: unknown }
}

export interface ParsedMetaDelivery {
  entry?: Array<{ changes?: Change[] }>
}

const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : null)

/** The INSERT of a parsed Meta delivery's comments, or null when it has none. */
export function baselineInsert(parsed: ParsedMetaDelivery): { text: string; values: unknown[]; comments: number } | null {
  const values: unknown[] = []
  const tuples: string[] = []
  for (const entry of parsed.entry ?? []) {
    for (const change of entry.changes ?? []) {
      const v = change.value
      if (change.field !== 'feed' || !v || v.item !== 'comment' || typeof v.comment_id !== 'string') continue
      const n = values.length
      tuples.push(`($${n + 1}, $${n + 2}, $${n + 3}, $${n + 4}, $${n + 5}, to_timestamp($${n + 6}))`)
      values.push(v.comment_id, str(v.post_id), str(v.from?.id), str(v.from?.name), str(v.message), typeof v.created_time === 'number' ? v.created_time : null)
    }
  }
  if (tuples.length === 0) return null
  return { text: `INSERT INTO ${BASELINE_TABLE} (external_id, post_id, author_id, author_name, text, platform_time) VALUES ${tuples.join(', ')}`, values, comments: tuples.length }
}
