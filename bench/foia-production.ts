// `npm run bench:foia:production [-- --records 100000] [--embedded]` (--embedded: a fresh durable
// embedded PostgreSQL for this run instead of BENCH_DATABASE_URL, TEST_DATABASE_URL or 127.0.0.1:5432).
// Seeds N records with set-based SQL (a comment, two versions each in the ledger, a decision on
// every tenth, an e-mail address redacted on every hundredth), seals them with the real sealer,
// then produces them through createProduction, the function POST /v1/foia/requests/{id}/productions
// calls, sampling RSS and heap. Baseline in the same run: `COPY (the same rows) TO STDOUT` into a
// file with psql. A tenth-size production first shows whether memory grows with the count. Each
// production runs in a fresh child process so that its RSS is what a service process would need,
// not what seeding and sealing left behind in this one.
// Targets (issue 7): under 60 s and under 300 MB peak for 100,000 records.
import { execFile } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { pino } from 'pino'
import { loadConfig } from '../src/config.js'
import { createDatabase } from '../src/db/client.js'
import { inTransaction } from '../src/db/tx.js'
import { createFoiaRequestForBench } from './lib/foia.js'
import { systemClock } from '../src/ledger/append.js'
import { canonicalJson } from '../src/ledger/canonical-json.js'
import { payloadCommitment } from '../src/ledger/commitment.js'
import { startSealer } from '../src/ledger/sealer.js'
import { loadSigningKey } from '../src/ledger/signing-key.js'
import { attachRecords } from '../src/foia/records.js'
import { PROJECT_ROOT } from '../src/paths.js'
import { verifyProductionArchive } from '../src/foia/verify-production.js'
import { completeArchive, productionProof } from '../src/foia/production-proof.js'
import { Args } from './lib/args.js'
import { commitSeededEntries, PLACEHOLDER_COMMITMENT_SQL, PLACEHOLDER_SALT_SQL } from './lib/format2.js'
import { createBenchDatabase, cleanUp, serverInfo } from './lib/db.js'
import { fmtBytes, fmtInt, fmtMs, measureMemory, nowMs, sleep } from './lib/stats.js'
import { renderTable } from './lib/table.js'

const run = promisify(execFile)
const args = new Args(process.argv.slice(2))
const N = Math.floor(args.number('records', 100_000))
const TARGET_MS = 60_000
const TARGET_BYTES = 300 * 1024 * 1024

const config = loadConfig({
  NODE_ENV: 'test',
  JWT_SECRET: 'bench-only-secret-that-is-long-enough-for-hs256',
  LEDGER_ORIGIN: 'bench.townsquare.invalid/ledger',
  LEDGER_SIGNING_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
})
const key = loadSigningKey(config)
const progress = (m: string) => console.error(`[bench:foia:production] ${m}`)

const BASE = Date.parse('2026-11-02T15:00:00.000Z')
const TEXT = 'please fix the potholes on Washington Avenue before winter'

/** The payload appendEntries would store for version v of comment n (checked against canonicalJson below). */
function versionPayload(n: number, v: number): Record<string, unknown> {
  const email = n % 100 === 0 ? ` write me at resident${n}@example.org` : ''
  return {
    author: { id: `u-${n}`, name: `Resident ${n}` },
    kind: v === 1 ? 'created' : 'edited',
    platform: 'website',
    platformTime: new Date(BASE + n * 1000 + v).toISOString(),
    text: `Comment ${n} version ${v}: ${TEXT}${email}`,
  }
}

// Keys in RFC 8785 order; every value is ASCII without quotes or backslashes, so to_json() quotes
// it exactly as canonical JSON does.
const SEED_SQL = `
WITH g AS (SELECT n FROM generate_series($1::int, $2::int) AS n),
c AS (
  INSERT INTO comment (id, platform, account, external_id, author_id, author_name, by_city, status, moderation_status,
                       current_text, version_count, first_platform_at, last_platform_at)
  SELECT md5('comment' || n)::uuid, 'website', 'city-of-kankakee', 'bench-' || n, 'u-' || n, 'Resident ' || n, false, 'active',
         CASE WHEN n % 10 = 0 THEN 'removed' ELSE 'allowed' END, 'text', 2,
         to_timestamp(($3::bigint + n * 1000) / 1000.0), to_timestamp(($3::bigint + n * 1000 + 2) / 1000.0)
    FROM g RETURNING id, external_id
),
p AS (
  SELECT c.id, n, v,
         format('{"author":{"id":%s,"name":%s},"kind":%s,"platform":"website","platformTime":%s,"text":%s}',
                to_json('u-' || n), to_json('Resident ' || n), to_json(CASE WHEN v = 1 THEN 'created' ELSE 'edited' END),
                to_json(to_char(to_timestamp(($3::bigint + n * 1000 + v) / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')),
                to_json('Comment ' || n || ' version ' || v || ': ' || $4::text || CASE WHEN n % 100 = 0 THEN ' write me at resident' || n || '@example.org' ELSE '' END)) AS payload
    FROM g JOIN c ON c.external_id = 'bench-' || g.n CROSS JOIN generate_series(1, 2) AS v
)
INSERT INTO ledger_entry (id, kind, subject, actor, recorded_at, payload, payload_salt, payload_commitment)
SELECT md5('entry' || n || '/' || v)::uuid, 'comment.version', id::text, 'platform:website',
       to_timestamp(($3::bigint + n * 1000 + v) / 1000.0), payload, ${PLACEHOLDER_SALT_SQL}, ${PLACEHOLDER_COMMITMENT_SQL}
  FROM p
UNION ALL
SELECT md5('decision' || n)::uuid, 'moderation.decision', id::text, 'system', to_timestamp(($3::bigint + n * 1000 + 3) / 1000.0),
       format('{"action":"remove","commentId":%s,"ruleCodes":["SPAM-1"]}', to_json(id::text)),
       ${PLACEHOLDER_SALT_SQL}, ${PLACEHOLDER_COMMITMENT_SQL}
  FROM p WHERE v = 1 AND n % 10 = 0`

const BASELINE_SQL = (requestId: string) => `COPY (
  SELECT c.id, c.platform, e.id, e.kind, e.actor, e.recorded_at, e.payload, e.payload_commitment, l.leaf_index
    FROM foia_request_record r JOIN comment c ON c.id = r.comment_id
    JOIN ledger_entry e ON e.subject = r.comment_id::text JOIN ledger_leaf l ON l.entry_id = e.id
   WHERE r.request_id = '${requestId}' ORDER BY r.comment_id, l.leaf_index) TO STDOUT`

interface Measured {
  ms: number
  peakRss: number
  startRss: number
  peakHeap: number
  bytes: number
}

async function measure(work: () => Promise<number>): Promise<Measured> {
  const { result: bytes, ...m } = await measureMemory(work)
  return { ...m, bytes }
}

async function main() {
  const info = await serverInfo()
  const db = await createBenchDatabase('townsquare_bench_foia')
  const database = createDatabase(db.url, { poolSize: 4 })
  const dir = mkdtempSync(join(tmpdir(), 'townsquare-bench-foia-'))
  try {
    progress(`seeding ${fmtInt(N)} records with SQL`)
    const seedStart = nowMs()
    for (let from = 1; from <= N; from += 20_000) await database.pool.query(SEED_SQL, [from, Math.min(N, from + 19_999), BASE, TEXT])
    progress(`committing ${fmtInt(await commitSeededEntries(database.pool))} payloads (format 2, untimed setup)`)
    const { rows: sample } = await database.pool.query<{ payload: string; payload_salt: Buffer; payload_commitment: string; external_id: string; kind: string }>(
      `SELECT e.payload, e.payload_salt, e.payload_commitment, c.external_id, e.kind FROM ledger_entry e JOIN comment c ON c.id::text = e.subject WHERE e.kind = 'comment.version' ORDER BY random() LIMIT 20`,
    )
    for (const row of sample) {
      const payload = JSON.parse(row.payload) as { kind: string }
      const expected = canonicalJson(versionPayload(Number(row.external_id.slice(6)), payload.kind === 'created' ? 1 : 2))
      if (row.payload !== expected || row.payload_commitment !== payloadCommitment(JSON.parse(expected), row.payload_salt)) throw new Error(`seeded payload is not canonical:\n${row.payload}\n${expected}`)
    }
    const entries = Number((await database.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM ledger_entry')).rows[0]!.n)
    progress(`seeded ${fmtInt(entries)} ledger entries in ${fmtMs(nowMs() - seedStart)}; sealing`)

    const sealer = startSealer({ databaseUrl: db.url, key, intervalMs: 60_000, log: pino({ level: 'warn' }) })
    const sealStart = nowMs()
    for (let size = 0, idle = 0; size < entries; ) {
      const result = await sealer.sealNow()
      if (!result || result.sealed === 0) {
        if (++idle > 40) throw new Error('the sealer does not seal')
        await sleep(250)
        continue
      }
      size = result.treeSize
    }
    await sealer.stop()
    progress(`sealed in ${fmtMs(nowMs() - sealStart)}`)

    const deps = { productionsDir: join(dir, 'productions') }
    const results: Array<[string, Measured, number]> = []
    for (const size of [Math.ceil(N / 10), N]) {
      const requestId = await createFoiaRequestForBench(database.prisma, `bench ${size}`)
      const attach = await inTransaction(database.prisma, (tx) =>
        size === N ? attachRecords(tx, requestId, { query: { platform: 'website' } }, 'user:bench', systemClock) : Promise.resolve(null),
      )
      if (!attach) {
        await database.pool.query(
          `INSERT INTO foia_request_record (request_id, comment_id, attached_at, attached_by)
           SELECT $1, id, now(), 'user:bench' FROM comment ORDER BY id LIMIT $2`,
          [requestId, size],
        )
      }
      // An accepted redaction of every e-mail address: the redaction path at scale.
      await database.pool.query(
        `INSERT INTO foia_redaction (id, request_id, comment_id, entry_id, path, start, "end", category, citation, status, source, nonce, created_at, created_by)
         SELECT gen_random_uuid(), $1, r.comment_id, e.id, '/text', strpos(e.payload::json->>'text', ' write me at ') + 12,
                length(e.payload::json->>'text'), 'email', '5 ILCS 140/7(1)(b)', 'accepted', 'clerk', decode(md5(e.id::text), 'hex'), now(), 'user:bench'
           FROM foia_request_record r JOIN ledger_entry e ON e.subject = r.comment_id::text
          WHERE r.request_id = $1 AND e.kind = 'comment.version' AND e.payload LIKE '%@example.org%'`,
        [requestId],
      )
      progress(`producing ${fmtInt(size)} records (in a fresh process, as the service would)`)
      const child = await run(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'bench', 'lib', 'foia-produce.ts'), db.url, requestId, deps.productionsDir], {
        cwd: PROJECT_ROOT,
        maxBuffer: 1 << 20,
      })
      const production = JSON.parse(child.stdout.trim().split('\n').pop()!) as Measured
      const row = await database.prisma.foiaProduction.findFirstOrThrow({ where: { requestId } })
      results.push([`production of ${fmtInt(row.records)} records (${fmtInt(row.entries)} entries, ${fmtInt(row.redactions)} redactions)`, production, row.records])
      if (size === N) {
        const out = join(dir, 'baseline.tsv')
        progress('baseline: COPY of the same rows to a file with psql')
        const baseline = await measure(async () => {
          await run('sh', ['-c', `psql "$1" -v ON_ERROR_STOP=1 -qc "$2" > "$3"`, 'sh', db.url, BASELINE_SQL(requestId), out])
          return statSync(out).size
        })
        results.push([`baseline: psql COPY of the same rows to a file (RSS: the idle bench process)`, baseline, row.records])
        // The second step of a production: its own entry sealed, the archive completed with its proof.
        progress("sealing the production's entry and completing its archive")
        const last = startSealer({ databaseUrl: db.url, key, intervalMs: 60_000, log: pino({ level: 'warn' }) })
        await last.sealNow()
        await last.stop()
        const proof = await productionProof(database.pool, row)
        if (!proof) throw new Error("the production's entry was not sealed")
        const completed = await completeArchive(deps.productionsDir, row, proof)
        progress('verifying the production offline')
        const verify = await measure(async () => {
          const report = await verifyProductionArchive(completed.path, { trustedKeys: [key.verifierKey] })
          if (!report.ok) throw new Error(`the production does not verify: ${JSON.stringify(report.problems.slice(0, 3))}`)
          return 0
        })
        results.push([`offline verification of that production (verifyProductionArchive, in the bench process)`, verify, row.records])
      }
    }

    console.log(`\nFOIA production benchmark: ${fmtInt(N)} records; ${info.version.split(',')[0]} (${info.server}); Node ${process.version}\n`)
    console.log(
      renderTable(
        ['what', 'time', 'output', 'RSS at start', 'peak RSS', 'peak heap used'],
        results.map(([what, m]) => [what, fmtMs(m.ms), m.bytes ? fmtBytes(m.bytes) : '', fmtBytes(m.startRss), fmtBytes(m.peakRss), fmtBytes(m.peakHeap)]),
        { rightAlign: [1, 2, 3, 4, 5] },
      ),
    )
    const full = results.find(([what, , records]) => records === N && what.startsWith('production'))!
    const base = results.find(([what]) => what.startsWith('baseline'))!
    console.log(
      `\n${fmtInt(N)}-record production: ${fmtMs(full[1].ms)} (target < 60 s: ${full[1].ms < TARGET_MS ? 'met' : 'MISSED'}), ` +
        `peak RSS ${fmtBytes(full[1].peakRss)} (target < 300 MB: ${full[1].peakRss < TARGET_BYTES ? 'met' : 'MISSED'}); ` +
        `${(full[1].ms / base[1].ms).toFixed(1)}x the time of the plain COPY`,
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
    await database.close()
    await cleanUp()
  }
}

await main()
