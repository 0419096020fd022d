import { randomUUID } from 'node:crypto'
import pg from 'pg'
import t from 'tap'
import { payloadCommit } from '../../src/ledger/entry.js'
import { createTestDatabase } from '../helpers/db.js'

// The property sealing rests on: ledger_seal never seals past a transaction that is still running,
// so an entry committed late is sealed later, never skipped. Checked against real concurrent
// writers: once they have all committed, one more pass seals every entry, each exactly once.
t.test('sealing under concurrent appends skips no entry', async (t) => {
  const database = await createTestDatabase()
  t.teardown(database.drop)
  const connect = async () => {
    const client = new pg.Client({ connectionString: database.url })
    await client.connect()
    return client
  }
  let stop = false
  let appended = 0
  const writers = Array.from({ length: 8 }, async (_, w) => {
    const c = await connect()
    while (!stop) {
      await c.query('BEGIN')
      const { payload, payloadSalt, payloadCommitment } = payloadCommit({ w, n: appended++ })
      await c.query(
        `INSERT INTO ledger_entry (id, kind, subject, actor, payload, payload_salt, payload_commitment) VALUES ($1, 'comment.version', $2, 'system', $3, $4, $5)`,
        [randomUUID(), `writer-${w}`, payload, payloadSalt, payloadCommitment],
      )
      if (Math.random() < 0.3) await new Promise((resolve) => setTimeout(resolve, Math.random() * 5))
      await c.query('COMMIT')
    }
    await c.end()
  })
  const sealer = await connect()
  t.teardown(() => sealer.end())
  let passes = 0
  const started = Date.now()
  while (Date.now() - started < 2000 && passes < 500) {
    await sealer.query('SELECT * FROM ledger_seal(50)')
    passes++
  }
  stop = true
  await Promise.all(writers)
  const { rows: last } = await sealer.query<{ sealed: number }>('SELECT sealed FROM ledger_seal(100000)')
  const { rows } = await sealer.query<{ entries: number; leaves: number; distinct_entries: number }>(
    'SELECT (SELECT count(*)::int FROM ledger_entry) AS entries, count(*)::int AS leaves, count(DISTINCT entry_id)::int AS distinct_entries FROM ledger_leaf',
  )
  t.ok(passes > 10, `${passes} sealing passes ran under concurrent appends`)
  t.ok(rows[0]!.entries > 50, `${rows[0]!.entries} entries appended`)
  t.ok(last[0]!.sealed < rows[0]!.entries, 'the passes under load sealed most entries')
  t.equal(rows[0]!.leaves, rows[0]!.entries, 'every entry is sealed once the writers are done')
  t.equal(rows[0]!.distinct_entries, rows[0]!.leaves, 'no entry is sealed twice')
})
