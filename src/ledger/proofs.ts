import { NotFoundError, ProblemError } from '../plugins/errors.js'
import { ENTRY_COLUMNS, entryOfRow, type EntryRow, type LedgerEntryData } from './entry.js'
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

/** The latest checkpoint: the largest tree, and of its checkpoints the latest signed (freshness). */
export async function latestCheckpoint(db: Queryable): Promise<StoredCheckpoint | null> {
  const { rows } = await db.query(`SELECT ${CHECKPOINT_COLUMNS} FROM ledger_checkpoint ORDER BY ledger_checkpoint.tree_size DESC, issued_at DESC LIMIT 1`)
  return rows[0] ? toCheckpoint(rows[0]) : null
}

/** The latest checkpoint of a tree size (a size is signed again, same root, when no entry came for LEDGER_MAX_CHECKPOINT_AGE). */
export async function checkpointAt(db: Queryable, treeSize: number, which: 'latest' | 'first' = 'latest'): Promise<StoredCheckpoint | null> {
  // Freshness signs a tree again (LEDGER_MAX_CHECKPOINT_AGE): several checkpoints may have one size.
  const order = which === 'first' ? 'ASC' : 'DESC'
  const { rows } = await db.query(`SELECT ${CHECKPOINT_COLUMNS} FROM ledger_checkpoint WHERE tree_size = $1 ORDER BY issued_at ${order} LIMIT 1`, [treeSize])
  return rows[0] ? toCheckpoint(rows[0]) : null
}

/** A page of checkpoints, newest first; the cursor is the position of the last one returned. */
export async function listCheckpoints(db: Queryable, options: { limit: number; cursor?: { treeSize: number; issuedAt: Date } }): Promise<{ checkpoints: StoredCheckpoint[]; next: { treeSize: number; issuedAt: Date } | null }> {
  const { limit, cursor } = options
  const { rows } = await db.query(
    `SELECT ${CHECKPOINT_COLUMNS} FROM ledger_checkpoint
      ${cursor ? 'WHERE (tree_size, issued_at) < ($2::bigint, $3::timestamptz)' : ''}
      ORDER BY tree_size DESC, issued_at DESC LIMIT $1`,
    cursor ? [limit + 1, cursor.treeSize, cursor.issuedAt] : [limit + 1],
  )
  const checkpoints = rows.slice(0, limit).map(toCheckpoint)
  const last = checkpoints[checkpoints.length - 1]
  return { checkpoints, next: rows.length > limit && last ? { treeSize: last.treeSize, issuedAt: last.issuedAt } : null }
}

export interface SigningKeyRecord {
  keyId: string
  keyName: string
  publicKeyPem: string
  /** The first and the latest checkpoint it signed (its validity period as seen in the log). */
  firstUsed: Date
  lastUsed: Date | null
  /** The key id of the key that co-signed its first checkpoint (a rotation's endorsement), if any. */
  endorsedBy: string | null
  firstCheckpoint: { treeSize: number; issuedAt: Date } | null
}

/** Every key that ever signed a checkpoint, in the order they first did. */
export async function signingKeys(db: Queryable): Promise<SigningKeyRecord[]> {
  // Index lookups only (ledger_checkpoint (key_id, issued_at)): this is a public route. Times never
  // go backwards along the log, so a key's earliest checkpoint by time is its first.
  const { rows } = await db.query<{ key_id: string; key_name: string; public_key: string; first_used: Date; first_at: Date | null; last_at: Date | null; first_size: string | null; first_note: string | null }>(
    `SELECT k.key_id, k.key_name, k.public_key, k.first_used, f.issued_at AS first_at, l.issued_at AS last_at, f.tree_size::text AS first_size, f.signed_note AS first_note
       FROM ledger_signing_key k
       LEFT JOIN LATERAL (SELECT c.tree_size, c.issued_at, c.signed_note FROM ledger_checkpoint c WHERE c.key_id = k.key_id ORDER BY c.issued_at, c.tree_size LIMIT 1) f ON true
       LEFT JOIN LATERAL (SELECT c.issued_at FROM ledger_checkpoint c WHERE c.key_id = k.key_id ORDER BY c.issued_at DESC LIMIT 1) l ON true
      ORDER BY coalesce(f.issued_at, k.first_used), k.key_id`,
  )
  const known = new Set(rows.map((r) => r.key_id))
  return rows.map((r) => {
    // The second signature line of its first checkpoint, when it is by another registered key.
    const lines = r.first_note ? r.first_note.slice(r.first_note.lastIndexOf('\n\n') + 2).split('\n').filter(Boolean) : []
    const second = lines[1] ? Buffer.from(lines[1].split(' ')[2] ?? '', 'base64').subarray(0, 4).toString('hex') : null
    return {
      keyId: r.key_id,
      keyName: r.key_name,
      publicKeyPem: r.public_key,
      firstUsed: r.first_at ?? r.first_used,
      lastUsed: r.last_at,
      endorsedBy: second && second !== r.key_id && known.has(second) ? second : null,
      firstCheckpoint: r.first_size === null || !r.first_at ? null : { treeSize: Number(r.first_size), issuedAt: r.first_at },
    }
  })
}

/**
 * The public inclusion proof of one leaf: its index, its hash and the audit path to the latest
 * checkpoint (or the one of `treeSize`). Nothing about the entry's content: see docs/ledger.md,
 * "What is public".
 */
export async function leafProof(db: Queryable, where: { entryId: string } | { leafIndex: number }, treeSize?: number): Promise<{ leafIndex: number; leafHash: Buffer; checkpoint: StoredCheckpoint; proof: Buffer[] }> {
  const { rows } = await db.query<{ leaf_index: string; leaf_hash: Buffer }>(
    'entryId' in where
      ? 'SELECT leaf_index::text, leaf_hash FROM ledger_leaf WHERE entry_id = $1::uuid'
      : 'SELECT leaf_index::text, leaf_hash FROM ledger_leaf WHERE leaf_index = $1',
    ['entryId' in where ? where.entryId : where.leafIndex],
  )
  const row = rows[0]
  const what = 'entryId' in where ? `entry ${where.entryId}` : `leaf ${where.leafIndex}`
  if (!row) throw new NotFoundError(`No sealed ${what}: unknown, or not sealed yet.`)
  const leafIndex = Number(row.leaf_index)
  let checkpoint: StoredCheckpoint | null
  if (treeSize !== undefined) {
    checkpoint = await checkpointAt(db, treeSize)
    if (!checkpoint) throw new CheckpointNotFoundError(treeSize)
  } else {
    checkpoint = await latestCheckpoint(db)
    if (!checkpoint) throw new NoCheckpointYetError()
  }
  if (leafIndex >= checkpoint.treeSize) {
    throw new ProblemError(409, 'not-covered', 'Not covered', `The ${what} is not in the tree of size ${checkpoint.treeSize}${treeSize === undefined ? ' yet' : ''}.`)
  }
  const size = checkpoint.treeSize
  const proof = await withStoredNodes(db, (node) => inclusionProof(leafIndex, size, node))
  return { leafIndex, leafHash: row.leaf_hash, checkpoint, proof }
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
export async function entryWithProof(db: Queryable, id: string, treeSize?: number, which: 'latest' | 'first' = 'latest'): Promise<EntryWithProof> {
  const { rows } = await db.query<EntryRow & { leaf_index: string | null; sealed_at: Date | null }>(
    `SELECT ${ENTRY_COLUMNS}, l.leaf_index::text, l.sealed_at
       FROM ledger_entry e LEFT JOIN ledger_leaf l ON l.entry_id = e.id WHERE e.id = $1`,
    [id],
  )
  const row = rows[0]
  if (!row) throw new NotFoundError(`No ledger entry ${id}.`)
  const entry = entryOfRow(row)
  const leafIndex = row.leaf_index === null ? null : Number(row.leaf_index)
  let checkpoint: StoredCheckpoint | null
  if (treeSize !== undefined) {
    checkpoint = await checkpointAt(db, treeSize, which)
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
