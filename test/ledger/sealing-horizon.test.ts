import pg from 'pg'
import t from 'tap'
import { sealingHorizon, widenXid } from '../../src/ledger/sealer.js'
import { createTestDatabase } from '../helpers/db.js'

t.test('widenXid maps a 32-bit xid to the xid8 nearest the reference', async (t) => {
  const epoch = 2n ** 32n
  t.equal(widenXid(100n, 105n), 100n, 'older than the reference')
  t.equal(widenXid(110n, 105n), 110n, 'newer than the reference (a transaction newer than xmax)')
  t.equal(widenXid(epoch - 3n, epoch * 5n + 2n), epoch * 5n - 3n, 'older, across an epoch boundary')
  t.equal(widenXid(4n, epoch * 5n - 2n), epoch * 5n + 4n, 'newer, across an epoch boundary')
  t.equal(widenXid(7n, 7n), 7n)
})

// The property sealing rests on: every entry below the horizon is already visible, so sealing past
// it can never skip a transaction that commits later. Checked against real concurrent writers.
t.test('the horizon never passes a transaction that is still running', async (t) => {
  const database = await createTestDatabase()
  t.teardown(database.drop)
  const connect = async () => {
    const client = new pg.Client({ connectionString: database.url })
    await client.connect()
    return client
  }
  const setup = await connect()
  await setup.query('CREATE TABLE probe (id serial, tx xid8 NOT NULL DEFAULT pg_current_xact_id())')
  await setup.end()

  let stop = false
  const writers = Array.from({ length: 8 }, async () => {
    const c = await connect()
    while (!stop) {
      await c.query('BEGIN')
      await c.query('INSERT INTO probe DEFAULT VALUES')
      if (Math.random() < 0.3) await new Promise((resolve) => setTimeout(resolve, Math.random() * 5))
      await c.query('COMMIT')
    }
    await c.end()
  })
  const sealer = await connect()
  t.teardown(() => sealer.end())
  const checks: Array<{ horizon: string; visible: number }> = []
  const started = Date.now()
  while (Date.now() - started < 2000 && checks.length < 1000) {
    const horizon = await sealingHorizon(sealer)
    const { rows } = await sealer.query<{ n: number }>('SELECT count(*)::int AS n FROM probe WHERE tx < $1::xid8', [horizon])
    checks.push({ horizon, visible: rows[0]!.n })
  }
  stop = true
  await Promise.all(writers)
  let violations = 0
  for (const check of checks) {
    const { rows } = await sealer.query<{ n: number }>('SELECT count(*)::int AS n FROM probe WHERE tx < $1::xid8', [check.horizon])
    if (rows[0]!.n !== check.visible) violations++
  }
  t.ok(checks.length > 10, `${checks.length} horizons checked under concurrent writes`)
  t.equal(violations, 0, 'no entry below a horizon appeared after it was computed')
})
