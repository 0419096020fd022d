import type { FastifyBaseLogger } from 'fastify'
import pg from 'pg'
import type { Clock } from './append.js'
import { signCheckpoint } from './checkpoint.js'
import { entryLeafHash } from './entry.js'
import { CompactRange, frontierNodeIds } from './merkle.js'
import type { LedgerSigningKey } from './signing-key.js'
import { fetchNodes, type Queryable } from './tree-store.js'

/** Session advisory lock held by the one active sealer across all instances. */
export const SEALER_LOCK = 7_201_104

interface SealerState {
  range: CompactRange
  /** Sealing position: the (tx_id, seq) of the last sealed entry. */
  lastTxId: string
  lastSeq: string
  checkpointSize: number
}

export interface SealResult {
  sealed: number
  treeSize: number
  checkpoint: { treeSize: number; rootHash: Buffer } | null
}

async function loadState(db: Queryable): Promise<SealerState> {
  const { rows } = await db.query<{ size: string; tx_id: string | null; seq: string | null; checkpoint_size: string }>(
    `SELECT COALESCE((SELECT max(leaf_index) + 1 FROM ledger_leaf), 0)::text AS size,
            e.tx_id::text, e.seq::text,
            COALESCE((SELECT max(tree_size) FROM ledger_checkpoint), 0)::text AS checkpoint_size
       FROM (SELECT 1) one
       LEFT JOIN ledger_leaf l ON l.leaf_index = (SELECT max(leaf_index) FROM ledger_leaf)
       LEFT JOIN ledger_entry e ON e.id = l.entry_id`,
  )
  const row = rows[0]!
  const size = Number(row.size)
  const nodes = await fetchNodes(db, frontierNodeIds(size))
  const byId = new Map(nodes.map((n) => [`${n.level}/${n.index}`, n.hash]))
  const range = CompactRange.fromNodeSource(size, (level, index) => {
    const hash = byId.get(`${level}/${index}`)
    if (!hash) throw new Error(`ledger_tree_node (${level}, ${index}) is missing: the stored tree is incomplete`)
    return hash
  })
  return { range, lastTxId: row.tx_id ?? '0', lastSeq: row.seq ?? '0', checkpointSize: Number(row.checkpoint_size) }
}

const XID_SPAN = 2n ** 32n

/**
 * Widens a 32-bit xid to the 64-bit xid8 it stands for, given a nearby xid8 `reference`. Running
 * xids lie within 2^31 of it on either side (a running transaction may be newer than the snapshot's
 * xmax), so the difference is taken as a signed 32-bit number, as PostgreSQL compares xids.
 */
export function widenXid(xid: bigint, reference: bigint): bigint {
  let diff = (xid - (reference % XID_SPAN)) % XID_SPAN
  if (diff < 0n) diff += XID_SPAN
  if (diff >= XID_SPAN / 2n) diff -= XID_SPAN
  return reference + diff
}

/**
 * The sealing horizon: every transaction of this database with an id below it has ended, so every
 * entry below it is committed (visible to a later snapshot) or gone for good. It is the oldest
 * transaction id still running in this database (prepared ones included), or the next id to be
 * assigned. Only this database counts: a long transaction elsewhere on the cluster cannot hold
 * sealing back. Read in its own statement, before the scan, so the scan's snapshot is later.
 */
export async function sealingHorizon(db: Queryable): Promise<string> {
  const { rows } = await db.query<{ next: string; running: string[] | null }>(
    `SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS next,
            ARRAY(SELECT backend_xid::text FROM pg_stat_activity
                   WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()
                  UNION ALL
                  SELECT transaction::text FROM pg_prepared_xacts WHERE database = current_database()) AS running`,
  )
  const next = BigInt(rows[0]!.next)
  let horizon = next
  for (const xid of rows[0]!.running ?? []) {
    const wide = widenXid(BigInt(xid), next)
    if (wide < horizon) horizon = wide
  }
  return horizon.toString()
}

/**
 * Seals committed entries in commit-safe order and signs a checkpoint when the tree grew.
 *
 * Only entries whose transaction id is below the horizon are taken, so no entry can still appear
 * in front of the sealing position. Entries are ordered by (tx_id, seq); a transaction that commits
 * late has a tx_id at or above the old horizon and is therefore sealed after everything sealed
 * before it, never skipped (docs/ledger.md, "Ordering").
 */
async function sealBatch(db: Queryable, state: SealerState, key: LedgerSigningKey, clock: Clock, batchSize: number): Promise<{ sealed: number; signed: boolean }> {
  // Outside the sealing transaction: pg_stat_activity is read once per transaction and cached.
  const horizon = await sealingHorizon(db)
  await db.query('BEGIN')
  try {
    const { rows } = await db.query<{ id: string; kind: string; subject: string; actor: string; recorded_at: Date; payload_sha256: string; tx_id: string; seq: string }>(
      // Qualified names: unqualified ORDER BY would sort the ::text output columns as strings.
      `SELECT e.id, e.kind, e.subject, e.actor, e.recorded_at, e.payload_sha256, e.tx_id::text AS tx_id, e.seq::text AS seq
         FROM ledger_entry e
        WHERE (e.tx_id, e.seq) > ($1::xid8, $2::bigint)
          AND e.tx_id < $4::xid8
        ORDER BY e.tx_id, e.seq
        LIMIT $3`,
      [state.lastTxId, state.lastSeq, batchSize, horizon],
    )
    const now = clock()
    const startSize = state.range.size
    const leafHashes: Buffer[] = []
    const nodeLevels: number[] = []
    const nodeIndexes: number[] = []
    const nodeHashes: Buffer[] = []
    for (const row of rows) {
      const leafHash = entryLeafHash({
        id: row.id,
        kind: row.kind,
        subject: row.subject,
        actor: row.actor,
        recordedAt: row.recorded_at,
        payloadSha256: row.payload_sha256,
      })
      leafHashes.push(leafHash)
      for (const node of state.range.append(leafHash)) {
        if (node.level === 0) continue // stored with the leaf
        nodeLevels.push(node.level)
        nodeIndexes.push(node.index)
        nodeHashes.push(node.hash)
      }
    }
    if (rows.length > 0) {
      await db.query(
        `INSERT INTO ledger_leaf (leaf_index, entry_id, leaf_hash, sealed_at)
         SELECT $1::bigint + i - 1, entry_id, leaf_hash, $4 FROM unnest($2::uuid[], $3::bytea[]) WITH ORDINALITY AS u(entry_id, leaf_hash, i)`,
        [startSize, rows.map((r) => r.id), leafHashes, now],
      )
      if (nodeLevels.length > 0) {
        await db.query(
          `INSERT INTO ledger_tree_node (level, index, hash) SELECT * FROM unnest($1::smallint[], $2::bigint[], $3::bytea[])`,
          [nodeLevels, nodeIndexes, nodeHashes],
        )
      }
    }
    // Sign only once the backlog is drained (a short batch), so one tick issues one checkpoint.
    const signed = rows.length < batchSize && state.range.size > state.checkpointSize
    if (signed) {
      const rootHash = state.range.root()
      const note = signCheckpoint({ origin: key.name, treeSize: state.range.size, rootHash, time: now }, key)
      await db.query(
        `INSERT INTO ledger_signing_key (key_id, key_name, public_key) VALUES ($1, $2, $3) ON CONFLICT (key_id) DO NOTHING`,
        [key.keyId, key.name, key.publicKeyPem],
      )
      await db.query(
        `INSERT INTO ledger_checkpoint (tree_size, root_hash, issued_at, key_name, key_id, signed_note) VALUES ($1, $2, $3, $4, $5, $6)`,
        [state.range.size, rootHash, now, key.name, key.keyId, note],
      )
    }
    await db.query('COMMIT')
    const last = rows[rows.length - 1]
    if (last) {
      state.lastTxId = last.tx_id
      state.lastSeq = last.seq
    }
    if (signed) state.checkpointSize = state.range.size
    return { sealed: rows.length, signed }
  } catch (error) {
    await db.query('ROLLBACK').catch(() => {})
    throw error
  }
}

export interface SealerOptions {
  databaseUrl: string
  key: LedgerSigningKey
  intervalMs: number
  clock: Clock
  log: FastifyBaseLogger
  batchSize?: number
}

export interface Sealer {
  /** Runs one sealing pass now if this instance holds the lock (tests, benchmarks). */
  sealNow(): Promise<SealResult | null>
  isActive(): boolean
  stop(): Promise<void>
}

/**
 * The sealer inside the service. Each instance tries to take a session advisory lock on its own
 * connection; the holder seals, the others retry every interval and take over within one interval
 * after the holder's connection ends (crash, shutdown, network loss).
 */
export function startSealer(options: SealerOptions): Sealer {
  const { key, clock, log } = options
  const batchSize = options.batchSize ?? 5000
  let client: pg.Client | null = null
  let state: SealerState | null = null
  let active = false
  let stopped = false
  let timer: NodeJS.Timeout | null = null
  let running: Promise<SealResult | null> = Promise.resolve(null)

  async function release() {
    const old = client
    client = null
    state = null
    if (active) log.info('ledger sealer released the lock')
    active = false
    await old?.end().catch(() => {})
  }

  async function pass(): Promise<SealResult | null> {
    if (stopped) return null
    try {
      if (!client) {
        const fresh = new pg.Client({ connectionString: options.databaseUrl, application_name: 'townsquare-sealer' })
        fresh.on('error', () => void release())
        await fresh.connect()
        client = fresh
      }
      if (!active) {
        const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [SEALER_LOCK])
        if (!rows[0]?.locked) return null
        active = true
        log.info('ledger sealer active in this instance')
      }
      state ??= await loadState(client)
      let sealed = 0
      let checkpoint: SealResult['checkpoint'] = null
      for (;;) {
        const batch = await sealBatch(client, state, key, clock, batchSize)
        sealed += batch.sealed
        if (batch.signed) checkpoint = { treeSize: state.range.size, rootHash: state.range.root() }
        if (batch.sealed < batchSize || stopped) break
      }
      return { sealed, treeSize: state.range.size, checkpoint }
    } catch (error) {
      // Whatever failed, start again from the database: the in-memory frontier may be ahead of it.
      log.error({ err: error }, 'ledger sealing failed; retrying')
      await release()
      return null
    }
  }

  function schedule() {
    if (stopped) return
    timer = setTimeout(() => {
      running = running.then(pass, pass)
      void running.finally(schedule)
    }, options.intervalMs)
    timer.unref()
  }
  schedule()

  return {
    sealNow() {
      running = running.then(pass, pass)
      return running
    },
    isActive: () => active,
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      await running.catch(() => {})
      await release()
    },
  }
}
