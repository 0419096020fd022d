// Ingestion's storage floor: `npm run bench:ingest:storage` (about 2 minutes) or
// `npm run bench:ingest:storage -- --quick` (smoke run, about 30 s).
//
// bench:ingest measures the service over HTTP. This benchmark measures how fast PostgreSQL alone
// stores what the design requires of each delivery (DESIGN.md, "Ingest": the raw delivery, the
// comments, their events and ledger entries, and the evaluations, in one transaction). While it
// measures, Node does no HTTP, no signature check, no parsing and no policy work:
// 1. Record. Deliveries of new comments (test/factories/webhooks.ts metaBatch) are stored once
//    through the service's own code (ingestDeliveries, --group deliveries per transaction) on a
//    recording database. Every statement it sends is kept, with its parameters serialized as pg
//    sends them.
// 2. Replay. The transactions are sent again, in order, over --connections connections, to a copy
//    of the recording database as it was before recording (CREATE DATABASE ... TEMPLATE). They
//    write the same rows. The benchmark's own process only writes to sockets.
// 3. Baseline, interleaved with the replay in the same run: the same deliveries stored as
//    bench:ingest's baseline stores them (bench/lib/baseline-table.ts: one row per comment in one
//    INSERT), replayed the same way.
// It prints comments/s, PostgreSQL's CPU per delivery, the ratio to the baseline, and the most that
// CPU allows on this machine's cores if Node used none (the ceiling: bench:ingest's throughput
// target is half of it). The ledger's sealer does not run here, so the floor is below what the
// service really costs. docs/performance.md explains the figures.
//
// Options: --quick, --deliveries <n> (per round), --rounds <n>, --batch <n>, --group <n>,
// --connections <n>, --policy (publish the default policy first, so every comment is evaluated),
// --embedded (a fresh durable embedded PostgreSQL for this run: bench/lib/db.ts).
import { cpus } from 'node:os'
import pg from 'pg'
import { prepareValue } from 'pg/lib/utils.js'
import { createDatabase } from '../src/db/client.js'
import { pgSql, type PreparedStatement, type SqlClient } from '../src/db/sql.js'
import { inTransaction } from '../src/db/tx.js'
import { PolicyResolver } from '../src/policy/effective.js'
import { seedDefaultPolicy } from '../src/policy/seed.js'
import { EventKeySecret } from '../src/webhooks/event-keys.js'
import { ingestDeliveries, type DeliveryToStore } from '../src/webhooks/ingest.js'
import { platformAdapters } from '../src/webhooks/platforms/index.js'
import { metaBatch } from '../test/factories/webhooks.js'
import { Args } from './lib/args.js'
import { BASELINE_TABLE, BASELINE_TABLE_DDL, baselineInsert, type ParsedMetaDelivery } from './lib/baseline-table.js'
import { CpuMeter } from './lib/children.js'
import { cloneDatabase, createBenchDatabase, cleanUp, serverInfo } from './lib/db.js'
import { fmtInt, fmtMs, nowMs, sleep } from './lib/stats.js'
import { renderTable, type Row } from './lib/table.js'

const args = new Args()
const KNOWN = ['quick', 'deliveries', 'rounds', 'batch', 'group', 'connections', 'policy']
args.exitOnUnknown(KNOWN)
const quick = args.flag('quick')
const opts = {
  deliveries: Math.max(1, Math.floor(args.number('deliveries', quick ? 150 : 1000))),
  rounds: Math.max(1, Math.floor(args.number('rounds', quick ? 1 : 2))),
  batch: Math.max(1, Math.floor(args.number('batch', 50))),
  group: Math.max(1, Math.floor(args.number('group', 1))),
  connections: Math.max(1, Math.floor(args.number('connections', 2))),
  policy: args.flag('policy'),
}
/** bench:ingest's throughput target is this share of the storage ceiling printed here (docs/performance.md). */
const TARGET_SHARE_OF_CEILING = 0.5

const benchStart = Date.now()
const progress = (message: string) => console.error(`[bench ${((Date.now() - benchStart) / 1000).toFixed(0).padStart(4)}s] ${message}`)

/** One statement as pg would send it: parameters already serialized (Buffers stay binary). */
interface Statement {
  query: string | PreparedStatement
  values: unknown[]
}
/** Sent in order on one connection; a storage transaction starts with BEGIN and ends with COMMIT. */
type Transaction = Statement[]

const BEGIN = 'BEGIN; SET LOCAL statement_timeout = 30000'

/** A SqlClient that runs each statement on `inner` and keeps it, serialized, in `into`. */
function recording(inner: SqlClient, into: Statement[]): SqlClient {
  return {
    query(statement, values = []) {
      into.push({ query: statement, values: values.map((v) => prepareValue(v)) })
      return inner.query(statement, values)
    },
  }
}

function deliveryAt(index: number): { item: DeliveryToStore; parsed: ParsedMetaDelivery } {
  // Every delivery holds new comments with their own ids and times, as in bench:ingest.
  const body = metaBatch(opts.batch, { firstId: index * opts.batch, time: 1767225604 + index * opts.batch })
  const normalized = platformAdapters.meta.normalize(body)
  const headers = { 'content-type': 'application/json', 'content-length': String(body.length), 'x-hub-signature-256': 'sha256=' + '0'.repeat(64) }
  return { item: { delivery: { source: 'meta', body, headers, signatureVariant: 'standard' }, normalized }, parsed: JSON.parse(body.toString('utf8')) as ParsedMetaDelivery }
}

interface Measured {
  what: 'storage' | 'baseline'
  round: number
  deliveries: number
  comments: number
  wallS: number
  pgCpuS: number
  benchCpuS: number
}

/** Sends `transactions` over `connections` clients, each taking the next one when it is free. */
async function replay(url: string, transactions: readonly Transaction[]): Promise<{ wallS: number; pgCpuS: number; benchCpuS: number }> {
  const clients = await Promise.all(
    Array.from({ length: opts.connections }, async () => {
      const client = new pg.Client({ connectionString: url, application_name: 'townsquare-bench-replay' })
      await client.connect()
      return client
    }),
  )
  try {
    const pids = await Promise.all(clients.map(async (c) => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid))
    const pgMeter = new CpuMeter(pids)
    const cpu0 = process.cpuUsage()
    const t0 = nowMs()
    let next = 0
    await Promise.all(
      clients.map(async (client) => {
        for (let i = next++; i < transactions.length; i = next++) {
          for (const { query, values } of transactions[i]!) {
            await client.query(typeof query === 'string' ? { text: query, values } : { name: query.name, text: query.text, values })
          }
        }
      }),
    )
    const wallS = (nowMs() - t0) / 1000
    const cpu = process.cpuUsage(cpu0)
    return { wallS, pgCpuS: pgMeter.read().cpuSeconds, benchCpuS: (cpu.user + cpu.system) / 1e6 }
  } finally {
    await Promise.all(clients.map((c) => c.end()))
  }
}

/** CREATE DATABASE ... TEMPLATE needs the template idle; a closed connection's backend exits a moment later. */
async function cloneWhenIdle(name: string) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await cloneDatabase(name)
    } catch (error) {
      if (attempt >= 20 || !/being accessed by other users/.test((error as Error).message)) throw error
      await sleep(250)
    }
  }
}

async function main() {
  const server = await serverInfo()
  const total = opts.deliveries * opts.rounds
  progress(
    `${total} deliveries of ${opts.batch} comments (${opts.rounds} round(s) of ${opts.deliveries}), ${opts.group} per transaction, ${opts.connections} connection(s); ` +
      `${opts.policy ? 'default policy published' : 'no policy published'}; ${cpus().length} cores; ${server.version.split(' ').slice(0, 2).join(' ')} (${server.server})`,
  )

  const recordDb = await createBenchDatabase()
  if (opts.policy) {
    const db = createDatabase(recordDb.url, { poolSize: 1 })
    try {
      await inTransaction(db.prisma, (tx) => seedDefaultPolicy(tx, () => new Date('2025-12-01T00:00:00Z')))
    } finally {
      await db.close()
    }
  }
  // Copied before anything is recorded, so the replay writes the same rows into the same state.
  const replayDb = await cloneWhenIdle(recordDb.name)
  const baselineDb = await createBenchDatabase('townsquare_bench_baseline')
  const baselinePool = new pg.Pool({ connectionString: baselineDb.url, max: 1 })
  await baselinePool.query(BASELINE_TABLE_DDL)
  await baselinePool.end()

  // Record: the service's own code, one transaction at a time. Each round holds its own
  // deliveries, grouped inside the round, so every round replays exactly --deliveries of them.
  const rounds: Array<{ storage: Transaction[]; baseline: Transaction[] }> = []
  const recorder = new pg.Client({ connectionString: recordDb.url, application_name: 'townsquare-bench' })
  await recorder.connect()
  const deps = { clock: () => new Date(), resolver: new PolicyResolver(), maxAttempts: 6, eventKeys: new EventKeySecret() }
  const t0 = nowMs()
  try {
    for (let round = 0; round < opts.rounds; round++) {
      const recorded = { storage: [] as Transaction[], baseline: [] as Transaction[] }
      for (let first = 0; first < opts.deliveries; first += opts.group) {
        const offset = round * opts.deliveries + first
        const deliveries = Array.from({ length: Math.min(opts.group, opts.deliveries - first) }, (_, i) => deliveryAt(offset + i))
        const transaction: Transaction = [{ query: BEGIN, values: [] }]
        await recorder.query(BEGIN)
        const results = await ingestDeliveries(recording(pgSql(recorder), transaction), deliveries.map((d) => d.item), deps)
        await recorder.query('COMMIT')
        transaction.push({ query: 'COMMIT', values: [] })
        const accepted = results.reduce((n, r) => n + r.accepted, 0)
        if (accepted !== deliveries.length * opts.batch) throw new Error(`recording: ${accepted} comments accepted of ${deliveries.length * opts.batch}`)
        recorded.storage.push(transaction)
        for (const { parsed } of deliveries) {
          const insert = baselineInsert(parsed)!
          recorded.baseline.push([{ query: insert.text, values: insert.values.map((v) => prepareValue(v)) }])
        }
      }
      rounds.push(recorded)
    }
  } finally {
    await recorder.end()
  }
  const transactions = rounds.flatMap((r) => r.storage)
  const statements = transactions.reduce((n, t) => n + t.length, 0)
  progress(`recorded ${transactions.length} transactions (${(statements / transactions.length).toFixed(1)} statements each, BEGIN and COMMIT included) in ${fmtMs(nowMs() - t0)}`)

  // Replay, the storage and the baseline in turn, each round on its own deliveries.
  const measured: Measured[] = []
  const comments = opts.deliveries * opts.batch
  for (const [i, recorded] of rounds.entries()) {
    const round = i + 1
    const s = await replay(replayDb.url, recorded.storage)
    measured.push({ what: 'storage', round, deliveries: opts.deliveries, comments, ...s })
    progress(`round ${round}: storage replayed at ${fmtInt(comments / s.wallS)} comments/s`)
    const b = await replay(baselineDb.url, recorded.baseline)
    measured.push({ what: 'baseline', round, deliveries: opts.deliveries, comments, ...b })
    progress(`round ${round}: baseline replayed at ${fmtInt(comments / b.wallS)} comments/s`)
  }

  // The replays must have written what was recorded, or the figures measure nothing.
  const failures: string[] = []
  const count = async (url: string, sql: string) => {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      return Number((await client.query<{ n: string }>(sql)).rows[0]!.n)
    } finally {
      await client.end()
    }
  }
  const allComments = total * opts.batch
  const checks: Array<[string, number, number]> = [
    ['storage: webhook_delivery rows', await count(replayDb.url, 'SELECT count(*)::text AS n FROM webhook_delivery'), total],
    ['storage: comment rows', await count(replayDb.url, 'SELECT count(*)::text AS n FROM comment'), allComments],
    ['storage: comment_event rows', await count(replayDb.url, 'SELECT count(*)::text AS n FROM comment_event'), allComments],
    ['storage: comment.version ledger entries', await count(replayDb.url, `SELECT count(*)::text AS n FROM ledger_entry WHERE kind = 'comment.version'`), allComments],
    ['storage: comment_evaluation rows', await count(replayDb.url, 'SELECT count(*)::text AS n FROM comment_evaluation'), opts.policy ? allComments : 0],
    ['baseline: rows', await count(baselineDb.url, `SELECT count(*)::text AS n FROM ${BASELINE_TABLE}`), allComments],
  ]
  for (const [name, got, want] of checks) if (got !== want) failures.push(`${name}: ${got}, expected ${want}`)

  const cores = cpus().length
  const rows: Row[] = []
  for (const m of measured) {
    const other = measured.find((x) => x.round === m.round && x.what !== m.what)!
    const rate = m.comments / m.wallS
    rows.push([
      String(m.round),
      m.what,
      fmtInt(rate),
      fmtInt(m.deliveries / m.wallS),
      ((m.pgCpuS / m.deliveries) * 1000).toFixed(2),
      ((m.pgCpuS / m.comments) * 1e6).toFixed(0),
      (m.pgCpuS / m.wallS).toFixed(2),
      (m.benchCpuS / m.wallS).toFixed(2),
      m.what === 'storage' ? (rate / (other.comments / other.wallS)).toFixed(2) : '',
      fmtInt((cores * m.comments) / m.pgCpuS),
    ])
  }
  console.log('')
  console.log(
    renderTable(
      ['round', 'replayed', 'comments/s', 'deliveries/s', 'PG CPU ms/delivery', 'PG CPU µs/comment', 'PG cores', 'bench cores', 'ratio', `ceiling, ${cores} cores`],
      rows,
      { rightAlign: [2, 3, 4, 5, 6, 7, 8, 9] },
    ),
  )
  const sum = (what: Measured['what'], pick: (m: Measured) => number) => measured.filter((m) => m.what === what).reduce((n, m) => n + pick(m), 0)
  const storageRate = sum('storage', (m) => m.comments) / sum('storage', (m) => m.wallS)
  const baselineRate = sum('baseline', (m) => m.comments) / sum('baseline', (m) => m.wallS)
  const ceiling = (cores * sum('storage', (m) => m.comments)) / sum('storage', (m) => m.pgCpuS)
  console.log('')
  console.log(`ceiling: the comments/s that PostgreSQL's CPU per comment allows when it has all ${cores} cores and Node uses none`)
  console.log(`storage replayed, all rounds: ${fmtInt(storageRate)} comments/s, ${(storageRate / baselineRate).toFixed(2)} of the baseline's ${fmtInt(baselineRate)}`)
  // The target as CPU: at half the ceiling, the storage takes half of the cores; the other half is
  // what the ledger's sealer and everything Node does (HTTP, signature, parsing, policy) may use.
  const storageUs = (sum('storage', (m) => m.pgCpuS) / sum('storage', (m) => m.comments)) * 1e6
  console.log(
    `storage ceiling: ${fmtInt(ceiling)} comments/s (${storageUs.toFixed(0)} µs of PostgreSQL CPU per comment); bench:ingest's target for these deliveries ` +
      `(--batch ${opts.batch}${opts.policy ? ', --policy' : ''}): at least ${fmtInt(TARGET_SHARE_OF_CEILING * ceiling)} comments/s, ${TARGET_SHARE_OF_CEILING} of the ceiling`,
  )
  console.log(`row checks: ${failures.length === 0 ? `OK (${checks.map(([name, got]) => `${name} ${fmtInt(got)}`).join('; ')})` : failures.join('; ')}`)
  if (failures.length > 0) process.exitCode = 1
}

try {
  await main()
} catch (error) {
  console.error(error)
  process.exitCode = 1
} finally {
  await cleanUp()
}
