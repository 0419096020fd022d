// Kill -9 under load: every delivery that got a 2xx is in the ledger and sealed, nothing twice.
// A real child process on a private database receives signed deliveries continuously, is killed
// with SIGKILL, and is restarted; the deliveries that failed are retried, as a platform would.
import { createSigner } from 'fast-jwt'
import pg from 'pg'
import t from 'tap'
import { metaBatch, signatureHeaders } from '../factories/webhooks.js'
import { TEST_JWT_SECRET } from '../helpers/app.js'
import { createTestDatabase, serviceDatabaseEnv } from '../helpers/db.js'
import { freePort, startServiceProcess, type ServiceProcess } from '../helpers/service-process.js'

const auditor = createSigner({ key: TEST_JWT_SECRET, algorithm: 'HS256', iss: 'townsquare-dev', aud: 'townsquare', expiresIn: '1h' })({ sub: 'auditor-1', roles: ['auditor'] })
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Delivery n carries two new comments, ids 2n and 2n+1. */
const delivery = (n: number) => metaBatch(2, { firstId: 2 * n })
const externalIds = (n: number) => [2 * n, 2 * n + 1].map((i) => `122131676912594941_${9000000 + i}`)

async function send(service: ServiceProcess, n: number): Promise<number> {
  const body = delivery(n)
  try {
    const res = await fetch(`${service.base}/v1/webhooks/meta`, { method: 'POST', headers: { 'content-type': 'application/json', ...signatureHeaders('meta', body) }, body, signal: AbortSignal.timeout(10_000) })
    return res.status
  } catch {
    return 0 // connection refused or reset: no answer, so the platform retries
  }
}

t.test('kill -9 under load, then restart', async (t) => {
  const database = await createTestDatabase()
  t.teardown(database.drop)
  const port = await freePort()
  const env = { ...serviceDatabaseEnv(database), LEDGER_CHECKPOINT_INTERVAL_MS: '200', JOBS: 'off', LOG_LEVEL: 'warn' }
  let service = await startServiceProcess(t, env, { port })
  await service.waitReady()

  const acked = new Set<number>()
  const unanswered = new Set<number>()
  let next = 0
  let running = true
  // Four senders, each with one delivery in flight at a time, until told to stop.
  const senders = Array.from({ length: 4 }, async () => {
    while (running) {
      const n = next++
      const status = await send(service, n)
      if (status >= 200 && status < 300) acked.add(n)
      else unanswered.add(n)
      if (status === 0) await sleep(50)
    }
  })
  while (acked.size < 60) await sleep(20)
  await service.kill('SIGKILL')
  const ackedBeforeKill = acked.size
  await sleep(500) // deliveries keep coming while it is down
  service = await startServiceProcess(t, env, { port })
  await service.waitReady()
  const ackedAtRestart = acked.size
  while (acked.size < ackedAtRestart + 40) await sleep(20)
  running = false
  await Promise.all(senders)

  // The platform retries what got no 2xx; a retry of a delivery that did commit creates nothing.
  const retried = [...unanswered].filter((n) => !acked.has(n))
  const probe = new pg.Client({ connectionString: database.url })
  await probe.connect()
  // Committed but never answered (in flight at the kill): the retry must not record them again.
  const committedUnanswered = (await probe.query<{ n: number }>('SELECT count(*)::int AS n FROM comment WHERE external_id = ANY($1)', [retried.flatMap(externalIds)])).rows[0]!.n / 2
  await probe.end()
  for (const n of retried) if ((await send(service, n)) === 200) acked.add(n)
  t.equal(acked.size, next, `every delivery was acknowledged in the end (${next} sent)`)

  const client = new pg.Client({ connectionString: database.url })
  await client.connect()
  t.teardown(() => client.end())
  const count = async (sql: string) => (await client.query<{ n: number }>(sql)).rows[0]!.n
  // Wait for the sealer: a checkpoint covering every entry.
  let sealed = 0
  for (let i = 0; i < 300; i++, await sleep(200)) {
    sealed = await count('SELECT COALESCE(max(tree_size), 0)::int AS n FROM ledger_checkpoint')
    if (sealed > 0 && sealed === (await count('SELECT count(*)::int AS n FROM ledger_entry'))) break
  }

  const ids = [...acked].flatMap(externalIds)
  const { rows } = await client.query<{ external_id: string; versions: number; sealed: number }>(
    `SELECT c.external_id, count(e.id)::int AS versions, count(l.entry_id)::int AS sealed
       FROM comment c
       LEFT JOIN ledger_entry e ON e.subject = c.id::text AND e.kind = 'comment.version'
       LEFT JOIN ledger_leaf l ON l.entry_id = e.id
      WHERE c.external_id = ANY($1)
      GROUP BY c.external_id`,
    [ids],
  )
  t.equal(rows.length, ids.length, `every acknowledged comment is recorded (${ids.length} comments from ${acked.size} deliveries)`)
  t.ok(rows.every((r) => r.versions === 1), 'each exactly once in the ledger')
  t.ok(rows.every((r) => r.sealed === 1), 'each sealed')
  const entries = await count('SELECT count(*)::int AS n FROM ledger_entry')
  t.equal(await count('SELECT count(*)::int AS n FROM comment'), ids.length, 'no comment beyond those delivered')
  t.equal(await count('SELECT count(*)::int AS n FROM ledger_leaf'), entries, 'every entry has exactly one leaf')
  t.equal(await count('SELECT (max(leaf_index) + 1)::int AS n FROM ledger_leaf'), entries, 'leaf indexes have no gap')
  t.equal(sealed, entries, 'the latest signed checkpoint covers them all')
  const verify = await fetch(`${service.base}/v1/ledger/verify`, { method: 'POST', headers: { authorization: `Bearer ${auditor}` } })
  t.match(await verify.json(), { ok: true }, 'the ledger verifies')
  t.comment(
    `kill -9 figures: ${next} deliveries sent (${2 * next} comments); ${ackedBeforeKill} acknowledged before the kill, ` +
      `${retried.length} unanswered and retried after the restart (${committedUnanswered} of them had committed without an answer); ${entries} ledger entries, all sealed, none twice`,
  )
  await service.kill('SIGTERM')
})
