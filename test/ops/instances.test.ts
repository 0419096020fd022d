// Several instances on one database: migrations once, one sealer at a time with takeover after a
// kill -9, jobs run once. Real child processes on a private database.
import { createSigner } from 'fast-jwt'
import pg from 'pg'
import t from 'tap'
import { MIGRATIONS_DIR } from '../../src/config.js'
import { createDatabase } from '../../src/db/client.js'
import { readMigrationFiles } from '../../src/db/migrate.js'
import { inTransaction } from '../../src/db/tx.js'
import { SEALER_LOCK } from '../../src/ledger/sealer.js'
import { seedDefaultPolicy } from '../../src/policy/seed.js'
import { signatureHeaders } from '../factories/webhooks.js'
import { TEST_JWT_SECRET } from '../helpers/app.js'
import { createEmptyDatabase, serviceDatabaseEnv } from '../helpers/db.js'
import { startFakePlatform } from '../helpers/fake-platform.js'
import { startServiceProcess, type ServiceProcess } from '../helpers/service-process.js'

const auditor = createSigner({ key: TEST_JWT_SECRET, algorithm: 'HS256', iss: 'townsquare-dev', aud: 'townsquare', expiresIn: '1h' })({ sub: 'auditor-1', roles: ['auditor'] })
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function websiteDelivery(n: number, text: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      events: [{ id: `evt-${n}`, type: 'comment.created', commentId: `c-${n}`, pageUrl: 'https://city.example/news', author: { id: `u-${n}`, name: `Resident ${n}` }, text, occurredAt: new Date().toISOString() }],
    }),
  )
}

async function deliver(service: ServiceProcess, body: Buffer) {
  const res = await fetch(`${service.base}/v1/webhooks/website`, { method: 'POST', headers: { 'content-type': 'application/json', ...signatureHeaders('website', body) }, body })
  return res.status
}

/** The process id of the server backend holding the sealer's advisory lock, or null. */
async function sealerBackend(client: pg.Client): Promise<number | null> {
  const { rows } = await client.query<{ pid: number }>(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = $1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`, [SEALER_LOCK])
  return rows.length === 1 ? rows[0]!.pid : rows.length === 0 ? null : -rows.length
}

t.test('two instances on one database', async (t) => {
  const database = await createEmptyDatabase()
  t.teardown(database.drop)
  const fake = await startFakePlatform()
  t.teardown(() => fake.close())
  const env = { ...serviceDatabaseEnv(database), LEDGER_CHECKPOINT_INTERVAL_MS: '200', JOBS: 'on', WEBSITE_API_URL: fake.baseUrl, WEBSITE_API_TOKEN: 'web-token' }

  // Started together on an empty database: both migrate, under one lock.
  const [a, b] = await Promise.all([startServiceProcess(t, env), startServiceProcess(t, env)])
  await Promise.all([a.waitReady(), b.waitReady()])
  const admin = new pg.Client({ connectionString: database.url })
  await admin.connect()
  t.teardown(() => admin.end())
  const migrations = await admin.query<{ name: string; n: number }>(`SELECT migration_name AS name, count(*)::int AS n FROM _prisma_migrations GROUP BY 1 ORDER BY 1`)
  t.same(migrations.rows, readMigrationFiles(MIGRATIONS_DIR).map((f) => ({ name: f.name, n: 1 })), 'every migration applied exactly once')
  const applied = (s: ServiceProcess) => (s.output().match(/applied migration/g) ?? []).length
  t.equal(applied(a) + applied(b), migrations.rows.length, 'by one instance or the other, never both')

  // Exactly one sealer.
  let holder: number | null = null
  for (let i = 0; i < 150 && !(holder && holder > 0); i++, await sleep(200)) holder = await sealerBackend(admin)
  t.ok(holder && holder > 0, 'one backend holds the sealer lock')
  const active = (s: ServiceProcess) => (s.output().match(/ledger sealer active in this instance/g) ?? []).length
  t.equal(active(a) + active(b), 1, 'exactly one instance says it seals')
  const [sealing, standby] = active(a) ? [a, b] : [b, a]

  // Jobs run once: removals delivered to both instances are carried out once each on the platform.
  const db = createDatabase(database.url, { poolSize: 2 })
  t.teardown(() => db.close())
  await inTransaction(db.prisma, (tx) => seedDefaultPolicy(tx, () => new Date()))
  await sleep(1100) // the policy is in force from its publication time
  for (let n = 1; n <= 6; n++) t.equal(await deliver(n % 2 ? a : b, websiteDelivery(n, `Comment ${n}: this is complete bullshit`)), 200)
  let actions: Array<{ status: string; attempts: number }> = []
  for (let i = 0; i < 300; i++, await sleep(200)) {
    actions = await db.prisma.platformAction.findMany({ select: { status: true, attempts: true } })
    if (actions.length >= 6 && actions.every((x) => x.status !== 'pending')) break
  }
  t.ok(actions.length >= 6, `platform actions were created (${actions.length})`)
  t.ok(actions.every((x) => x.status === 'succeeded' && x.attempts === 1), 'each carried out once, on the first attempt')
  const calls = fake.requests.map((r) => `${r.method} ${r.path}`)
  t.equal(new Set(calls).size, calls.length, `no platform call made twice (${calls.length} calls)`)
  t.equal(calls.length, actions.length, 'one call per action')
  const outcomes = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ledger_entry WHERE kind IN ('platform.action', 'notice.delivery')`)
  t.equal(outcomes.rows[0]!.n, actions.length, 'one recorded outcome per action')

  // Kill -9 the sealing instance: the other takes over and seals what arrives next.
  const killedAt = Date.now()
  await sealing.kill('SIGKILL')
  let takeover: number | null = null
  for (let i = 0; i < 150; i++, await sleep(200)) {
    const now = await sealerBackend(admin)
    if (now && now > 0 && now !== holder && active(standby) === 1) {
      takeover = Date.now() - killedAt
      break
    }
  }
  t.ok(takeover !== null, 'the standby took the sealer lock within 30 s')
  t.comment(`sealer takeover after kill -9: ${takeover} ms (checkpoint interval 200 ms)`)
  t.equal(await deliver(standby, websiteDelivery(100, 'After the takeover')), 200)
  const entries = async () => (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM ledger_entry')).rows[0]!.n
  let sealed = 0
  for (let i = 0; i < 150; i++, await sleep(200)) {
    const res = await fetch(`${standby.base}/v1/ledger/checkpoints/latest`, { headers: { authorization: `Bearer ${auditor}` } })
    sealed = res.status === 200 ? ((await res.json()) as { treeSize: number }).treeSize : 0
    if (sealed === (await entries())) break
  }
  t.equal(sealed, await entries(), 'every entry is sealed after the takeover')
  const verify = await fetch(`${standby.base}/v1/ledger/verify`, { method: 'POST', headers: { authorization: `Bearer ${auditor}` } })
  t.match(await verify.json(), { ok: true }, 'the ledger verifies')
  await standby.kill('SIGTERM')
})
