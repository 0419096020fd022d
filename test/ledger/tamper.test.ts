import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import t, { type Test } from 'tap'
import { payloadCommitment } from '../../src/ledger/commitment.js'
import { verifyLedger } from '../../src/ledger/verify.js'
import { testApp } from '../helpers/app.js'
import { appendCommitted, sealNow } from '../factories/ledger.js'

/** A sealed ledger of 20 entries over two checkpoints, and a superuser connection with the immutability triggers off. */
async function tamperable(t: Test) {
  const { app, databaseUrl } = await testApp(t)
  const entries = [...(await appendCommitted(app, 12))]
  await sealNow(app)
  entries.push(...(await appendCommitted(app, 8)))
  await sealNow(app)
  t.match(await verifyLedger(app.db.pool), { ok: true, treeSize: 20, checkpointsChecked: 2 }, 'intact before tampering')
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  t.teardown(() => client.end())
  // What an attacker with superuser access could do: switch triggers (and foreign keys) off.
  await client.query(`SET session_replication_role = replica`)
  const leafOf = async (id: string) => Number((await client.query('SELECT leaf_index FROM ledger_leaf WHERE entry_id = $1', [id])).rows[0].leaf_index)
  return { app, entries, client, leafOf }
}

const verify = (app: FastifyInstance) => verifyLedger(app.db.pool, { batchSize: 7 })

t.test('one payload byte changed is detected and the entry named', async (t) => {
  const { app, entries, client, leafOf } = await tamperable(t)
  const victim = entries[5]!
  const tamper = `UPDATE ledger_entry SET payload = replace(payload, 'Washington', 'Washingtom') WHERE id = $1`
  // A format 2 commitment is salted per field and word: the database checks its shape only, and
  // the verifier recomputes it and names the entry.
  await client.query(tamper, [victim.id])
  const report = await verify(app)
  t.match(report, { ok: false, treeSize: await leafOf(victim.id), divergence: { kind: 'payload_hash', entryId: victim.id, leafIndex: await leafOf(victim.id), expected: victim.payloadCommitment } })
})

t.test('a payload rewritten with its hash recomputed still breaks the sealed leaf', async (t) => {
  const { app, entries, client, leafOf } = await tamperable(t)
  const victim = entries[14]!
  const { rows } = await client.query<{ payload: string; payload_salt: Buffer }>('SELECT payload, payload_salt FROM ledger_entry WHERE id = $1', [victim.id])
  const rewritten = rows[0]!.payload.replace('repaving', 'resurfacing')
  t.not(rewritten, rows[0]!.payload)
  await client.query('UPDATE ledger_entry SET payload = $2, payload_commitment = $3 WHERE id = $1', [victim.id, rewritten, payloadCommitment(JSON.parse(rewritten), rows[0]!.payload_salt)])
  t.match(await verify(app), { ok: false, divergence: { kind: 'leaf_hash', entryId: victim.id, leafIndex: await leafOf(victim.id) } })
})

t.test('a deleted entry is detected at its leaf', async (t) => {
  const { app, entries, client, leafOf } = await tamperable(t)
  const victim = entries[3]!
  const leaf = await leafOf(victim.id)
  await client.query('DELETE FROM ledger_entry WHERE id = $1', [victim.id])
  t.match(await verify(app), { ok: false, divergence: { kind: 'entry_missing', entryId: victim.id, leafIndex: leaf } })
})

t.test('a deleted entry with its leaf is detected as a gap', async (t) => {
  const { app, entries, client, leafOf } = await tamperable(t)
  const victim = entries[9]!
  const leaf = await leafOf(victim.id)
  await client.query('DELETE FROM ledger_leaf WHERE entry_id = $1', [victim.id])
  await client.query('DELETE FROM ledger_entry WHERE id = $1', [victim.id])
  t.match(await verify(app), { ok: false, divergence: { kind: 'leaf_missing', leafIndex: leaf } })
})

t.test('the last entries and leaves removed are detected against the checkpoint', async (t) => {
  const { app, client } = await tamperable(t)
  await client.query('DELETE FROM ledger_leaf WHERE leaf_index >= 18')
  t.match(await verify(app), { ok: false, divergence: { kind: 'checkpoint_beyond_tree', treeSize: 20 } })
})

t.test('two entries swapped in the tree are detected', async (t) => {
  const { app, entries, client, leafOf } = await tamperable(t)
  const [a, b] = [entries[2]!, entries[6]!]
  const [la, lb] = [await leafOf(a.id), await leafOf(b.id)]
  // Three steps because the unique index on entry_id is checked row by row.
  await client.query(`UPDATE ledger_leaf SET entry_id = '00000000-0000-4000-8000-000000000000' WHERE entry_id = $1`, [a.id])
  await client.query(`UPDATE ledger_leaf SET entry_id = $1 WHERE entry_id = $2`, [a.id, b.id])
  await client.query(`UPDATE ledger_leaf SET entry_id = $1 WHERE entry_id = '00000000-0000-4000-8000-000000000000'`, [b.id])
  t.match(await verify(app), { ok: false, divergence: { kind: 'leaf_hash', leafIndex: la, entryId: b.id } }, 'entries swapped')

  // Swapping the stored leaf hashes too leaves each leaf consistent; the tree above them is not.
  await client.query(
    `UPDATE ledger_leaf SET leaf_hash = CASE leaf_index WHEN $1::bigint THEN (SELECT leaf_hash FROM ledger_leaf WHERE leaf_index = $2) ELSE (SELECT leaf_hash FROM ledger_leaf WHERE leaf_index = $1) END WHERE leaf_index IN ($1, $2)`,
    [la, lb],
  )
  const report = await verify(app)
  t.match(report, { ok: false, divergence: { kind: 'tree_node' } }, 'entries and leaf hashes swapped')
  t.match(report.divergence?.detail, /stored tree node \(level \d+, index \d+\) over leaves \d+-\d+/)
})

t.test('a changed checkpoint root is detected', async (t) => {
  const { app, client } = await tamperable(t)
  await client.query('UPDATE ledger_checkpoint SET root_hash = sha256(root_hash) WHERE tree_size = 12')
  t.match(await verify(app), { ok: false, treeSize: 12, divergence: { kind: 'checkpoint_root', treeSize: 12 } })
})

t.test('a changed signed note no longer verifies', async (t) => {
  const { app, client } = await tamperable(t)
  await client.query(`UPDATE ledger_checkpoint SET signed_note = replace(signed_note, E'\\n12\\n', E'\\n13\\n') WHERE tree_size = 12`)
  const report = await verify(app)
  t.match(report, { ok: false, divergence: { kind: 'checkpoint_signature', treeSize: 12 } })
})
