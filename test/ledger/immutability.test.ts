import pg from 'pg'
import t from 'tap'
import { testApp } from '../helpers/app.js'
import { appendCommitted, sealNow } from '../factories/ledger.js'

const LEDGER_TABLES = ['ledger_entry', 'ledger_leaf', 'ledger_tree_node', 'ledger_checkpoint', 'ledger_signing_key']

async function snapshot(client: pg.Client) {
  const out: Record<string, unknown[]> = {}
  for (const table of LEDGER_TABLES) out[table] = (await client.query(`SELECT * FROM ${table} ORDER BY 1, 2`)).rows
  return out
}

t.test('UPDATE, DELETE and TRUNCATE are rejected on every ledger table and change nothing', async (t) => {
  const { app, databaseUrl } = await testApp(t)
  await appendCommitted(app, 3)
  await sealNow(app)
  // As the owner, who has every privilege: only the triggers stand in the way.
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  t.teardown(() => client.end())
  const before = await snapshot(client)
  for (const table of LEDGER_TABLES) t.ok(before[table]!.length > 0, `${table} has rows to protect`)

  for (const table of LEDGER_TABLES) {
    const column = (await client.query(`SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position LIMIT 1`, [table])).rows[0].column_name
    for (const [what, sql] of [
      ['UPDATE', `UPDATE ${table} SET ${column} = ${column}`],
      ['DELETE', `DELETE FROM ${table}`],
      ['TRUNCATE', `TRUNCATE ${table} CASCADE`],
    ] as const) {
      // Even the superuser that owns the schema is refused: the triggers are the guarantee.
      const error = await client.query(sql).then(
        () => null,
        (e: Error) => e,
      )
      t.match(error?.message, new RegExp(`table "${table}" is append-only: ${what} is not allowed`), `${what} on ${table}`)
    }
  }
  t.same(await snapshot(client), before, 'every row is unchanged')
})

t.test('the runtime role may insert and read ledger rows but has no UPDATE or DELETE privilege', async (t) => {
  const { app } = await testApp(t)
  await appendCommitted(app, 1)
  // The service's own connection: the runtime login role.
  const client = new pg.Client({ connectionString: app.config.databaseUrl })
  await client.connect()
  t.teardown(() => client.end())
  t.equal((await client.query('SELECT current_user AS u')).rows[0].u, 'townsquare_test_app')
  t.equal((await client.query('SELECT count(*)::int AS n FROM ledger_entry')).rows[0].n, 1, 'SELECT is granted')
  await client.query(
    `INSERT INTO ledger_entry (id, kind, subject, actor, payload, payload_salt, payload_commitment)
     VALUES (gen_random_uuid(), 'comment.version', 's', 'system', '{}', sha256('salt'), encode(sha256('{}'), 'hex'))`,
  )
  t.pass('INSERT is granted')
  for (const sql of [
    'UPDATE ledger_entry SET actor = actor',
    'DELETE FROM ledger_entry',
    'TRUNCATE ledger_leaf',
    // The database dates every fact and orders it for sealing; the service cannot.
    `INSERT INTO ledger_entry (id, kind, subject, actor, recorded_at, payload, payload_sha256) VALUES (gen_random_uuid(), 'comment.version', 's', 'system', '2019-01-01', '{}', '44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a')`,
    `INSERT INTO ledger_entry (id, kind, subject, actor, tx_id, payload, payload_sha256) VALUES (gen_random_uuid(), 'comment.version', 's', 'system', '1', '{}', '44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a')`,
  ]) {
    await t.rejects(client.query(sql), /permission denied/, sql)
  }
})
