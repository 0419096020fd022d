import type { FastifyBaseLogger } from 'fastify'
import pg from 'pg'
import { signCheckpoint } from './checkpoint.js'
import type { LedgerSigningKey } from './signing-key.js'
import type { Queryable } from './tree-store.js'

/** Session advisory lock held by the one active sealer across all instances. */
export const SEALER_LOCK = 7_201_104

export interface SealResult {
  sealed: number
  treeSize: number
  checkpoint: {
    treeSize: number
    rootHash: Buffer
    issuedAt: Date
    /** Why it was signed: the tree grew, the latest was LEDGER_MAX_CHECKPOINT_AGE old, or a new key's first. */
    reason: 'grown' | 'fresh' | 'rotation'
    /** The key id of the previous key that co-signed it (a rotation's endorsement). */
    endorsedBy: string | null
  } | null
}

/** What the sealer remembers between passes about the checkpoints it signs. */
interface SignState {
  /** The configured key has signed a checkpoint already (then no endorsement is due). */
  keySigned: boolean
  warnedUnendorsed: boolean
  warnedRetired: boolean
}

/**
 * One sealing step, in a transaction of its own. The database seals (ledger_seal: it picks the
 * committed entries in commit-safe order, computes their leaves and the tree, and stamps the time)
 * and accepts a checkpoint only of the tree it holds (ledger_add_checkpoint); the service only
 * signs. The runtime role cannot write leaves, nodes or checkpoints any other way (migrations
 * 20261207190000 and 20261208010000, docs/security.md).
 *
 * Once the backlog is drained, a checkpoint is signed when the tree grew, when the latest
 * checkpoint is maxAgeMs old or older (the same tree signed again later: freshness), and when the
 * configured key has never signed (a rotation), in which case the previous key co-signs it when
 * it is configured (the endorsement verifiers follow). A key that another key succeeded signs
 * nothing more (an instance still running with the old key during a rolling restart).
 */
async function sealBatch(
  db: Queryable,
  key: LedgerSigningKey,
  batchSize: number,
  maxAgeMs: number,
  state: SignState,
  log: FastifyBaseLogger,
): Promise<{ sealed: number; treeSize: number; checkpoint: SealResult['checkpoint'] }> {
  await db.query('BEGIN')
  try {
    const { rows } = await db.query<{ sealed: number; tree_size: string; root_hash: Buffer; checkpoint_size: string; sealed_at: Date }>(
      'SELECT sealed, tree_size::text, root_hash, checkpoint_size::text, sealed_at FROM ledger_seal($1)',
      [batchSize],
    )
    const { sealed, root_hash: rootHash, sealed_at: time } = rows[0]!
    const treeSize = Number(rows[0]!.tree_size)
    let checkpoint: SealResult['checkpoint'] = null
    // Sign only once the backlog is drained (a short batch), so one tick issues one checkpoint.
    if (sealed < batchSize) {
      const latest = (
        await db.query<{ issued_at: Date; key_id: string }>('SELECT issued_at, key_id FROM ledger_checkpoint ORDER BY tree_size DESC, issued_at DESC LIMIT 1')
      ).rows[0]
      if (!state.keySigned && latest) {
        state.keySigned = (await db.query<{ signed: boolean }>('SELECT EXISTS (SELECT 1 FROM ledger_checkpoint WHERE key_id = $1) AS signed', [key.keyId])).rows[0]!.signed
      }
      const grown = treeSize > Number(rows[0]!.checkpoint_size)
      const stale = latest !== undefined && time.getTime() - latest.issued_at.getTime() >= maxAgeMs
      const rotated = latest !== undefined && !state.keySigned
      // This key signed before and another one has signed since: it was rotated out (an instance
      // not yet restarted with the new key). Signing again would break the key chain: leave the
      // checkpoints to the new key, seal only.
      const retired = latest !== undefined && state.keySigned && latest.key_id !== key.keyId
      if (retired) {
        if (!state.warnedRetired) {
          state.warnedRetired = true
          log.error({ keyId: key.keyId, latestKeyId: latest.key_id }, 'this instance\'s signing key was rotated out: it signs no checkpoint; set LEDGER_SIGNING_KEY to the current key and restart')
        }
      } else if (grown || stale || rotated) {
        const signers: Array<Pick<LedgerSigningKey, 'name' | 'privateKey'>> = [key]
        let endorsedBy: string | null = null
        if (rotated) {
          if (key.previous && key.previous.keyId === latest.key_id) {
            signers.push(key.previous)
            endorsedBy = key.previous.keyId
          } else if (!state.warnedUnendorsed) {
            state.warnedUnendorsed = true
            log.warn(
              { keyId: key.keyId, previousKeyId: latest.key_id, configuredPreviousKeyId: key.previous?.keyId ?? null },
              'the first checkpoint under this signing key is not endorsed: LEDGER_PREVIOUS_SIGNING_KEY is unset or is not the key of the latest checkpoint; verifiers will report the key as not endorsed',
            )
          }
        }
        const note = signCheckpoint({ origin: key.name, treeSize, rootHash, time }, signers)
        await db.query('SELECT ledger_add_checkpoint($1, $2, $3, $4, $5)', [treeSize, time, key.name, key.publicKeyPem, note])
        checkpoint = { treeSize, rootHash, issuedAt: time, reason: rotated ? 'rotation' : grown ? 'grown' : 'fresh', endorsedBy }
      }
    }
    await db.query('COMMIT')
    if (checkpoint) state.keySigned = true
    return { sealed, treeSize, checkpoint }
  } catch (error) {
    await db.query('ROLLBACK').catch(() => {})
    throw error
  }
}

export interface SealerOptions {
  databaseUrl: string
  key: LedgerSigningKey
  intervalMs: number
  /** LEDGER_MAX_CHECKPOINT_AGE: a checkpoint at least this often, even of an unchanged tree (ms). */
  maxCheckpointAgeMs?: number
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
  const { key, log } = options
  const batchSize = options.batchSize ?? 5000
  const maxAgeMs = options.maxCheckpointAgeMs ?? 3_600_000
  const signState: SignState = { keySigned: false, warnedUnendorsed: false, warnedRetired: false }
  let client: pg.Client | null = null
  let active = false
  let stopped = false
  let timer: NodeJS.Timeout | null = null
  let running: Promise<SealResult | null> = Promise.resolve(null)

  async function release() {
    const old = client
    client = null
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
      let sealed = 0
      let treeSize = 0
      let checkpoint: SealResult['checkpoint'] = null
      for (;;) {
        const batch = await sealBatch(client, key, batchSize, maxAgeMs, signState, log)
        sealed += batch.sealed
        treeSize = batch.treeSize
        checkpoint = batch.checkpoint ?? checkpoint
        if (batch.sealed < batchSize || stopped) break
      }
      return { sealed, treeSize, checkpoint }
    } catch (error) {
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
