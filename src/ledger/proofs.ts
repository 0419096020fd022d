import { NotFoundError, ProblemError } from '../plugins/errors.js'
import type { LedgerEntryData } from './entry.js'
import { consistencyProof, inclusionProof } from './merkle.js'
import { withStoredNodes, type Queryable } from './tree-store.js'

export interface StoredCheckpoint {
  treeSize: number
  rootHash: Buffer
  issuedAt: Date
  keyName: string
  keyId: string
  signedNote: string
}

const CHECKPOINT_COLUMNS = `tree_size::text, root_hash, issued_at, key_name, key_id, signed_note`

function toCheckpoint(row: { tree_size: string; root_hash: Buffer; issued_at: Date; key_name: string; key_id: string; signed_note: string }): StoredCheckpoint {
  return {
    treeSize: Number(row.tree_size),
    rootHash: row.root_hash,
    issuedAt: row.issued_at,
    keyName: row.key_name,
    keyId: row.key_id,
    signedNote: row.signed_note,
  }
}

export async function latestCheckpoint(db: Queryable): Promise<StoredCheckpoint | null> {
  const { rows } = await db.query(`SELECT ${CHECKPOINT_COLUMNS} FROM ledger_checkpoint ORDER BY ledger_checkpoint.tree_size DESC LIMIT 1`)
  return rows[0] ? toCheckpoint(rows[0]) : null
}

export async function checkpointAt(db: Queryable, treeSize: number): Promise<StoredCheckpoint | null> {
  const { rows } = await db.query(`SELECT ${CHECKPOINT_COLUMNS} FROM ledger_checkpoint WHERE tree_size = $1`, [treeSize])
  return rows[0] ? toCheckpoint(rows[0]) : null
}

export class CheckpointNotFoundError extends NotFoundError {
  constructor(treeSize: number) {
    super(`No checkpoint was issued at tree size ${treeSize}.`)
  }
}

export class NoCheckpointYetError extends ProblemError {
  constructor() {
    super(404, 'no-checkpoint', 'No checkpoint yet', 'The ledger has not issued a checkpoint yet: nothing has been sealed.')
  }
}

export interface EntryWithProof {
  entry: LedgerEntryData
  leafIndex: number | null
  sealedAt: Date | null
  /** Null until the entry is sealed and a checkpoint covers it. */
  inclusion: { checkpoint: StoredCheckpoint; proof: Buffer[] } | null
}

/**
 * An entry as the API gives it: format 1 with payloadSha256, format 2 with payloadCommitment and the
 * salt (a full opening of the payload shown beside it; null once disposed, like the payload).
 */
export function entryBody(entry: LedgerEntryData) {
  const common = { id: entry.id, kind: entry.kind, subject: entry.subject, actor: entry.actor, recordedAt: entry.recordedAt.toISOString(), payload: entry.payload === null ? null : (JSON.parse(entry.payload) as unknown) }
  return (entry.format ?? 1) === 2
    ? { ...common, format: 2 as const, payloadCommitment: entry.payloadCommitment!, payloadSalt: entry.payloadSalt ? entry.payloadSalt.toString('hex') : null }
    : { ...common, format: 1 as const, payloadSha256: entry.payloadSha256! }
}

/** An entry, its leaf index and an inclusion proof to the latest checkpoint or the one asked for. */
export async function entryWithProof(db: Queryable, id: string, treeSize?: number): Promise<EntryWithProof> {
  const { rows } = await db.query<{
    id: string
    kind: string
    subject: string
    actor: string
    recorded_at: Date
    payload: string | null
    format: number
    payload_sha256: string | null
    payload_commitment: string | null
    payload_salt: Buffer | null
    leaf_index: string | null
    sealed_at: Date | null
  }>(
    `SELECT e.id, e.kind, e.subject, e.actor, e.recorded_at, e.payload, e.format, e.payload_sha256, e.payload_commitment, e.payload_salt, l.leaf_index::text, l.sealed_at
       FROM ledger_entry e LEFT JOIN ledger_leaf l ON l.entry_id = e.id WHERE e.id = $1`,
    [id],
  )
  const row = rows[0]
  if (!row) throw new NotFoundError(`No ledger entry ${id}.`)
  const entry: LedgerEntryData = {
    id: row.id,
    kind: row.kind,
    subject: row.subject,
    actor: row.actor,
    recordedAt: row.recorded_at,
    payload: row.payload,
    format: row.format,
    payloadSha256: row.payload_sha256,
    payloadCommitment: row.payload_commitment,
    payloadSalt: row.payload_salt,
  }
  const leafIndex = row.leaf_index === null ? null : Number(row.leaf_index)
  let checkpoint: StoredCheckpoint | null
  if (treeSize !== undefined) {
    checkpoint = await checkpointAt(db, treeSize)
    if (!checkpoint) throw new CheckpointNotFoundError(treeSize)
    if (leafIndex === null || leafIndex >= treeSize) {
      throw new ProblemError(409, 'not-covered', 'Not covered', `Entry ${id} is not in the tree of size ${treeSize}.`)
    }
  } else {
    checkpoint = await latestCheckpoint(db)
  }
  if (leafIndex === null || !checkpoint || leafIndex >= checkpoint.treeSize) {
    return { entry, leafIndex, sealedAt: row.sealed_at, inclusion: null }
  }
  const size = checkpoint.treeSize
  const proof = await withStoredNodes(db, (node) => inclusionProof(leafIndex, size, node))
  return { entry, leafIndex, sealedAt: row.sealed_at, inclusion: { checkpoint, proof } }
}

/** A consistency proof (RFC 9162 §2.1.4) between two issued checkpoints. */
export async function consistencyBetween(db: Queryable, from: number, to: number): Promise<{ from: StoredCheckpoint; to: StoredCheckpoint; proof: Buffer[] }> {
  if (from > to) throw new ProblemError(400, 'validation', 'Invalid request', `from (${from}) must not be larger than to (${to}).`)
  const [older, newer] = await Promise.all([checkpointAt(db, from), checkpointAt(db, to)])
  if (!older) throw new CheckpointNotFoundError(from)
  if (!newer) throw new CheckpointNotFoundError(to)
  const proof = await withStoredNodes(db, (node) => consistencyProof(from, to, node))
  return { from: older, to: newer, proof }
}
