// Benchmarks seed the ledger with SQL for speed. Records format 2 commitments (HMAC per field and
// word) cannot be computed in SQL, so the SQL seeds insert shape-valid placeholders and this pass,
// part of the untimed setup, replaces them with each payload's real salt and commitment, as
// appendEntries would have written them (docs/ledger.md, "Format 2").
import type pg from 'pg'
import { payloadCommit } from '../../src/ledger/entry.js'

/** SQL for a placeholder salt and commitment, to be replaced by commitSeededEntries. */
export const PLACEHOLDER_SALT_SQL = `sha256('placeholder salt'::bytea)`
export const PLACEHOLDER_COMMITMENT_SQL = `repeat('0', 64)`

export async function commitSeededEntries(pool: pg.Pool, batch = 10_000): Promise<number> {
  const client = await pool.connect()
  let n = 0
  try {
    // The owner, with the ledger's append-only triggers off for this setup pass only.
    await client.query('SET session_replication_role = replica')
    for (let after = '00000000-0000-0000-0000-000000000000'; ; ) {
      const { rows } = await client.query<{ id: string; payload: string }>(
        `SELECT id::text, payload FROM ledger_entry WHERE id > $1 AND format = 2 AND payload_commitment = ${PLACEHOLDER_COMMITMENT_SQL} ORDER BY id LIMIT $2`,
        [after, batch],
      )
      if (rows.length === 0) break
      const commits = rows.map((r) => payloadCommit(JSON.parse(r.payload) as unknown))
      await client.query(
        `UPDATE ledger_entry e SET payload_salt = u.salt, payload_commitment = u.commitment
           FROM unnest($1::uuid[], $2::bytea[], $3::text[]) AS u(id, salt, commitment) WHERE e.id = u.id`,
        [rows.map((r) => r.id), commits.map((c) => c.payloadSalt), commits.map((c) => c.payloadCommitment)],
      )
      n += rows.length
      after = rows[rows.length - 1]!.id
    }
  } finally {
    await client.query('RESET session_replication_role').catch(() => {})
    client.release()
  }
  return n
}
