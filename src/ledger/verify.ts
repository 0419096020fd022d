import { createPublicKey, type KeyObject } from 'node:crypto'
import type pg from 'pg'
import { verifySignedCheckpoint } from './checkpoint.js'
import { committedDigest, ENTRY_COLUMNS, entryLeafHash, entryOfRow, storedPayloadDigest, type EntryRow } from './entry.js'
import { followKeyChain } from './key-chain.js'
import { CompactRange, type NodeId } from './merkle.js'
import { fetchNodes, type Queryable } from './tree-store.js'

export type DivergenceKind =
  | 'leaf_missing'
  | 'entry_missing'
  | 'payload_hash'
  | 'payload_missing'
  | 'leaf_hash'
  | 'tree_node'
  | 'checkpoint_root'
  | 'checkpoint_signature'
  | 'checkpoint_beyond_tree'
  | 'checkpoint_key_not_endorsed'

export interface Divergence {
  kind: DivergenceKind
  leafIndex?: number
  entryId?: string
  treeSize?: number
  expected: string
  found: string
  detail: string
}

export interface VerificationReport {
  ok: boolean
  /** Leaves checked in order before the first divergence (all of them when ok). */
  treeSize: number
  checkpointsChecked: number
  /** Appended entries the sealer has not reached yet (committed recently or still in flight). */
  unsealedEntries: number
  /** Checked entries whose payload a `disposal` entry destroyed (docs/retention.md): their hash still binds them. */
  disposedEntries: number
  divergence: Divergence | null
}

/** Perfect nodes (level >= 1) that become complete when leaf `index` is appended. */
function nodesCompletedBy(index: number): NodeId[] {
  const ids: NodeId[] = []
  for (let level = 1, span = 2; (index + 1) % span === 0; level++, span *= 2) ids.push({ level, index: (index + 1) / span - 1 })
  return ids
}

interface CheckpointRow {
  tree_size: string
  issued_at: Date
  root_hash: Buffer
  key_id: string
  key_name: string
  signed_note: string
}

/**
 * Recomputes everything from the stored entries, in leaf order: each payload's hash, each leaf
 * hash, each stored tree node, and the root and signature of every checkpoint. Stops at the first
 * divergence and says what was expected and what was found.
 */
export async function verifyLedger(pool: pg.Pool, options: VerifyOptions = {}): Promise<VerificationReport> {
  // One snapshot for the whole check: read through the pool, a checkpoint the sealer commits
  // between two batches would be reported as covering missing leaves (a false tamper alarm).
  const client = await pool.connect()
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY')
    // Parallel plans cost more than they save per 10k-row batch on a small machine (bench:ledger).
    await client.query('SET LOCAL max_parallel_workers_per_gather = 0')
    const report = await verifyInSnapshot(client, options)
    await client.query('COMMIT')
    return report
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    throw error
  } finally {
    client.release()
  }
}

export interface VerifyOptions {
  batchSize?: number
  /**
   * Key ids the verifier trusts (the service passes its configured key). Other keys are accepted
   * only when endorsements link them to one of these (src/ledger/key-chain.ts). When none of them
   * has signed yet (the first tick after a rotation), the latest checkpoint's key is the anchor.
   */
  trustedKeyIds?: readonly string[]
}

/**
 * The chain of signing keys, from the checkpoints where the signer changes: for each, whether its
 * key is linked by endorsements to a trusted key, and if not, why (keyed by tree size and time).
 */
async function keyChainProblems(db: Queryable, keys: Map<string, { name: string; publicKey: KeyObject }>, trustedKeyIds: readonly string[] | undefined): Promise<Map<string, string | null>> {
  const { rows } = await db.query<{ tree_size: string; issued_at: Date; key_id: string; prev_key_id: string | null; signed_note: string }>(
    `SELECT tree_size::text, issued_at, key_id, prev_key_id, signed_note
       FROM (SELECT c.*, lag(c.key_id) OVER (ORDER BY c.tree_size, c.issued_at) AS prev_key_id FROM ledger_checkpoint c) c
      WHERE prev_key_id IS DISTINCT FROM key_id ORDER BY tree_size, issued_at`,
  )
  const signedBy = (note: string, id: string | null) => {
    const key = id === null ? undefined : keys.get(id)
    return key !== undefined && verifySignedCheckpoint(note, key).ok
  }
  const steps = rows.map((r) => [r.key_id, r.prev_key_id].filter((id): id is string => signedBy(r.signed_note, id)))
  const anchors = new Set(trustedKeyIds ?? [])
  if (rows.length > 0 && !rows.some((r) => anchors.has(r.key_id))) anchors.add(rows[rows.length - 1]!.key_id)
  const chain = followKeyChain(steps, anchors)
  return new Map(rows.map((r, i) => [`${r.tree_size}/${r.issued_at.toISOString()}`, chain.problems[i] ?? null]))
}

async function verifyInSnapshot(db: Queryable, options: VerifyOptions): Promise<VerificationReport> {
  const batchSize = options.batchSize ?? 10_000
  const keys = new Map<string, { name: string; publicKey: KeyObject }>()
  for (const row of (await db.query<{ key_id: string; key_name: string; public_key: string }>('SELECT key_id, key_name, public_key FROM ledger_signing_key')).rows) {
    keys.set(row.key_id, { name: row.key_name, publicKey: createPublicKey(row.public_key) })
  }
  const chainProblems = await keyChainProblems(db, keys, options.trustedKeyIds)
  let keyProblem: string | null = null
  const { rows: unsealed } = await db.query<{ n: string }>(
    'SELECT count(*)::text AS n FROM ledger_entry e WHERE NOT EXISTS (SELECT 1 FROM ledger_leaf l WHERE l.entry_id = e.id)',
  )
  const unsealedEntries = Number(unsealed[0]!.n)

  const disposed = await disposedPayloads(db)
  let disposedEntries = 0
  const range = new CompactRange()
  let checkpointsChecked = 0
  let pendingCheckpoints: CheckpointRow[] = []
  let checkpointCursor: [number, Date] = [-1, new Date(0)]
  const report = (divergence: Divergence | null): VerificationReport => ({
    ok: divergence === null,
    treeSize: range.size,
    checkpointsChecked,
    unsealedEntries,
    disposedEntries,
    divergence,
  })

  async function nextCheckpoint(): Promise<CheckpointRow | undefined> {
    if (pendingCheckpoints.length === 0) {
      const { rows } = await db.query<CheckpointRow>(
        `SELECT tree_size::text, issued_at, root_hash, key_id, key_name, signed_note FROM ledger_checkpoint
          WHERE (tree_size, issued_at) > ($1::bigint, $2::timestamptz) ORDER BY ledger_checkpoint.tree_size, issued_at LIMIT 1000`,
        checkpointCursor,
      )
      pendingCheckpoints = rows
    }
    return pendingCheckpoints[0]
  }

  function checkCheckpoint(cp: CheckpointRow): Divergence | null {
    const treeSize = Number(cp.tree_size)
    const root = range.root()
    if (!root.equals(cp.root_hash)) {
      return { kind: 'checkpoint_root', treeSize, expected: root.toString('hex'), found: cp.root_hash.toString('hex'), detail: `checkpoint at tree size ${treeSize} records a root the entries do not produce` }
    }
    const key = keys.get(cp.key_id)
    const verified = key ? verifySignedCheckpoint(cp.signed_note, key) : { ok: false as const, reason: `unknown signing key ${cp.key_id}` }
    if (!verified.ok) {
      return { kind: 'checkpoint_signature', treeSize, expected: 'a valid Ed25519 signature', found: verified.reason, detail: `checkpoint at tree size ${treeSize}: ${verified.reason}` }
    }
    const change = chainProblems.get(`${cp.tree_size}/${cp.issued_at.toISOString()}`)
    if (change !== undefined) keyProblem = change
    if (keyProblem !== null) {
      return { kind: 'checkpoint_key_not_endorsed', treeSize, expected: 'a key linked by endorsements to the trusted key', found: cp.key_id, detail: `checkpoint at tree size ${treeSize} (${cp.issued_at.toISOString()}): ${keyProblem}` }
    }
    if (verified.checkpoint.treeSize !== treeSize || !verified.checkpoint.rootHash.equals(root)) {
      return {
        kind: 'checkpoint_signature',
        treeSize,
        expected: `${treeSize} ${root.toString('base64')}`,
        found: `${verified.checkpoint.treeSize} ${verified.checkpoint.rootHash.toString('base64')}`,
        detail: `the signed note of checkpoint ${treeSize} does not match its recorded size and root`,
      }
    }
    return null
  }

  for (let start = 0; ; start += batchSize) {
    // LEFT JOIN: a leaf whose entry is gone has a null id.
    const { rows } = await db.query<Omit<EntryRow, 'id'> & { id: string | null; leaf_index: string; leaf_hash: Buffer; entry_id: string }>(
      `SELECT l.leaf_index::text, l.leaf_hash, l.entry_id, ${ENTRY_COLUMNS}
         FROM ledger_leaf l LEFT JOIN ledger_entry e ON e.id = l.entry_id
        WHERE l.leaf_index >= $1 ORDER BY l.leaf_index LIMIT $2`,
      [start, batchSize],
    )
    if (rows.length === 0) break
    const wanted = rows.flatMap((_row, i) => nodesCompletedBy(start + i))
    const stored = new Map((await fetchNodes(db, wanted)).map((n) => [`${n.level}/${n.index}`, Buffer.from(n.hash)]))

    for (const row of rows) {
      const leafIndex = range.size
      if (Number(row.leaf_index) !== leafIndex) {
        return report({ kind: 'leaf_missing', leafIndex, expected: `leaf ${leafIndex}`, found: `leaf ${row.leaf_index}`, detail: `leaf ${leafIndex} is missing from ledger_leaf` })
      }
      if (row.id === null) {
        return report({ kind: 'entry_missing', leafIndex, entryId: row.entry_id, expected: `entry ${row.entry_id}`, found: 'nothing', detail: `leaf ${leafIndex} seals entry ${row.entry_id}, which is missing` })
      }
      const entry = entryOfRow({ ...row, id: row.id })
      const committed = committedDigest(entry)
      const what = row.format === 2 ? 'commitment' : 'SHA-256'
      if (row.format !== 1 && row.format !== 2) {
        return report({ kind: 'leaf_hash', leafIndex, entryId: row.id, expected: 'format 1 or 2', found: `format ${row.format}`, detail: `entry ${row.id} has an unknown format` })
      }
      if (row.payload === null) {
        // Only a disposal may destroy a payload (and a format 2 entry's salt with it), and its entry
        // names this one with the same digest.
        const by = disposed.get(row.id)
        const listed = by ? (row.format === 2 ? by.payloadCommitment : by.payloadSha256) : undefined
        if (!by || listed !== committed || (row.format === 2 && row.payload_salt !== null)) {
          return report({
            kind: 'payload_missing',
            leafIndex,
            entryId: row.id,
            expected: by ? `payload with ${what} ${listed ?? '(none listed)'}` : 'a payload, or a disposal entry that destroyed it',
            found: row.format === 2 && row.payload_salt !== null ? 'null payload, salt kept' : 'null',
            detail: `the payload of entry ${row.id} is missing and no disposal entry covers it`,
          })
        }
        disposedEntries++
      } else {
        const found = storedPayloadDigest(entry)
        if (found !== committed) {
          return report({
            kind: 'payload_hash',
            leafIndex,
            entryId: row.id,
            expected: committed ?? 'a digest',
            found: found ?? 'no salt',
            detail: `the payload of entry ${row.id} does not match its recorded ${what}`,
          })
        }
      }
      let leafHash: Buffer
      try {
        leafHash = entryLeafHash(entry)
      } catch (error) {
        return report({ kind: 'leaf_hash', leafIndex, entryId: row.id, expected: row.leaf_hash.toString('hex'), found: (error as Error).message, detail: `entry ${row.id} has no envelope` })
      }
      if (!leafHash.equals(row.leaf_hash)) {
        return report({ kind: 'leaf_hash', leafIndex, entryId: row.id, expected: row.leaf_hash.toString('hex'), found: leafHash.toString('hex'), detail: `entry ${row.id} at leaf ${leafIndex} no longer hashes to the sealed leaf` })
      }
      for (const node of range.append(leafHash)) {
        if (node.level === 0) continue
        const found = stored.get(`${node.level}/${node.index}`)
        if (!found || !found.equals(node.hash)) {
          const first = node.index * 2 ** node.level
          return report({
            kind: 'tree_node',
            leafIndex,
            expected: node.hash.toString('hex'),
            found: found?.toString('hex') ?? 'missing',
            detail: `stored tree node (level ${node.level}, index ${node.index}) over leaves ${first}-${first + 2 ** node.level - 1} differs from the recomputed one`,
          })
        }
      }
      for (let cp = await nextCheckpoint(); cp && Number(cp.tree_size) === range.size; cp = await nextCheckpoint()) {
        const divergence = checkCheckpoint(cp)
        if (divergence) return report(divergence)
        checkpointsChecked++
        checkpointCursor = [Number(cp.tree_size), cp.issued_at]
        pendingCheckpoints.shift()
      }
    }
    if (rows.length < batchSize) break
  }
  const beyond = await nextCheckpoint()
  if (beyond) {
    return report({
      kind: 'checkpoint_beyond_tree',
      treeSize: Number(beyond.tree_size),
      expected: `at least ${beyond.tree_size} leaves`,
      found: `${range.size} leaves`,
      detail: `checkpoint at tree size ${beyond.tree_size} covers leaves that are missing`,
    })
  }
  return report(null)
}

/**
 * Every ledger entry a `disposal` entry says it destroyed, with the digest it listed (payloadSha256
 * for format 1, payloadCommitment for format 2) and the disposal
 * entry's id. A null payload is accepted only when it is here.
 */
export async function disposedPayloads(db: Queryable): Promise<Map<string, { payloadSha256?: string; payloadCommitment?: string; disposalEntryId: string }>> {
  const { rows } = await db.query<{ id: string; disposal_entry_id: string; payload_sha256: string | null; payload_commitment: string | null }>(
    `SELECT x ->> 'id' AS id, d.id::text AS disposal_entry_id, x ->> 'payloadSha256' AS payload_sha256, x ->> 'payloadCommitment' AS payload_commitment
       FROM ledger_entry d CROSS JOIN LATERAL jsonb_array_elements(d.payload::jsonb -> 'ledgerEntries') x
      WHERE d.kind = 'disposal' AND d.payload IS NOT NULL`,
  )
  return new Map(
    rows.map((r) => [
      r.id,
      { ...(r.payload_sha256 !== null ? { payloadSha256: r.payload_sha256 } : {}), ...(r.payload_commitment !== null ? { payloadCommitment: r.payload_commitment } : {}), disposalEntryId: r.disposal_entry_id },
    ]),
  )
}
