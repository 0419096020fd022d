import t from 'tap'
import { createDatabase } from '../../src/db/client.js'
import { inPgTransaction } from '../../src/db/sql.js'
import { createTestDatabase, withServer } from '../helpers/db.js'

t.test('inPgTransaction: committed on return, rolled back on throw, connection lost mid-transaction', async (t) => {
  const database = await createTestDatabase()
  const db = createDatabase(database.url, { poolSize: 2 })
  t.teardown(async () => {
    await db.close()
    await database.drop()
  })
  await db.pool.query('CREATE TABLE probe (n int)')
  const count = async () => Number((await db.pool.query('SELECT count(*) AS n FROM probe')).rows[0].n)

  t.equal(await inPgTransaction(db.pool, async (sql) => (await sql.query<{ n: number }>('INSERT INTO probe VALUES ($1) RETURNING n', [1]))[0]!.n), 1)
  t.equal(await count(), 1, 'committed')

  await t.rejects(
    inPgTransaction(db.pool, async (sql) => {
      await sql.query('INSERT INTO probe VALUES (2)')
      throw new Error('stop')
    }),
    /stop/,
  )
  t.equal(await count(), 1, 'rolled back')

  // The server ends the backend in the middle of the transaction (as a restart would): the caller
  // gets the error, the process does not crash on an unhandled 'error' event, nothing is kept, and
  // the pool goes on with a new connection.
  await t.rejects(
    inPgTransaction(db.pool, async (sql) => {
      await sql.query('INSERT INTO probe VALUES (3)')
      const [row] = await sql.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
      await withServer((server) => server.query('SELECT pg_terminate_backend($1)', [row!.pid]))
      await sql.query('SELECT 1')
    }),
  )
  t.equal(await count(), 1, 'nothing of the interrupted transaction is kept')
  t.equal(await inPgTransaction(db.pool, async (sql) => (await sql.query<{ one: number }>('SELECT 1 AS one'))[0]!.one), 1, 'the pool still serves')

  // A statement that runs past the timeout is cancelled and the transaction rolled back.
  await t.rejects(
    inPgTransaction(
      db.pool,
      async (sql) => {
        await sql.query('INSERT INTO probe VALUES (4)')
        await sql.query('SELECT pg_sleep(5)')
      },
      { statementTimeoutMs: 50 },
    ),
    { code: '57014' },
  )
  t.equal(await count(), 1, 'nothing of the cancelled transaction is kept')
})
