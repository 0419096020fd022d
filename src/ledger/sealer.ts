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
  checkpoint: { treeSize: number; rootHash: Buffer } | null
}

/**
 * One sealing step, in a transaction of its own. The database seals (ledger_seal: it picks the
 * committed entries in commit-safe order, computes their leaves and the tree, and stamps the time)
 * and accepts a checkpoint only of the tree it holds (ledger_add_checkpoint); the service only
 * signs. The runtime role cannot write leaves, nodes or checkpoints any other way (migration
 * 20261207190000, docs/security.md).
 */
async function sealBatch(db: Queryable, key: LedgerSigningKey, batchSize: number): Promise<{ sealed: number; treeSize: number; checkpoint: SealResult['checkpoint'] }> {
  await db.query('BEGIN')
  try {
    const { rows } = await db.query<{ sealed: number; tree_size: string; root_hash: Buffer; checkpoint_size: string; sealed_at: Date }>(
      'SELECT sealed, tree_size::text, root_hash, checkpoint_size::text, sealed_at FROM ledger_seal($1)',
      [batchSize],
    )
    const { sealed, root_hash: rootHash, sealed_at: time } = rows[0]!
    const treeSize = Number(rows[0]!.tree_size)
    // Sign only once the backlog is drained (a short batch), so one tick issues one checkpoint.
    const sign = sealed < batchSize && treeSize > Number(rows[0]!.checkpoint_size)
    if (sign) {
      const note = signCheckpoint({ origin: key.name, treeSize, rootHash, time }, key)
      await db.query('SELECT ledger_add_checkpoint($1, $2, $3, $4, $5)', [treeSize, time, key.name, key.publicKeyPem, note])
    }
    await db.query('COMMIT')
    return { sealed, treeSize, checkpoint: sign ? { treeSize, rootHash } : null }
  } catch (error) {
    await db.query('ROLLBACK').catch(() => {})
    throw error
  }
}

export interface SealerOptions {
  databaseUrl: string
  key: LedgerSigningKey
  intervalMs: number
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
        const batch = await sealBatch(client, key, batchSize)
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
