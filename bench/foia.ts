// Records and FOIA benchmark: `npm run bench:foia` (1,000,000 comment versions) or
// `npm run bench:foia -- --quick` (100,000, fewer runs: a smoke run).
//
// Creates a throwaway database (on BENCH_DATABASE_URL, TEST_DATABASE_URL or 127.0.0.1:5432, or with
// --embedded on a fresh durable embedded PostgreSQL: bench/lib/db.ts), migrates it with src/db/migrate.ts, fills
// it with bench/lib/records-dataset.ts, then runs the phases below in order. Each phase measures
// the service's own code and prints a table; a MISS is reported, not fatal. The database is
// dropped at the end, on failure, and on SIGINT/SIGTERM. docs/performance.md explains the figures.
//
// Phases:
//   1. records search: five typical clerk queries through the search route's code path (the
//      search in one snapshot with its total, the first page's details, the access log entry),
//      against the same queries as ILIKE scans (no text index) in the same run.
//   2. FOIA production: bench/foia-production.ts in a child process (its own 100,000-record
//      dataset, each production in a fresh process so its peak memory is the production's),
//      against a COPY of the same rows; `npm run bench:foia:production` runs it alone.
import { execFile } from 'node:child_process'
import { cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { loggedRead } from '../src/audit/access-log.js'
import { createDatabase, type Database } from '../src/db/client.js'
import { Prisma } from '../src/generated/prisma/client.js'
import { PROJECT_ROOT } from '../src/paths.js'
import { recordConditions, type RecordQuery } from '../src/records/query.js'
import { matchesSql, searchRecords, searchWhere, type SearchResult } from '../src/records/search.js'
import { Args } from './lib/args.js'
import { createBenchDatabase, cleanUp, serverInfo } from './lib/db.js'
import { generateRecordsDataset, type RecordsDataset } from './lib/records-dataset.js'
import { fmtBytes, fmtInt, fmtMs, nowMs, percentileSorted } from './lib/stats.js'
import { renderTable } from './lib/table.js'

const args = new Args()
const KNOWN = ['quick', 'versions', 'runs', 'baseline-runs']
args.exitOnUnknown(KNOWN)
const quick = args.flag('quick')
const opts = {
  versions: Math.floor(args.number('versions', quick ? 100_000 : 1_000_000)),
  /** Timed runs of each query (after two warm-up runs). */
  runs: Math.max(1, Math.floor(args.number('runs', quick ? 5 : 30))),
  /** Timed runs of each ILIKE baseline query (after one warm-up run): they take seconds each. */
  baselineRuns: Math.max(1, Math.floor(args.number('baseline-runs', quick ? 2 : 5))),
}

const TARGETS = { searchP95Ms: 200 }

const benchStart = Date.now()
function progress(message: string) {
  console.error(`[bench ${((Date.now() - benchStart) / 1000).toFixed(0).padStart(4)}s] ${message}`)
}

export interface BenchContext {
  db: Database
  dataset: RecordsDataset
}

export interface PhaseReport {
  title: string
  lines: string[]
  misses: number
}

export interface Phase {
  name: string
  run(ctx: BenchContext): Promise<PhaseReport>
}

// ---------------------------------------------------------------------------------------------
// Phase 1: records search

interface ClerkQuery {
  name: string
  query: RecordQuery
  /** The text part as ILIKE patterns, all of which one version must contain. */
  ilike: string[]
}

function clerkQueries(dataset: RecordsDataset): ClerkQuery[] {
  const lastQuarter = new Date(dataset.to.getTime() - 90 * 24 * 3600 * 1000)
  return [
    { name: 'a word: library', query: { q: 'library' }, ilike: ['%library%'] },
    { name: 'a phrase: "snow removal"', query: { q: '"snow removal"' }, ilike: ['%snow removal%'] },
    {
      name: 'prefix construct* + facebook + last 90 days',
      query: { q: 'construct*', platform: 'facebook', from: lastQuarter.toISOString(), to: dataset.to.toISOString() },
      ilike: ['%construct%'],
    },
    { name: 'removed, citing rule 4.c, word: parking', query: { removed: true, rule: '4.c', q: 'parking' }, ilike: ['%parking%'] },
    { name: 'author name garcia + word: pothole', query: { authorName: 'garcia', q: 'pothole' }, ilike: ['%pothole%'] },
  ]
}

/** The same query with its text part as ILIKE scans over every version (no text index). */
function ilikeConditions(q: ClerkQuery): Prisma.Sql {
  const rest = recordConditions({ ...q.query, q: undefined })
  const text = Prisma.join(
    q.ilike.map((pattern) => Prisma.sql`e.text ILIKE ${pattern}`),
    ' AND ',
  )
  return Prisma.sql`${rest} AND c.id IN (SELECT e.comment_id FROM comment_event e WHERE ${text})`
}

const ACCESS = {
  actor: 'user:bench-clerk',
  roles: ['records_clerk'],
  action: 'records.search',
  route: 'GET /v1/records/search',
  requestId: 'bench',
}

/** What the route does for one search, without HTTP: one snapshot, the page's details, the log entry. */
async function timedSearch(db: Database, query: unknown, search: (tx: Parameters<typeof searchRecords>[0]) => Promise<SearchResult>) {
  const start = nowMs()
  const result = await loggedRead(db.prisma, { ...ACCESS, query, at: new Date() }, async (tx) => {
    const found = await search(tx)
    return { value: found, recordIds: found.items.map((r) => r.id) }
  })
  return { ms: nowMs() - start, result }
}

const recordsSearchPhase: Phase = {
  name: 'records search',
  async run({ db, dataset }) {
    const queries = clerkQueries(dataset)
    const page = { limit: 25 }
    const fts = new Map<string, number[]>(queries.map((q) => [q.name, []]))
    const totals = new Map<string, { fts: number; ilike: number; items: number }>()
    for (const q of queries) {
      for (let w = 0; w < 2; w++) {
        const { result } = await timedSearch(db, q.query, (tx) => searchRecords(tx, q.query, page))
        totals.set(q.name, { fts: result.total, ilike: NaN, items: result.items.length })
      }
    }
    // Interleaved, so a burst of load from the machine's other users hits every query alike.
    for (let run = 0; run < opts.runs; run++) {
      for (const q of queries) fts.get(q.name)!.push((await timedSearch(db, q.query, (tx) => searchRecords(tx, q.query, page))).ms)
    }
    progress(`records search: ${opts.runs} runs of each query done; ILIKE baseline next`)
    const ilike = new Map<string, number[]>(queries.map((q) => [q.name, []]))
    for (let run = -1; run < opts.baselineRuns; run++) {
      for (const q of queries) {
        const { ms, result } = await timedSearch(db, { baseline: 'ilike', ...q.query }, (tx) => searchWhere(tx, ilikeConditions(q), page))
        if (run >= 0) ilike.get(q.name)!.push(ms)
        totals.get(q.name)!.ilike = result.total
      }
    }

    // Where the time goes: the server's own execution time of the total-and-page statement
    // (EXPLAIN ANALYZE, median of three), the rest being the page's details, the access log entry,
    // the transaction and the client.
    const sqlMs = new Map<string, number>()
    for (const q of queries) {
      const times: number[] = []
      for (let i = 0; i < 3; i++) {
        const plan = await db.prisma.$transaction(async (tx) => {
          await tx.$executeRaw`SET LOCAL jit = off`
          const explain = Prisma.sql`EXPLAIN (ANALYZE, FORMAT JSON) ${matchesSql(recordConditions(q.query), page)}`
          return tx.$queryRaw<Array<{ 'QUERY PLAN': Array<{ 'Execution Time': number }> }>>(explain)
        })
        times.push(plan[0]!['QUERY PLAN'][0]!['Execution Time'])
      }
      sqlMs.set(q.name, times.sort((a, b) => a - b)[1]!)
    }

    let misses = 0
    const rows = queries.map((q) => {
      const f = [...fts.get(q.name)!].sort((a, b) => a - b)
      const b = [...ilike.get(q.name)!].sort((a, b) => a - b)
      const fP50 = percentileSorted(f, 50)
      const fP95 = percentileSorted(f, 95)
      const bP50 = percentileSorted(b, 50)
      const bP95 = percentileSorted(b, 95)
      const pass = fP95 < TARGETS.searchP95Ms
      if (!pass) misses++
      const t = totals.get(q.name)!
      return [
        q.name,
        fmtInt(t.fts),
        fmtMs(fP50),
        fmtMs(fP95),
        fmtMs(sqlMs.get(q.name)!),
        fmtInt(t.ilike),
        fmtMs(bP50),
        fmtMs(bP95),
        `${(bP50 / fP50).toFixed(1)}x`,
        `${pass ? 'PASS' : 'MISS'} (p95 < ${TARGETS.searchP95Ms} ms)`,
      ]
    })
    const table = renderTable(['query', 'matches', 'p50', 'p95', 'of which SQL', 'ILIKE matches', 'ILIKE p50', 'ILIKE p95', 'ILIKE/FTS p50', 'target'], rows, {
      rightAlign: [1, 2, 3, 4, 5, 6, 7, 8],
    })
    return {
      title: `Records search: ${opts.runs} runs per query (ILIKE: ${opts.baselineRuns}), page of ${page.limit} with details, exact total, access log entry`,
      lines: [
        table,
        'matches: comments (total); ILIKE matches differ where English stemming does (library also finds libraries; ILIKE %construct% also matches inside words).',
        'of which SQL: server execution time of the total-and-page statement (EXPLAIN ANALYZE, median of 3); the rest is the details, the access log, the transaction and the client.',
      ],
      misses,
    }
  },
}

const productionPhase: Phase = {
  name: 'FOIA production',
  async run() {
    const records = quick ? 10_000 : 100_000
    const tsx = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx')
    const child = promisify(execFile)(tsx, [join(PROJECT_ROOT, 'bench', 'foia-production.ts'), '--records', String(records)], {
      cwd: PROJECT_ROOT,
      maxBuffer: 16 * 1024 * 1024,
    })
    child.child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(chunk))
    const { stdout } = await child
    const lines = stdout.trimEnd().split('\n')
    return { title: `FOIA production of ${fmtInt(records)} records (bench/foia-production.ts)`, lines, misses: lines.filter((l) => /\bMISS(ED)?\b/.test(l)).length }
  },
}

const PHASES: Phase[] = [recordsSearchPhase, productionPhase]

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const server = await serverInfo()
  const header = [
    `cores: ${cpus().length} x ${cpus()[0]?.model.trim() ?? 'unknown'}; memory ${fmtBytes(totalmem())}; load average at start ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
    `${server.version.split(',')[0]} (${server.server}); ${Object.entries(server.settings).map(([k, v]) => `${k}=${v}`).join(', ')}`,
  ]
  progress(header.join('\n'))
  const bench = await createBenchDatabase()
  progress(`database ${bench.name}: generating ${fmtInt(opts.versions)} comment versions`)
  const dataset = await generateRecordsDataset(bench.url, { versions: opts.versions, log: (m) => progress(`  ${m}`) })
  const datasetLine = `dataset: ${fmtInt(dataset.comments)} comments, ${fmtInt(dataset.versions)} versions, ${fmtInt(dataset.decisions)} decisions (${fmtInt(dataset.removedOrHidden)} removed or hidden); seeded in ${dataset.seconds.toFixed(0)} s including index build and VACUUM ANALYZE`
  progress(datasetLine)
  const db = createDatabase(bench.url, { poolSize: 4 })
  const out: string[] = [...header, datasetLine, '']
  let misses = 0
  try {
    for (const phase of PHASES) {
      progress(`phase: ${phase.name}`)
      const report = await phase.run({ db, dataset })
      misses += report.misses
      out.push(report.title, ...report.lines, '')
    }
  } finally {
    await db.close()
    await bench.drop()
  }
  out.push(`Load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; run took ${fmtMs(Date.now() - benchStart)}; ${misses} target(s) missed`)
  console.log(out.join('\n'))
  return 0
}

main().then(
  async (code) => {
    await cleanUp()
    process.exit(code)
  },
  async (error: unknown) => {
    console.error(error)
    await cleanUp()
    process.exit(1)
  },
)
