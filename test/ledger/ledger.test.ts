import { createPublicKey } from 'node:crypto'
import pg from 'pg'
import t from 'tap'
import { inTransaction } from '../../src/db/tx.js'
import { appendEntries } from '../../src/ledger/append.js'
import { parseVerifierKey, verifySignedCheckpoint } from '../../src/ledger/checkpoint.js'
import { entryLeafBytes } from '../../src/ledger/entry.js'
import { hashLeaf, verifyConsistency, verifyInclusion } from '../../src/ledger/merkle.js'
import { testApp } from '../helpers/app.js'
import { appendCommitted, entryInput, sealNow } from '../factories/ledger.js'

const fromHex = (h: string) => Buffer.from(h, 'hex')

t.test('appended entries are sealed, checkpointed, and proven', async (t) => {
  const { app, token } = await testApp(t)
  const auth = { authorization: `Bearer ${token('auditor')}` }

  const none = await app.inject({ url: '/v1/ledger/checkpoints/latest', headers: auth })
  t.equal(none.statusCode, 404, 'no checkpoint before anything is sealed')
  t.match(none.json(), { type: '/problems/no-checkpoint' })

  const first = await appendCommitted(app, 5)
  const sealed = await sealNow(app)
  t.match(sealed, { sealed: 5, treeSize: 5 })
  t.equal(sealed.checkpoint?.treeSize, 5)
  const again = await sealNow(app)
  t.match(again, { sealed: 0, treeSize: 5, checkpoint: null }, 'no new checkpoint without new entries')

  const second = await appendCommitted(app, 8)
  await sealNow(app)

  const key = (await app.inject('/v1/ledger/public-key')).json()
  t.equal(key.algorithm, 'Ed25519')
  const verifier = parseVerifierKey(key.verifierKey)
  t.equal(verifier.name, app.config.ledger.origin)
  t.equal(verifier.keyId.toString('hex'), key.keyId)
  t.same(key.previousKeys, [], 'previousKeys lists the keys before this one, never the current key')

  const latest = (await app.inject({ url: '/v1/ledger/checkpoints/latest', headers: auth })).json()
  t.equal(latest.treeSize, 13)
  const checked = verifySignedCheckpoint(latest.signedNote, { name: key.keyName, publicKey: createPublicKey(key.publicKeyPem) })
  t.ok(checked.ok, 'the checkpoint signature verifies with the published key')
  t.equal(checked.ok && checked.checkpoint.rootHash.toString('hex'), latest.rootHash)

  for (const appended of [...first, ...second]) {
    const res = await app.inject({ url: `/v1/ledger/entries/${appended.id}`, headers: auth })
    t.equal(res.statusCode, 200)
    const body = res.json()
    const leafHash = hashLeaf(entryLeafBytes({ ...body.entry, recordedAt: new Date(body.entry.recordedAt) }))
    t.equal(leafHash.toString('hex'), body.leafHash, 'the leaf hash recomputes from the entry as served')
    t.ok(
      verifyInclusion(leafHash, body.leafIndex, body.inclusion.checkpoint.treeSize, body.inclusion.proof.map(fromHex), fromHex(body.inclusion.checkpoint.rootHash)),
      `inclusion proof of leaf ${body.leafIndex} verifies`,
    )
  }

  const old = await app.inject({ url: `/v1/ledger/entries/${first[2]!.id}?treeSize=5`, headers: auth })
  t.equal(old.json().inclusion.checkpoint.treeSize, 5, 'proof to a requested checkpoint')
  t.ok(verifyInclusion(fromHex(old.json().leafHash), 2, 5, old.json().inclusion.proof.map(fromHex), fromHex(old.json().inclusion.checkpoint.rootHash)))
  const notCovered = await app.inject({ url: `/v1/ledger/entries/${second[0]!.id}?treeSize=5`, headers: auth })
  t.equal(notCovered.statusCode, 409, 'an entry sealed after the requested checkpoint')

  const consistency = await app.inject({ url: '/v1/ledger/consistency?from=5&to=13', headers: auth })
  t.equal(consistency.statusCode, 200)
  const c = consistency.json()
  t.ok(verifyConsistency(5, 13, c.proof.map(fromHex), fromHex(c.from.rootHash), fromHex(c.to.rootHash)), 'consistency proof verifies')
  t.equal((await app.inject({ url: '/v1/ledger/consistency?from=13&to=5', headers: auth })).statusCode, 400)
  t.equal((await app.inject({ url: '/v1/ledger/consistency?from=4&to=13', headers: auth })).statusCode, 404, 'no checkpoint at 4')
  t.equal((await app.inject({ url: '/v1/ledger/checkpoints/5', headers: auth })).json().treeSize, 5)
  t.equal((await app.inject({ url: '/v1/ledger/checkpoints/6', headers: auth })).statusCode, 404)
  t.equal((await app.inject({ url: '/v1/ledger/entries/00000000-0000-4000-8000-000000000000', headers: auth })).statusCode, 404)
  t.equal((await app.inject({ url: '/v1/ledger/entries/not-a-uuid', headers: auth })).statusCode, 400)

  const [pending] = await appendCommitted(app, 1)
  const unsealed = (await app.inject({ url: `/v1/ledger/entries/${pending!.id}`, headers: auth })).json()
  t.match(unsealed, { leafIndex: null, inclusion: null, sealedAt: null }, 'an entry not sealed yet has no proof')

  const verification = await app.inject({ method: 'POST', url: '/v1/ledger/verify', headers: auth })
  t.same(verification.json(), { ok: true, treeSize: 13, checkpointsChecked: 2, unsealedEntries: 1, disposedEntries: 0, divergence: null })
})

t.test('sealing order is commit-safe: a late commit is sealed after, never skipped', async (t) => {
  const { app } = await testApp(t)
  const client = new pg.Client({ connectionString: app.config.databaseUrl })
  await client.connect()
  t.teardown(() => client.end())

  // A transaction that appends and stays open while others commit.
  await client.query('BEGIN')
  await client.query(
    `INSERT INTO ledger_entry (id, kind, subject, actor, payload, payload_salt, payload_commitment)
     VALUES ('11111111-1111-4111-8111-111111111111', 'comment.version', 'slow', 'system', '{}', sha256('salt'), encode(sha256('{}'), 'hex'))`,
  )
  const quick = await appendCommitted(app, 3)
  const blocked = await sealNow(app)
  t.equal(blocked.sealed, 0, 'nothing behind an open transaction is sealed while it could still commit')

  await client.query('COMMIT')
  await sealNow(app)
  const { rows } = await app.db.pool.query<{ entry_id: string }>('SELECT entry_id FROM ledger_leaf ORDER BY leaf_index')
  t.same(
    rows.map((r) => r.entry_id),
    ['11111111-1111-4111-8111-111111111111', ...quick.map((e) => e.id)],
    'the late commit is sealed first (its transaction began first) and nothing is skipped',
  )

  // A rolled-back append leaves no trace and does not stall sealing.
  await t.rejects(
    inTransaction(app.db.prisma, async (tx) => {
      await appendEntries(tx, [entryInput()])
      throw new Error('caller failed after appending')
    }),
  )
  const after = await appendCommitted(app, 2)
  const result = await sealNow(app)
  t.equal(result.sealed, 2)
  t.equal(result.treeSize, 6)
  const sealedIds = (await app.db.pool.query<{ entry_id: string }>('SELECT entry_id FROM ledger_leaf WHERE leaf_index >= 4 ORDER BY leaf_index')).rows
  t.same(sealedIds.map((r) => r.entry_id), after.map((e) => e.id))
})

t.test('concurrent appends while the sealer runs: every committed entry is sealed exactly once', async (t) => {
  const { app } = await testApp(t, { env: { DATABASE_POOL_SIZE: '20' } })
  let sealing = true
  const sealerLoop = (async () => {
    while (sealing) await sealNow(app)
  })()
  const batches = await Promise.all(
    Array.from({ length: 200 }, (_, i) =>
      inTransaction(app.db.prisma, (tx) => appendEntries(tx, [entryInput(), entryInput({ kind: i % 2 ? 'notice.delivery' : 'comment.version' })])),
    ),
  )
  sealing = false
  await sealerLoop
  await sealNow(app)
  const ids = batches.flat().map((e) => e.id)
  const { rows } = await app.db.pool.query<{ n: string; distinct_entries: string; max_index: string }>(
    'SELECT count(*)::text AS n, count(DISTINCT entry_id)::text AS distinct_entries, max(leaf_index)::text AS max_index FROM ledger_leaf',
  )
  t.same(rows[0], { n: String(ids.length), distinct_entries: String(ids.length), max_index: String(ids.length - 1) })
  const report = await app.inject({ method: 'POST', url: '/v1/ledger/verify', headers: { authorization: `Bearer ${app.jwt.sign({ sub: 'a', roles: ['auditor'] })}` } })
  t.match(report.json(), { ok: true, treeSize: 400, unsealedEntries: 0 })
})

t.test('only one sealer is active per database; another takes over when it stops', async (t) => {
  const { app } = await testApp(t)
  const { buildApp } = await import('../../src/app.js')
  const second = await buildApp(app.config)
  await second.ready()
  t.teardown(() => second.close())
  await appendCommitted(app, 2)
  const one = await app.ledger.sealer!.sealNow()
  const other = await second.ledger.sealer!.sealNow()
  t.ok(one, 'the first instance seals')
  t.equal(other, null, 'the second instance is standing by')
  t.ok(app.ledger.sealer!.isActive())
  t.notOk(second.ledger.sealer!.isActive())
  await app.ledger.sealer!.stop()
  await appendCommitted(app, 1)
  const takeover = await second.ledger.sealer!.sealNow()
  t.match(takeover, { sealed: 1, treeSize: 3 }, 'the standby takes over and continues the same tree')
})

t.test('verification while appends and sealing go on never reports a false divergence', async (t) => {
  const { app } = await testApp(t, { env: { DATABASE_POOL_SIZE: '12' } })
  await appendCommitted(app, 5)
  await sealNow(app)
  let running = true
  // Paced and capped: an appender running flat out makes each verification longer than the last,
  // and on a loaded 2-core machine 25 of them outlasted the file's timeout.
  const appender = (async () => {
    for (let n = 0; running && n < 500; n++) {
      await appendCommitted(app, 2)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  })()
  const sealer = (async () => {
    while (running) await sealNow(app)
  })()
  const { verifyLedger } = await import('../../src/ledger/verify.js')
  const reports = []
  for (let i = 0; i < 25; i++) reports.push(await verifyLedger(app.db.pool, { batchSize: 3 }))
  running = false
  await Promise.all([appender, sealer])
  const failed = reports.filter((r) => !r.ok)
  t.same(failed, [], 'every report is ok')
  t.ok(reports.at(-1)!.treeSize > reports[0]!.treeSize, 'the tree grew while it was being verified')
})
