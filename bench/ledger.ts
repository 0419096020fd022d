// Ledger benchmark: `npm run bench:ledger` (full) or `npm run bench:ledger -- --quick` (smoke run).
//
// Creates throwaway databases (on BENCH_DATABASE_URL, TEST_DATABASE_URL or 127.0.0.1:5432, or with
// --embedded on a fresh durable embedded PostgreSQL: bench/lib/db.ts), migrates them with
// src/db/migrate.ts, and
// measures with the service's own code (appendEntries through Prisma, startSealer, entryWithProof,
// verifyLedger):
//   1. append throughput with the sealer off and on (closed loop, fixed concurrency);
//   2. sealing lag (commit -> covered by a signed checkpoint) under an open-loop append rate;
//   3. bulk sealing rate and inclusion-proof latency at N entries, against a naive root recompute;
//   4. full verification time at N entries.
// docs/performance.md explains the figures. A MISS is reported, not fatal; a functional failure
// (verification not ok, a count mismatch, a proof that does not verify) exits non-zero.
import { generateKeyPairSync } from 'node:crypto'
import { cpus, loadavg, totalmem } from 'node:os'
import pg from 'pg'
import { pino } from 'pino'
import { loadConfig } from '../src/config.js'
import { createDatabase, type Database } from '../src/db/client.js'
import { inTransaction } from '../src/db/tx.js'
import { appendEntries, type NewEntry } from '../src/ledger/append.js'
import { canonicalJson } from '../src/ledger/canonical-json.js'
import { payloadCommitment } from '../src/ledger/commitment.js'
import { entryLeafHash } from '../src/ledger/entry.js'
import { rootFromLeafHashes, verifyInclusion } from '../src/ledger/merkle.js'
import { entryWithProof, latestCheckpoint } from '../src/ledger/proofs.js'
import { startSealer, type Sealer } from '../src/ledger/sealer.js'
import { loadSigningKey, type LedgerSigningKey } from '../src/ledger/signing-key.js'
import { verifyLedger, type VerificationReport } from '../src/ledger/verify.js'
import { Args } from './lib/args.js'
import { commitSeededEntries, PLACEHOLDER_COMMITMENT_SQL, PLACEHOLDER_SALT_SQL } from './lib/format2.js'
import { createBenchDatabase, cleanUp, serverInfo } from './lib/db.js'
import { fmtBytes, fmtInt, fmtMs, fmtRate, nowMs, sleep, summarize, type Summary } from './lib/stats.js'
import { renderTable, type Row } from './lib/table.js'

// ---------------------------------------------------------------------------------------------
// Options

const args = new Args()
const KNOWN = ['quick', 'entries', 'duration', 'segment', 'concurrency', 'rate', 'lag-duration', 'lag-batch', 'proofs', 'per-tx', 'fill-chunk']
args.exitOnUnknown(KNOWN)
const quick = args.flag('quick')
const opts = {
  quick,
  /** Tree size for the proof and verification figures (section 3 and 4). */
  entries: Math.floor(args.number('entries', quick ? 20_000 : 1_000_000)),
  /** Seconds of appends per sealer mode (section 1), split into segments of --segment seconds. */
  durationS: args.number('duration', quick ? 3 : 20),
  segmentS: args.number('segment', quick ? 1.5 : 2.5),
  concurrency: Math.max(1, Math.floor(args.number('concurrency', 8))),
  /** Entries per transaction, like one webhook delivery. */
  perTx: Math.max(1, Math.floor(args.number('per-tx', 1))),
  /** Offered append rate for the lag measurement (section 2), entries/s. */
  rate: args.number('rate', 2000),
  lagDurationS: args.number('lag-duration', quick ? 3 : 10),
  /**
   * Entries per transaction for the second lag run (a delivery carrying several changes): enough
   * that one Node process can offer the target rate through Prisma on a small machine.
   */
  lagBatch: Math.max(1, Math.floor(args.number('lag-batch', 8))),
  proofs: Math.max(1, Math.floor(args.number('proofs', quick ? 200 : 1000))),
  fillChunk: Math.max(1000, Math.floor(args.number('fill-chunk', 50_000))),
}
/** Section 1 alternates the modes in segments (off, on, on, off, off, on, ...) so drift favours neither. */
const SEGMENT_ORDER: Array<'off' | 'on'> = Array.from({ length: Math.max(1, Math.round(opts.durationS / opts.segmentS)) }, (_, k): Array<'off' | 'on'> =>
  k % 2 === 0 ? ['off', 'on'] : ['on', 'off'],
).flat()

const TARGETS = {
  sealingCostRatio: 0.8,
  lagP99Ms: 2000,
  proofMs: 5,
  verifyMsPerMillion: 30_000,
  /** The offered rate counts as sustained when at least this share of it was achieved. */
  rateShare: 0.95,
}

// ---------------------------------------------------------------------------------------------
// Progress (stderr) and results (stdout)

const benchStart = Date.now()
function progress(message: string) {
  console.error(`[bench ${((Date.now() - benchStart) / 1000).toFixed(0).padStart(4)}s] ${message}`)
}

class FunctionalFailure extends Error {
  override name = 'FunctionalFailure'
}
function ensure(condition: unknown, message: string): asserts condition {
  if (!condition) throw new FunctionalFailure(message)
}

// The sealer logs through a pino logger like the service's; errors it logs (and retries) are
// counted, since a sealer that keeps failing would make every figure meaningless.
let sealerErrors = 0
const sealerLog = pino(
  { level: 'warn', base: { component: 'sealer' } },
  {
    write(line: string) {
      try {
        if ((JSON.parse(line) as { level?: number }).level! >= 50) sealerErrors++
      } catch {
        // not JSON: pass it through
      }
      process.stderr.write(line)
    },
  },
)

// The service's defaults (sealer interval) come from its own config schema; the signing key is
// ephemeral, passed as PEM so nothing is written to DATA_DIR.
const serviceConfig = loadConfig({
  NODE_ENV: 'test',
  JWT_SECRET: 'bench-only-secret-that-is-long-enough-for-hs256',
  LEDGER_ORIGIN: 'bench.townsquare.invalid/ledger',
  LEDGER_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
})
const signingKey: LedgerSigningKey = loadSigningKey(serviceConfig)
const SEALER_INTERVAL_MS = serviceConfig.ledger.checkpointIntervalMs

function runSealer(databaseUrl: string, intervalMs = SEALER_INTERVAL_MS): Sealer {
  return startSealer({ databaseUrl, key: signingKey, intervalMs, log: sealerLog })
}

// ---------------------------------------------------------------------------------------------
// The entries: comment versions as a webhook delivery appends them. The SQL filler in section 3
// produces byte-identical canonical payloads for the same n (checked at run time).

const BASE_TIME_MS = Date.parse('2026-11-24T00:00:00.000Z')
const COMMENT_TEXT = 'please fix the potholes on Washington Avenue before winter; the bike lane is unusable.'

function commentPayload(n: number, createdAt: Date): Record<string, unknown> {
  return {
    platform: 'facebook',
    postId: `fb-p-${n % 97}`,
    commentId: `fb-c-${n}`,
    author: { id: `fb-u-${n % 5000}`, name: `Resident ${n % 5000}` },
    text: `Comment ${n}: ${COMMENT_TEXT}`,
    createdTime: createdAt.toISOString(),
  }
}

let entryCounter = 0
function webhookEntries(count: number): NewEntry[] {
  return Array.from({ length: count }, () => {
    const n = ++entryCounter
    return { kind: 'comment.version', subject: `facebook:comment:${n}`, actor: 'platform:facebook', payload: commentPayload(n, new Date()) }
  })
}

// ---------------------------------------------------------------------------------------------
// Section 1: closed-loop append throughput

interface LoadResult {
  entries: number
  transactions: number
  elapsedMs: number
  latency: Summary
}

async function closedLoop(db: Database, durationMs: number): Promise<LoadResult> {
  const start = nowMs()
  const deadline = start + durationMs
  let entries = 0
  let lastEnd = start
  const latencies: number[] = []
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (nowMs() < deadline) {
        const t0 = nowMs()
        const appended = await inTransaction(db.prisma, (tx) => appendEntries(tx, webhookEntries(opts.perTx)))
        const t1 = nowMs()
        latencies.push(t1 - t0)
        entries += appended.length
        if (t1 > lastEnd) lastEnd = t1
      }
    }),
  )
  return { entries, transactions: latencies.length, elapsedMs: lastEnd - start, latency: summarize(latencies) }
}

/** Seals everything committed so far with a temporary sealer (between measurements, untimed). */
async function drain(db: Database, url: string): Promise<void> {
  const sealer = runSealer(url, 60_000)
  try {
    for (let attempt = 0; ; attempt++) {
      const result = await sealer.sealNow()
      ensure(result || attempt < 5, 'the drain sealer did not become active (is another sealer holding the lock?)')
      if (result && result.sealed === 0) break
      if (!result) await sleep(200)
    }
  } finally {
    await sealer.stop()
  }
  const { rows } = await db.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM ledger_entry e WHERE NOT EXISTS (SELECT 1 FROM ledger_leaf l WHERE l.entry_id = e.id)')
  ensure(rows[0]!.n === '0', `after draining, ${rows[0]!.n} entries are still unsealed`)
}

interface ModeFigures {
  entries: number
  ms: number
  latencies: Summary[]
  /** entries/s of each segment, in run order (shows the machine's noise). */
  segments: number[]
  /** Sealing of the segment's last entries after the load stopped, charged to the sealer-on time. */
  tailSealMs: number
}
type ThroughputFigures = Record<'off' | 'on', ModeFigures> & {
  /** on/off throughput of each adjacent (off, on) pair of segments, in run order. */
  pairRatios: number[]
}

async function appendThroughput(db: Database, url: string): Promise<ThroughputFigures> {
  const segmentMs = (opts.durationS * 1000 * 2) / SEGMENT_ORDER.length
  progress(`section 1: warm-up (${opts.concurrency} in flight)`)
  await closedLoop(db, quick ? 2000 : 5000)
  await drain(db, url)
  const mode = (): ModeFigures => ({ entries: 0, ms: 0, latencies: [], segments: [], tailSealMs: 0 })
  const figures: ThroughputFigures = { off: mode(), on: mode(), pairRatios: [] }
  const pair: Partial<Record<'off' | 'on', number>> = {}
  for (const [i, m] of SEGMENT_ORDER.entries()) {
    progress(`section 1: segment ${i + 1}/${SEGMENT_ORDER.length}, sealer ${m}, ${fmtMs(segmentMs)}`)
    const sealer = m === 'on' ? runSealer(url) : null
    let result: LoadResult
    let tailMs = 0
    try {
      result = await closedLoop(db, segmentMs)
      if (sealer) {
        // The entries of the last interval would be sealed by the next tick: seal them now and
        // count that time, so the sealer-on figure carries all of its segment's sealing work.
        const t0 = nowMs()
        const tail = await sealer.sealNow()
        tailMs = nowMs() - t0
        ensure(tail, 'the sealer was not active during a sealer-on segment')
      }
    } finally {
      await sealer?.stop()
    }
    if (sealer) ensure(sealer.isActive() === false, 'sealer still active after stop')
    const f = figures[m]
    f.entries += result.entries
    f.ms += result.elapsedMs + tailMs
    f.tailSealMs += tailMs
    f.latencies.push(result.latency)
    f.segments.push((result.entries * 1000) / (result.elapsedMs + tailMs))
    pair[m] = f.segments[f.segments.length - 1]!
    if (i % 2 === 1) {
      figures.pairRatios.push(pair.on! / pair.off!)
      delete pair.on
      delete pair.off
    }
    progress(`  ${fmtInt(result.entries)} entries in ${fmtMs(result.elapsedMs + tailMs)} = ${fmtRate((result.entries * 1000) / (result.elapsedMs + tailMs))}; tx latency p50 ${fmtMs(result.latency.p50)} p99 ${fmtMs(result.latency.p99)}`)
    await drain(db, url)
  }
  return figures
}

// ---------------------------------------------------------------------------------------------
// Section 2: sealing lag under an open-loop append rate

interface LagFigures {
  perTx: number
  offered: number
  achieved: number
  issued: number
  skipped: number
  lag: Summary
  scheduleDelay: Summary
  checkpoints: number
}

async function sealingLag(db: Database, url: string, perTx: number): Promise<LagFigures> {
  const durationMs = opts.lagDurationS * 1000
  const txRate = opts.rate / perTx
  const ids: string[] = []
  const committedAt: number[] = []
  const scheduleDelays: number[] = []
  let failure: unknown = null
  const { rows: before } = await db.pool.query<{ n: string }>('SELECT COALESCE(max(tree_size), 0)::text AS n FROM ledger_checkpoint')
  const checkpointsFrom = Number(before[0]!.n)

  progress(`section 2: ${fmtRate(opts.rate)} offered (${perTx} per transaction) for ${opts.lagDurationS} s with the sealer on (${SEALER_INTERVAL_MS} ms interval), at most ${opts.concurrency} in flight`)
  const sealer = runSealer(url)
  let issued = 0
  let skipped = 0
  let lastCommit = 0
  const start = nowMs()
  try {
    await new Promise<void>((resolve) => {
      let inFlight = 0
      let done = false
      const finish = () => {
        if (done && inFlight === 0) resolve()
      }
      const tick = () => {
        const elapsed = nowMs() - start
        const dueTotal = Math.min(Math.floor((Math.min(elapsed, durationMs) * txRate) / 1000) + 1, Math.floor((durationMs * txRate) / 1000))
        // Open loop: appends are due on a fixed schedule whatever the latency; the in-flight cap
        // stands for the pool, so when the database falls behind, appends start late (measured).
        while (issued < dueTotal && inFlight < opts.concurrency && failure === null) {
          const scheduled = start + (issued * 1000) / txRate
          scheduleDelays.push(nowMs() - scheduled)
          issued++
          inFlight++
          inTransaction(db.prisma, (tx) => appendEntries(tx, webhookEntries(perTx))).then(
            (appended) => {
              const at = Date.now()
              lastCommit = nowMs()
              for (const entry of appended) {
                ids.push(entry.id)
                committedAt.push(at)
              }
              inFlight--
              finish()
            },
            (error: unknown) => {
              failure ??= error
              inFlight--
              finish()
            },
          )
        }
        if (elapsed >= durationMs || failure !== null) {
          // Appends still due but never started were skipped: the achieved rate shows it.
          skipped = Math.max(0, Math.floor((durationMs * txRate) / 1000) - issued)
          done = true
          finish()
        } else {
          setTimeout(tick, 1)
        }
      }
      tick()
    })
    if (failure !== null) throw failure
    progress(`  ${fmtInt(ids.length)} entries committed; waiting for the sealer to cover them`)
    const waitUntil = Date.now() + 60_000
    for (;;) {
      const { rows } = await db.pool.query<{ entries: string; covered: string }>(
        'SELECT (SELECT count(*) FROM ledger_entry)::text AS entries, (SELECT COALESCE(max(tree_size), 0) FROM ledger_checkpoint)::text AS covered',
      )
      if (rows[0]!.entries === rows[0]!.covered) break
      ensure(Date.now() < waitUntil, `the sealer did not cover all entries within 60 s (${rows[0]!.covered} of ${rows[0]!.entries})`)
      await sleep(100)
    }
  } finally {
    await sealer.stop()
  }
  const elapsedMs = lastCommit - start

  // Lag per entry: issued_at of the first checkpoint whose tree contains the entry's leaf.
  const lags: number[] = []
  for (let i = 0; i < ids.length; i += 10_000) {
    const { rows } = await db.pool.query<{ committed_ms: number; leaf_index: string | null; issued_ms: number | null }>(
      `SELECT u.committed_ms, l.leaf_index::text,
              (SELECT extract(epoch FROM c.issued_at) * 1000 FROM ledger_checkpoint c
                WHERE c.tree_size > l.leaf_index ORDER BY c.tree_size LIMIT 1)::float8 AS issued_ms
         FROM unnest($1::uuid[], $2::float8[]) AS u(id, committed_ms)
         LEFT JOIN ledger_leaf l ON l.entry_id = u.id`,
      [ids.slice(i, i + 10_000), committedAt.slice(i, i + 10_000)],
    )
    for (const row of rows) {
      ensure(row.leaf_index !== null && row.issued_ms !== null, 'an appended entry is not covered by a checkpoint after the sealer caught up')
      lags.push(row.issued_ms - row.committed_ms)
    }
  }
  ensure(lags.length === ids.length, `lag rows ${lags.length} != appended entries ${ids.length}`)
  const { rows: cps } = await db.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM ledger_checkpoint WHERE tree_size > $1', [checkpointsFrom])
  return {
    perTx,
    offered: opts.rate,
    achieved: (ids.length * 1000) / Math.max(elapsedMs, durationMs),
    issued,
    skipped,
    lag: summarize(lags),
    scheduleDelay: summarize(scheduleDelays),
    checkpoints: Number(cps[0]!.n),
  }
}

// ---------------------------------------------------------------------------------------------
// Section 3: a big tree: bulk fill, bulk sealing, proofs, naive baseline

// The same canonical JSON as commentPayload(n, BASE_TIME + n ms): keys in RFC 8785 order.
const FILL_SQL = `
INSERT INTO ledger_entry (id, kind, subject, actor, recorded_at, payload, payload_salt, payload_commitment)
SELECT gen_random_uuid(), 'comment.version', 'facebook:comment:' || g, 'platform:facebook', t.ts, p.payload,
       ${PLACEHOLDER_SALT_SQL}, ${PLACEHOLDER_COMMITMENT_SQL}
  FROM generate_series($1::bigint, $2::bigint) AS g,
       LATERAL (SELECT timestamptz '2026-11-24 00:00:00+00' + g * interval '1 millisecond' AS ts) AS t,
       LATERAL (SELECT '{"author":{"id":"fb-u-' || g % 5000 || '","name":"Resident ' || g % 5000 || '"},"commentId":"fb-c-' || g
                    || '","createdTime":"' || to_char(t.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
                    || '","platform":"facebook","postId":"fb-p-' || g % 97 || '","text":"Comment ' || g || ': ' || $3::text || '"}' AS payload) AS p`

async function fillLedger(pool: pg.Pool, n: number): Promise<number> {
  const start = nowMs()
  let lastReport = start
  for (let from = 1; from <= n; from += opts.fillChunk) {
    const to = Math.min(n, from + opts.fillChunk - 1)
    await pool.query(FILL_SQL, [from, to, COMMENT_TEXT])
    if (nowMs() - lastReport > 10_000) {
      progress(`  filled ${fmtInt(to)} of ${fmtInt(n)}`)
      lastReport = nowMs()
    }
  }
  const ms = nowMs() - start
  // Format 2 commitments are computed in TypeScript (untimed setup, not part of the fill rate).
  progress(`  committing ${fmtInt(await commitSeededEntries(pool))} payloads (format 2, untimed)`)
  // The SQL payloads must be exactly what appendEntries would have stored.
  const { rows } = await pool.query<{ subject: string; payload: string; payload_salt: Buffer; payload_commitment: string; recorded_at: Date }>(
    `SELECT subject, payload, payload_salt, payload_commitment, recorded_at FROM ledger_entry ORDER BY random() LIMIT 20`,
  )
  for (const row of rows) {
    const g = Number(row.subject.slice('facebook:comment:'.length))
    const expected = canonicalJson(commentPayload(g, new Date(BASE_TIME_MS + g)))
    ensure(row.payload === expected, `SQL payload for ${g} is not the canonical JSON appendEntries would store:\n  ${row.payload}\n  ${expected}`)
    ensure(row.payload_commitment === payloadCommitment(JSON.parse(expected), row.payload_salt), `payload_commitment for ${g} does not open with its salt`)
    ensure(row.recorded_at.getTime() === BASE_TIME_MS + g, `recorded_at for ${g} is not millisecond-exact`)
  }
  return ms
}

interface TreeFigures {
  fillMs: number
  sealMs: number
  vacuumMs: number
  proof: Summary
  proofWarm: Summary
  proofsChecked: number
  rootHash: Buffer
}

async function bigTree(pool: pg.Pool, url: string, n: number): Promise<TreeFigures> {
  progress(`section 3: filling ${fmtInt(n)} entries with SQL (chunks of ${fmtInt(opts.fillChunk)})`)
  const fillMs = await fillLedger(pool, n)
  progress(`  filled in ${fmtMs(fillMs)}; sealing with the real sealer (sealNow until tree size ${fmtInt(n)})`)

  const sealer = runSealer(url)
  const sealStart = nowMs()
  const reporter = setInterval(() => {
    void pool
      .query<{ n: string }>('SELECT COALESCE(max(leaf_index) + 1, 0)::text AS n FROM ledger_leaf')
      .then(({ rows }) => progress(`  sealed ${fmtInt(Number(rows[0]!.n))} of ${fmtInt(n)}`))
      .catch(() => {})
  }, 15_000)
  let sealMs: number
  try {
    let treeSize = 0
    for (let idle = 0; treeSize < n; ) {
      const result = await sealer.sealNow()
      if (!result) {
        ensure(++idle < 20, 'the sealer did not seal (not active, or failing; see its log above)')
        await sleep(250)
        continue
      }
      treeSize = result.treeSize
      if (result.sealed === 0 && treeSize < n) {
        ensure(++idle < 20, `the sealer stopped at tree size ${treeSize} of ${n}`)
        await sleep(250)
      }
    }
    sealMs = nowMs() - sealStart
    ensure(treeSize === n, `tree size ${treeSize} after sealing, expected ${n}`)
  } finally {
    clearInterval(reporter)
    await sealer.stop()
  }
  const { rows: counts } = await pool.query<{ leaves: string; entries: string; checkpoint: string | null }>(
    `SELECT (SELECT count(*) FROM ledger_leaf)::text AS leaves, (SELECT count(*) FROM ledger_entry)::text AS entries,
            (SELECT max(tree_size) FROM ledger_checkpoint)::text AS checkpoint`,
  )
  ensure(counts[0]!.leaves === String(n) && counts[0]!.entries === String(n), `sealed count mismatch: ${counts[0]!.leaves} leaves for ${counts[0]!.entries} entries, expected ${n}`)
  ensure(counts[0]!.checkpoint === String(n), `latest checkpoint is at ${counts[0]!.checkpoint}, expected ${n}`)
  progress(`  sealed ${fmtInt(n)} in ${fmtMs(sealMs)} = ${fmtRate((n * 1000) / sealMs)}`)

  // Bulk loads are followed by autovacuum on a live server; do it now so plans and the visibility
  // map are what a settled ledger has.
  const vacuumStart = nowMs()
  await pool.query('VACUUM (ANALYZE) ledger_entry, ledger_leaf, ledger_tree_node, ledger_checkpoint')
  const vacuumMs = nowMs() - vacuumStart

  const checkpoint = await latestCheckpoint(pool)
  ensure(checkpoint && checkpoint.treeSize === n, 'no checkpoint at the full tree size')

  // Inclusion proofs for random entries, sequentially, through the pool (as a request would).
  progress(`  timing entryWithProof for ${fmtInt(opts.proofs)} random entries`)
  const pick = (count: number) => {
    const picked = new Set<number>()
    while (picked.size < Math.min(count, n)) picked.add(Math.floor(Math.random() * n))
    return [...picked]
  }
  const idsFor = async (indexes: number[]) =>
    (await pool.query<{ entry_id: string }>('SELECT entry_id FROM ledger_leaf WHERE leaf_index = ANY($1::bigint[]) ORDER BY random()', [indexes])).rows.map((r) => r.entry_id)
  for (const id of await idsFor(pick(50))) await entryWithProof(pool, id) // warm-up
  const sample = await idsFor(pick(opts.proofs))
  // Two passes over the same entries: the first touches each entry's pages for the first time
  // (the figure a caller asking about an arbitrary old entry sees); the second runs from cache.
  const passes: number[][] = [[], []]
  let checked = 0
  for (const times of passes) {
    for (const id of sample) {
      const t0 = nowMs()
      const result = await entryWithProof(pool, id)
      times.push(nowMs() - t0)
      ensure(result.inclusion && result.leafIndex !== null, `entry ${id} has no inclusion proof`)
      const ok = verifyInclusion(entryLeafHash(result.entry), result.leafIndex, result.inclusion.checkpoint.treeSize, result.inclusion.proof, result.inclusion.checkpoint.rootHash)
      ensure(ok, `the inclusion proof for entry ${id} (leaf ${result.leafIndex}) does not verify`)
      checked++
    }
  }

  return { fillMs, sealMs, vacuumMs, proof: summarize(passes[0]!), proofWarm: summarize(passes[1]!), proofsChecked: checked, rootHash: checkpoint.rootHash }
}

/**
 * Baseline: what a proof would cost without stored subtree nodes: read all N leaf hashes and
 * recompute the root in memory (rootFromLeafHashes). Run last: it is the one memory-hungry step.
 */
async function naiveBaseline(pool: pg.Pool, n: number, checkpointRoot: Buffer): Promise<{ fetchMs: number; hashMs: number }> {
  // Hashes are packed into one buffer; rootFromLeafHashes takes one view per leaf.
  progress(`section 3 baseline: reading ${fmtInt(n)} leaf hashes and recomputing the root in memory`)
  const packed = Buffer.allocUnsafe(n * 32)
  const fetchStart = nowMs()
  for (let from = 0; from < n; from += 100_000) {
    const { rows } = await pool.query<{ leaf_hash: Buffer }>('SELECT leaf_hash FROM ledger_leaf WHERE leaf_index >= $1 AND leaf_index < $2 ORDER BY leaf_index', [from, from + 100_000])
    rows.forEach((row, i) => row.leaf_hash.copy(packed, (from + i) * 32))
    ensure(rows.length === Math.min(100_000, n - from), `leaf hashes ${from}..: got ${rows.length}`)
  }
  const naiveFetchMs = nowMs() - fetchStart
  const hashStart = nowMs()
  const leaves = Array.from({ length: n }, (_, i) => packed.subarray(i * 32, i * 32 + 32))
  const naiveRoot = rootFromLeafHashes(leaves)
  const naiveHashMs = nowMs() - hashStart
  ensure(naiveRoot.equals(checkpointRoot), 'the naive root over all leaf hashes differs from the checkpoint root')

  return { fetchMs: naiveFetchMs, hashMs: naiveHashMs }
}

// ---------------------------------------------------------------------------------------------
// Section 4: full verification

async function verifyFull(pool: pg.Pool, n: number): Promise<{ ms: number; report: VerificationReport }> {
  progress(`section 4: verifyLedger over ${fmtInt(n)} entries`)
  const start = nowMs()
  const report = await verifyLedger(pool)
  const ms = nowMs() - start
  ensure(report.ok, `verification is not ok: ${JSON.stringify(report.divergence)}`)
  ensure(report.treeSize === n, `verification checked ${report.treeSize} leaves, expected ${n}`)
  ensure(report.unsealedEntries === 0, `verification found ${report.unsealedEntries} unsealed entries`)
  ensure(report.checkpointsChecked >= 1, 'verification checked no checkpoint')
  return { ms, report }
}

// ---------------------------------------------------------------------------------------------
// Report

const verdict = (pass: boolean) => (pass ? 'PASS' : 'MISS')

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

async function main(): Promise<void> {
  const server = await serverInfo()
  const machine = [
    `cores: ${cpus().length} x ${cpus()[0]?.model.trim() ?? 'unknown'}; memory ${fmtBytes(totalmem())}; load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    `Node ${process.version}; ${server.version.split(',')[0]}; ${server.server}`,
    `PostgreSQL settings: ${Object.entries(server.settings)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ')}`,
    `mode: ${quick ? '--quick' : 'full'}; N = ${fmtInt(opts.entries)}; concurrency ${opts.concurrency} (pool ${opts.concurrency}); ${opts.perTx} entr${opts.perTx === 1 ? 'y' : 'ies'}/transaction; sealer interval ${SEALER_INTERVAL_MS} ms`,
  ]
  for (const line of machine) progress(line)

  // Sections 1 and 2: appends through Prisma on a database of their own.
  const appendDb = await createBenchDatabase('townsquare_bench')
  progress(`database ${appendDb.name} (appends)`)
  const db = createDatabase(appendDb.url, { poolSize: opts.concurrency })
  let throughput: ThroughputFigures
  const lags: LagFigures[] = []
  let appendVerify: VerificationReport
  try {
    throughput = await appendThroughput(db, appendDb.url)
    lags.push(await sealingLag(db, appendDb.url, opts.perTx))
    if (opts.lagBatch !== opts.perTx) lags.push(await sealingLag(db, appendDb.url, opts.lagBatch))
    appendVerify = await verifyLedger(db.pool)
    const { rows } = await db.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM ledger_entry')
    ensure(appendVerify.ok, `verification of the append database is not ok: ${JSON.stringify(appendVerify.divergence)}`)
    ensure(String(appendVerify.treeSize) === rows[0]!.n && appendVerify.unsealedEntries === 0, `append database: ${appendVerify.treeSize} leaves for ${rows[0]!.n} entries`)
  } finally {
    await db.close()
    await appendDb.drop()
  }

  // Sections 3 and 4: a tree of exactly N entries on a second database.
  const treeDb = await createBenchDatabase('townsquare_bench')
  progress(`database ${treeDb.name} (tree of ${fmtInt(opts.entries)})`)
  const pool = new pg.Pool({ connectionString: treeDb.url, max: 4, application_name: 'townsquare-bench' })
  pool.on('error', () => {})
  let tree: TreeFigures
  let verification: { ms: number; report: VerificationReport }
  let naive: { fetchMs: number; hashMs: number }
  let rssBeforeBaselineBytes: number
  try {
    tree = await bigTree(pool, treeDb.url, opts.entries)
    verification = await verifyFull(pool, opts.entries)
    rssBeforeBaselineBytes = process.resourceUsage().maxRSS * 1024
    naive = await naiveBaseline(pool, opts.entries, tree.rootHash)
  } finally {
    await pool.end()
    await treeDb.drop()
  }
  ensure(sealerErrors === 0, `the sealer logged ${sealerErrors} error(s) during the run (see above)`)

  // ---- figures
  const n = opts.entries
  const offRate = (throughput.off.entries * 1000) / throughput.off.ms
  const onRate = (throughput.on.entries * 1000) / throughput.on.ms
  const pooledRatio = onRate / offRate
  // The headline ratio is the median over adjacent (off, on) pairs: a noisy segment (another
  // process on the machine) then moves one pair, not the result.
  const ratio = median(throughput.pairRatios)
  const sealRate = (n * 1000) / tree.sealMs
  const p99Of = (s: Summary[]) => Math.max(...s.map((x) => x.p99))
  const p50Of = (s: Summary[]) => s.map((x) => x.p50).sort((a, b) => a - b)[Math.floor(s.length / 2)]!
  const naiveMs = naive.fetchMs + naive.hashMs
  const verifyTargetMs = (TARGETS.verifyMsPerMillion * n) / 1_000_000
  const segSeconds = (opts.durationS * 2) / SEGMENT_ORDER.length

  const rows: Row[] = [
    ['1', 'Append throughput, sealer off', fmtRate(offRate, ' entries/s'), '', '', `${fmtInt(throughput.off.entries)} in ${fmtMs(throughput.off.ms)}; segments ${throughput.off.segments.map((r) => fmtInt(r)).join(', ')}/s; tx p50 ${fmtMs(p50Of(throughput.off.latencies))}, p99 ${fmtMs(p99Of(throughput.off.latencies))}`],
    ['1', 'Append throughput, sealer on', fmtRate(onRate, ' entries/s'), '', '', `${fmtInt(throughput.on.entries)} in ${fmtMs(throughput.on.ms)} (incl. ${fmtMs(throughput.on.tailSealMs)} sealing segment tails); segments ${throughput.on.segments.map((r) => fmtInt(r)).join(', ')}/s; tx p50 ${fmtMs(p50Of(throughput.on.latencies))}, p99 ${fmtMs(p99Of(throughput.on.latencies))}`],
    ['1', 'Throughput ratio on/off (median of pairs)', ratio.toFixed(3), `>= ${TARGETS.sealingCostRatio}`, verdict(ratio >= TARGETS.sealingCostRatio), `sealing costs ${((1 - ratio) * 100).toFixed(1)}%; pairs ${throughput.pairRatios.map((r) => r.toFixed(2)).join(', ')}; pooled ${pooledRatio.toFixed(3)}`],
    ['1', 'Sealing work per second of appends', `${((onRate / sealRate) * 100).toFixed(1)}%`, '', '', `cross-check: sealer-on rate / bulk sealing rate = seconds of sealing per second of appends`],
    ...lags.flatMap((lag, i): Row[] => {
      const id = lags.length > 1 ? `2${'abc'[i] ?? i}` : '2'
      const per = `${lag.perTx} entr${lag.perTx === 1 ? 'y' : 'ies'}/tx`
      return [
        [id, `Append rate achieved, ${per}`, fmtRate(lag.achieved, ' entries/s'), `${fmtInt(lag.offered)}/s offered`, verdict(lag.achieved >= TARGETS.rateShare * lag.offered), `${fmtInt(lag.issued)} tx issued, ${fmtInt(lag.skipped)} skipped; start delay p50 ${fmtMs(lag.scheduleDelay.p50)}, p99 ${fmtMs(lag.scheduleDelay.p99)}`],
        [id, `Sealing lag p50, ${per}`, fmtMs(lag.lag.p50), '', '', `commit -> first signed checkpoint covering it; ${fmtInt(lag.lag.count)} entries, ${fmtInt(lag.checkpoints)} checkpoints`],
        [id, `Sealing lag p99, ${per}`, fmtMs(lag.lag.p99), `< ${fmtMs(TARGETS.lagP99Ms)}`, verdict(lag.lag.p99 < TARGETS.lagP99Ms), `max ${fmtMs(lag.lag.max)}`],
      ]
    }),
    ['3', `Bulk fill (SQL), ${fmtInt(n)} entries`, fmtRate((n * 1000) / tree.fillMs, ' entries/s'), '', '', `${fmtMs(tree.fillMs)} (setup, not the service's code)`],
    ['3', `Bulk sealing rate, ${fmtInt(n)} entries`, fmtRate(sealRate, ' entries/s'), '', '', `${fmtMs(tree.sealMs)} with the real sealer (sealNow)`],
    ['3', 'Inclusion proof p50 (first touch)', fmtMs(tree.proof.p50), `< ${TARGETS.proofMs} ms`, verdict(tree.proof.p50 < TARGETS.proofMs), `entryWithProof, ${fmtInt(tree.proof.count)} random entries at N = ${fmtInt(n)}; all ${fmtInt(tree.proofsChecked)} proofs verified`],
    ['3', 'Inclusion proof p99 (first touch)', fmtMs(tree.proof.p99), `< ${TARGETS.proofMs} ms`, verdict(tree.proof.p99 < TARGETS.proofMs), `max ${fmtMs(tree.proof.max)}`],
    ['3', 'Inclusion proof p99 (same entries again)', fmtMs(tree.proofWarm.p99), `< ${TARGETS.proofMs} ms`, verdict(tree.proofWarm.p99 < TARGETS.proofMs), `p50 ${fmtMs(tree.proofWarm.p50)}, max ${fmtMs(tree.proofWarm.max)}: pages cached`],
    ['3', 'Naive root from all leaf hashes', fmtMs(naiveMs), '', '', `read ${fmtMs(naive.fetchMs)} + hash ${fmtMs(naive.hashMs)}; equals the checkpoint root`],
    ['3', 'Naive root / proof p50', `${fmtInt(naiveMs / tree.proof.p50)}x`, '', '', `hashing alone ${fmtInt(naive.hashMs / tree.proof.p50)}x; what stored perfect-subtree nodes save`],
    ['4', `Full verification, ${fmtInt(n)} entries`, fmtMs(verification.ms), `< ${fmtMs(verifyTargetMs)}`, verdict(verification.ms < verifyTargetMs), `${fmtRate((n * 1000) / verification.ms, ' entries/s')} (target 30 s per 1M)`],
  ]

  const out: string[] = []
  out.push('')
  out.push(`Townsquare ledger benchmark, ${new Date().toISOString().slice(0, 10)} (${quick ? '--quick' : 'full run'})`)
  for (const line of machine) out.push(`  ${line}`)
  out.push(`  section 1: ${SEGMENT_ORDER.length} segments of ${segSeconds} s in (off, on) and (on, off) pairs; section 2: ${opts.lagDurationS} s open loop at ${fmtInt(opts.rate)} entries/s (${[...new Set([opts.perTx, opts.lagBatch])].join(' and ')} per tx); section 3: ${fmtInt(opts.proofs)} proofs`)
  out.push('')
  out.push(renderTable(['#', 'Figure', 'Value', 'Target', 'Result', 'Notes'], rows, { rightAlign: [2] }))
  out.push('')
  out.push(`Append database verification: ok=${appendVerify.ok}, ${fmtInt(appendVerify.treeSize)} leaves, ${fmtInt(appendVerify.checkpointsChecked)} checkpoints, ${appendVerify.unsealedEntries} unsealed`)
  out.push(`verifyLedger report at N = ${fmtInt(n)}: ${JSON.stringify(verification.report)}`)
  out.push(`VACUUM (ANALYZE) after sealing: ${fmtMs(tree.vacuumMs)}; peak RSS of this process: ${fmtBytes(rssBeforeBaselineBytes)} before the naive baseline, ${fmtBytes(process.resourceUsage().maxRSS * 1024)} at the end (the baseline holds N leaf hashes as separate buffers)`)
  out.push(`Load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')} (figures from a busy machine are lower and noisier); run took ${fmtMs(Date.now() - benchStart)}`)
  const misses = rows.filter((r) => r[4] === 'MISS').map((r) => r[1])
  out.push(misses.length === 0 ? 'All targets met.' : `Targets missed: ${misses.join('; ')} (reported, not fatal).`)
  console.log(out.join('\n'))
}

let exitCode = 0
try {
  await main()
} catch (error) {
  exitCode = 1
  if (error instanceof FunctionalFailure) console.error(`\nFUNCTIONAL FAILURE: ${error.message}`)
  else console.error('\nbenchmark failed:', error)
} finally {
  await cleanUp()
}
process.exit(exitCode)
