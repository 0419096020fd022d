import { randomUUID } from 'node:crypto'
import { asSql, prepared, type Queryable } from '../db/sql.js'
import { payloadCommit, type LedgerKind } from './entry.js'
import { slices } from '../kernel/slices.js'

export type Clock = () => Date
export const systemClock: Clock = () => new Date()

export interface NewEntry {
  /** Set when the caller must reference the entry in the same transaction; generated otherwise. */
  id?: string
  kind: LedgerKind
  /** What the fact is about, e.g. a comment's id. */
  subject: string
  /** A platform (`platform:facebook`), a person's `sub` (`user:jdoe`), or `system`. */
  actor: string
  payload: Record<string, unknown>
}

export interface AppendedEntry {
  id: string
  kind: LedgerKind
  subject: string
  /** Stamped by the database at insertion (ledger_recorded_at()), never by the service. */
  recordedAt: Date
  /** The salted commitment its envelope carries (format 2). */
  payloadCommitment: string
}

// recorded_at, tx_id and seq are the database's: the runtime role may not insert them (migration
// 20261207190000), so a compromised service cannot date a fact or choose its sealing order. Nor the
// format (20261208030000): every new entry is format 2, committed with a fresh salt.
const LEDGER_COLUMNS = 'id, kind, subject, actor, payload, payload_salt, payload_commitment'
const unnestEntries = (first: number) =>
  `unnest($${first}::uuid[], $${first + 1}::text[], $${first + 2}::text[], $${first + 3}::text[], $${first + 4}::text[], $${first + 5}::bytea[], $${first + 6}::text[])`

const INSERT_ENTRIES = prepared(
  'ledger_append',
  `INSERT INTO ledger_entry (${LEDGER_COLUMNS})\n   SELECT * FROM ${unnestEntries(1)}\n   RETURNING id::text, recorded_at`,
)

/** An entry as the ledger stores it: its payload canonicalized, salted and committed (format 2). */
function ledgerRow(entry: NewEntry) {
  const { payload, payloadSalt, payloadCommitment } = payloadCommit(entry.payload)
  return { id: entry.id ?? randomUUID(), kind: entry.kind, subject: entry.subject, actor: entry.actor, payload, payloadSalt, payloadCommitment }
}

const ledgerRows = (entries: readonly NewEntry[]) => entries.map(ledgerRow)

type LedgerRow = ReturnType<typeof ledgerRow>

const ledgerValues = (rows: readonly LedgerRow[]) => [
  rows.map((r) => r.id),
  rows.map((r) => r.kind),
  rows.map((r) => r.subject),
  rows.map((r) => r.actor),
  rows.map((r) => r.payload),
  rows.map((r) => r.payloadSalt),
  rows.map((r) => r.payloadCommitment),
]

/**
 * The ledger INSERT of appendEntries as a part of a larger statement (a data-modifying CTE), so a
 * caller that writes other rows in one statement appends in that statement too, with the same SQL
 * and the same column defaults for `recorded_at`, `tx_id` and `seq`. Its `values` are the
 * statement's parameters from `$firstParam` on.
 *
 * `onlyWith` keeps an entry only when a row of `relation` (another CTE of the statement, e.g. the
 * RETURNING of an `INSERT … ON CONFLICT DO NOTHING`) has its id in `entryIdColumn`, and takes the
 * entry's subject from that row's `subjectColumn`: ingestion appends a comment event's entry only
 * when the event was new, about the comment row the statement found or created. Entries keep the
 * order given. Nothing else may write ledger rows.
 */
export async function ledgerInsertPart(
  entries: readonly NewEntry[],
  options: { firstParam: number; onlyWith: { relation: string; entryIdColumn: string; subjectColumn: string } },
): Promise<{ text: string; values: unknown[] }> {
  const { relation, entryIdColumn, subjectColumn } = options.onlyWith
  for (const name of [relation, entryIdColumn, subjectColumn]) {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`ledgerInsertPart: ${name} is not a plain SQL name`)
  }
  const text = `INSERT INTO ledger_entry (${LEDGER_COLUMNS})
  SELECT l.id, l.kind, k.${subjectColumn}::text, l.actor, l.payload, l.payload_salt, l.payload_commitment
    FROM ${unnestEntries(options.firstParam)} WITH ORDINALITY AS l(id, kind, subject, actor, payload, payload_salt, payload_commitment, ord)
    JOIN ${relation} k ON k.${entryIdColumn} = l.id
   ORDER BY l.ord`
  // Committing a long text takes milliseconds: in slices, so a large delivery does not hold the
  // event loop while other requests wait (src/kernel/slices.ts).
  const rows: LedgerRow[] = []
  const next = slices()
  for (const entry of entries) {
    rows.push(ledgerRow(entry))
    await next()
  }
  return { text, values: ledgerValues(rows) }
}

/**
 * The only way into the ledger (with ledgerInsertPart, its form inside a larger statement). Inserts
 * in the caller's transaction and returns at once: sealing happens later, so appends never wait for
 * it and take no lock beyond their own rows. An entry becomes part of the tree only if this
 * transaction commits (docs/ledger.md, "Ordering"). `tx` is a Prisma transaction or a `pg` one
 * (inPgTransaction); `recorded_at`, `tx_id` and `seq` are filled by the database in either case.
 */
export async function appendEntries(tx: Queryable, entries: readonly NewEntry[]): Promise<AppendedEntry[]> {
  if (entries.length === 0) return []
  const rows = ledgerRows(entries)
  // One set-based INSERT: the ORM's createMany cost about 0.25 ms of CPU per row (bench:ingest).
  const stamped = await asSql(tx).query<{ id: string; recorded_at: Date }>(INSERT_ENTRIES, ledgerValues(rows))
  const at = new Map(stamped.map((r) => [r.id, r.recorded_at]))
  return rows.map(({ id, kind, subject, payloadCommitment }) => ({ id, kind, subject, recordedAt: at.get(id)!, payloadCommitment }))
}
