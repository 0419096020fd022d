// The zero-setup start: no DATABASE_URL runs on the embedded PostgreSQL (PGlite).
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSigner } from 'fast-jwt'
import pg from 'pg'
import t from 'tap'
import { startEmbedded } from '../../src/db/embedded.js'
import { metaBatch, signatureHeaders } from '../factories/webhooks.js'
import { TEST_JWT_SECRET } from '../helpers/app.js'
import { startServiceProcess } from '../helpers/service-process.js'

const auditorToken = createSigner({ key: TEST_JWT_SECRET, algorithm: 'HS256', iss: 'townsquare-dev', aud: 'townsquare', expiresIn: '1h' })({ sub: 'auditor-1', roles: ['auditor'] })

t.test('connections sharing the one backend never see each other\'s statements or transactions', async (t) => {
  const embedded = await startEmbedded(mkdtempSync(join(tmpdir(), 'townsquare-embedded-')))
  t.teardown(() => embedded.stop())
  const pool = new pg.Pool({ connectionString: embedded.url, max: 8 })
  t.teardown(() => pool.end())
  await pool.query('CREATE TABLE probe (id int PRIMARY KEY, body text)')
  // Large parameters arrive in several TCP chunks: another connection's Parse must not slip in
  // between a Parse and its Bind (the unnamed statement belongs to the backend, not the socket).
  const results = await Promise.all(
    Array.from({ length: 24 }, async (_, i) => {
      const big = String(i % 10).repeat(100_000 + i)
      const sql = i % 2 ? 'SELECT length($1::text) AS n, $2::int AS i' : 'SELECT $2::int AS i, length($1::text) AS n, 1 AS odd'
      const { rows } = await pool.query<{ n: number; i: number }>(sql, [big, i])
      return rows[0]!.n === big.length && rows[0]!.i === i
    }),
  )
  t.equal(results.filter(Boolean).length, 24, 'every query got its own answer')
  // Transactions on different connections run one after another: a rolled-back one leaves nothing.
  await Promise.all(
    Array.from({ length: 20 }, async (_, i) => {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        await client.query('INSERT INTO probe VALUES ($1, $2)', [i, 'x'])
        await client.query(i % 4 === 0 ? 'ROLLBACK' : 'COMMIT')
      } finally {
        client.release()
      }
    }),
  )
  t.equal((await pool.query('SELECT count(*)::int AS n FROM probe')).rows[0].n, 15)
  await t.rejects(startEmbedded(embedded.dataDir).then((again) => again.stop()), /in use by process/, 'a second opener of the directory is refused')
})

t.test('npm start without DATABASE_URL: embedded, ready, a signed delivery is recorded and sealed', async (t) => {
  const service = await startServiceProcess(t, { LEDGER_CHECKPOINT_INTERVAL_MS: '200', JOBS: 'on' })
  await service.waitReady()
  const first = service.output().split('\n')[0]!
  t.match(first, /embedded PostgreSQL.*for evaluation only/, 'the first log line says it runs embedded, for evaluation')

  const body = metaBatch(3)
  const res = await fetch(`${service.base}/v1/webhooks/meta`, { method: 'POST', headers: { 'content-type': 'application/json', ...signatureHeaders('meta', body) }, body })
  t.equal(res.status, 200, 'the delivery is acknowledged')

  let checkpoint: { treeSize: number } | null = null
  for (let i = 0; i < 150 && !(checkpoint && checkpoint.treeSize >= 3); i++) {
    await new Promise((resolve) => setTimeout(resolve, 200))
    const latest = await fetch(`${service.base}/v1/ledger/checkpoints/latest`, { headers: { authorization: `Bearer ${auditorToken}` } })
    if (latest.status === 200) checkpoint = (await latest.json()) as { treeSize: number }
  }
  t.ok(checkpoint && checkpoint.treeSize >= 3, `a signed checkpoint seals the three comments (tree size ${checkpoint?.treeSize})`)
  const verify = await fetch(`${service.base}/v1/ledger/verify`, { method: 'POST', headers: { authorization: `Bearer ${auditorToken}` } })
  t.equal(verify.status, 200)
  t.match(await verify.json(), { ok: true })

  await service.kill('SIGTERM')
  t.equal(service.child.exitCode, 0, 'SIGTERM: clean exit')
})
