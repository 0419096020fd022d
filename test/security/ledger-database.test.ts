// Issue 23, items 3 and 4: what the database refuses to the service's own role, however
// compromised the service is. Every statement here runs as the runtime login role (the service's
// connection) unless it says "owner".
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import pg from 'pg'
import t, { type Test } from 'tap'
import { signCheckpoint } from '../../src/ledger/checkpoint.js'
import { entryLeafBytes, payloadCommit } from '../../src/ledger/entry.js'
import { verifyLedger } from '../../src/ledger/verify.js'
import { setDatabaseClock } from '../factories/clock.js'
import { appendCommitted, sealNow } from '../factories/ledger.js'
import { call, DAY, deliverComments } from '../factories/retention.js'
import { testApp } from '../helpers/app.js'

async function runtimeClient(t: Test, url: string) {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  t.teardown(() => client.end())
  return client
}

const forgedEntry = (kind: string, subject: string, actor: string, payload: Record<string, unknown>) => {
  const { payload: text, payloadSalt, payloadCommitment } = payloadCommit(payload)
  return [randomUUID(), kind, subject, actor, text, payloadSalt, payloadCommitment] as [string, string, string, string, string, Buffer, string]
}
const INSERT_ENTRY = 'INSERT INTO ledger_entry (id, kind, subject, actor, payload, payload_salt, payload_commitment) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id, recorded_at'

t.test('the runtime role cannot stop sealing by writing checkpoints, leaves or tree nodes', async (t) => {
  const { app, runtimeUrl, ownerPool } = await testApp(t)
  await appendCommitted(app, 3)
  const first = await sealNow(app)
  t.equal(first.treeSize, 3)
  const db = await runtimeClient(t, runtimeUrl)
  const latest = (await db.query('SELECT tree_size, issued_at, root_hash, signed_note FROM ledger_checkpoint ORDER BY tree_size DESC LIMIT 1')).rows[0]

  // The finding: 50 forged checkpoint rows above the current size made the sealer fail forever.
  await t.rejects(
    db.query(`INSERT INTO ledger_checkpoint (tree_size, root_hash, issued_at, key_name, key_id, signed_note)
              SELECT 3 + g, '\\x00', now(), 'x', 'deadbeef', 'forged' FROM generate_series(1, 50) g`),
    /permission denied for table ledger_checkpoint/,
  )
  await t.rejects(db.query(`INSERT INTO ledger_leaf (leaf_index, entry_id, leaf_hash, sealed_at) VALUES (3, gen_random_uuid(), '\\x00', now())`), /permission denied/)
  await t.rejects(db.query(`INSERT INTO ledger_tree_node (level, index, hash) VALUES (5, 0, '\\x00')`), /permission denied/)
  await t.rejects(db.query(`INSERT INTO ledger_signing_key (key_id, key_name, public_key) VALUES ('deadbeef', 'x', 'y')`), /permission denied/)
  await t.rejects(db.query(`UPDATE ledger_seal_state SET tree_size = 100`), /permission denied/)

  // Through the checkpoint function: only the tree the database holds, at its time, by a real key line.
  const now = (await db.query<{ now: Date }>('SELECT ledger_now() AS now')).rows[0]!.now
  const add = (size: number, at: Date, note: string) =>
    db.query('SELECT ledger_add_checkpoint($1, $2, $3, $4, $5)', [size, at, app.ledger.signingKey.name, app.ledger.signingKey.publicKeyPem, note])
  await t.rejects(add(53, now, latest.signed_note), /must be of the sealed tree \(size 3\)/, 'a checkpoint above the sealed size is refused')
  await t.rejects(add(3, latest.issued_at, latest.signed_note), /must be later than the latest one/, 'a second checkpoint of one size at the same time is refused')
  await t.rejects(add(3, now, latest.signed_note), /not the checkpoint of the sealed tree|must be later than the latest one/, 'a same-size checkpoint must be a note of its own time')
  // A second signature line (an endorsement) only on a new key's first checkpoint, by the previous key.
  const later = new Date(Math.max(now.getTime(), latest.issued_at.getTime() + 1))
  await setDatabaseClock(ownerPool(), later)
  const stranger = { name: app.ledger.signingKey.name, privateKey: generateKeyPairSync('ed25519').privateKey }
  const endorsed = signCheckpoint({ origin: app.ledger.signingKey.name, treeSize: 3, rootHash: latest.root_hash, time: later }, [app.ledger.signingKey, stranger])
  await t.rejects(add(3, later, endorsed), /only the first checkpoint under a new key carries a second signature/, 'no extra signature line on a key that signed before')
  await setDatabaseClock(ownerPool(), null)
  await appendCommitted(app, 1)
  await db.query('SELECT * FROM ledger_seal(1)')
  await t.rejects(add(4, now, latest.signed_note), /not the checkpoint of the sealed tree/, 'a note of another tree is refused')
  await t.rejects(add(4, new Date('2019-06-01T00:00:00Z'), latest.signed_note), /issued at the database's time/, 'a backdated checkpoint is refused')

  // The genuine sealer carries on, and everything verifies.
  await appendCommitted(app, 2)
  const after = await sealNow(app)
  t.equal(after.treeSize, 6, 'sealing continues')
  t.ok(after.checkpoint, 'and signs a checkpoint of the grown tree')
  t.match(await verifyLedger(app.db.pool), { ok: true, treeSize: 6 })
  const res = await app.inject({ method: 'GET', url: '/v1/ledger/checkpoints/latest', headers: { authorization: `Bearer ${app.jwt.sign({ sub: 'a', roles: ['auditor'] })}` } })
  t.equal(res.statusCode, 200)
  t.match(res.json(), { treeSize: 6 }, 'the latest checkpoint is the genuine one')
})

t.test('the database dates every entry: no backdating, no choosing the sealing order, never before what is sealed', async (t) => {
  const { app, runtimeUrl, ownerPool } = await testApp(t)
  const db = await runtimeClient(t, runtimeUrl)
  const [id, kind, subject, actor, payload, salt, commitment] = forgedEntry('comment.version', 'c-1', 'platform:facebook', { text: 'never posted' })
  // The finding: a comment.version attributed to Facebook, recorded in 2019, was sealed and verified OK.
  await t.rejects(
    db.query('INSERT INTO ledger_entry (id, kind, subject, actor, recorded_at, payload, payload_salt, payload_commitment) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [id, kind, subject, actor, '2019-03-01T00:00:00Z', payload, salt, commitment]),
    /permission denied for table ledger_entry/,
  )
  await t.rejects(
    db.query('INSERT INTO ledger_entry (id, kind, subject, actor, tx_id, payload, payload_salt, payload_commitment) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [id, kind, subject, actor, '3', payload, salt, commitment]),
    /permission denied for table ledger_entry/,
    'nor its transaction id, which orders sealing',
  )
  await t.rejects(db.query(INSERT_ENTRY, [id, kind, subject, actor, payload, salt, 'not a digest']), /ledger_entry_format_check/, 'a commitment has its shape')
  await t.rejects(db.query(INSERT_ENTRY, [id, kind, subject, actor, payload, null, commitment]), /ledger_entry_format_check/, 'a format 2 payload has its salt')
  await t.rejects(
    db.query('INSERT INTO ledger_entry (id, kind, subject, actor, payload, payload_sha256) VALUES ($1, $2, $3, $4, $5, $6)', [id, kind, subject, actor, payload, 'a'.repeat(64)]),
    /permission denied for table ledger_entry/,
    'nor an unsalted hash of the content (format 1)',
  )

  // The owner pins the database's clock: an insert gets that time, whatever the service's clock says.
  const pinned = new Date('2026-11-30T12:00:00.000Z')
  await setDatabaseClock(ownerPool(), pinned)
  const stamped = await db.query<{ recorded_at: Date }>(INSERT_ENTRY, [id, kind, subject, actor, payload, salt, commitment])
  t.equal(stamped.rows[0]!.recorded_at.toISOString(), pinned.toISOString(), 'recorded_at is the database\'s now')
  await sealNow(app)

  // A clock stepped back (or pinned earlier) cannot date a new entry before the sealed ones.
  await setDatabaseClock(ownerPool(), new Date('2020-01-01T00:00:00Z'))
  const later = await db.query<{ recorded_at: Date }>(INSERT_ENTRY, forgedEntry('comment.version', 'c-2', 'platform:facebook', { text: 'x' }))
  t.equal(later.rows[0]!.recorded_at.toISOString(), pinned.toISOString(), 'never earlier than the latest sealed entry')
  // Sealing goes on while the clock is behind the latest checkpoint, and checkpoint times never go back.
  const resealed = await sealNow(app)
  t.ok(resealed.checkpoint, 'a checkpoint is signed while the clock is behind')
  const times = (await db.query<{ issued_at: Date }>('SELECT issued_at FROM ledger_checkpoint ORDER BY tree_size')).rows.map((r) => r.issued_at.toISOString())
  t.same(times, [pinned.toISOString(), pinned.toISOString()], 'the second checkpoint carries the first one\'s time, not 2020')
  await setDatabaseClock(ownerPool(), null)
})

t.test('the database computes each leaf exactly as the verifier does, hostile strings included', async (t) => {
  const { ownerPool } = await testApp(t)
  const hostile = ['plain', 'quote " and backslash \\', 'controls \u0001\u0008\u000c\n\r\t\u001f', 'del \u007f', 'line sep \u2028 \u2029', 'emoji 🚲 café', '<script>&amp;</script>', '/slash/', 'e\u0301 combining', '\u202e override']
  for (const [i, text] of hostile.entries()) {
    const entry = { id: randomUUID(), kind: 'comment.version', subject: `s-${text}`, actor: `user:${text}`, recordedAt: new Date(Date.UTC(2026, 0, 1 + i, 1, 2, 3, i)), payloadSha256: 'a'.repeat(64) }
    const { rows } = await ownerPool().query<{ bytes: Buffer }>('SELECT ledger_leaf_bytes($1, $2, $3, $4, $5, $6) AS bytes', [entry.id, entry.kind, entry.subject, entry.actor, entry.recordedAt, entry.payloadSha256])
    // The message in ASCII: a raw U+2028 would split the TAP line that reports it.
    const label = text.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    t.equal(rows[0]!.bytes.toString('utf8'), entryLeafBytes(entry).toString('utf8'), label)
    // Format 2: the envelope carries payloadCommitment and v 2; ledger_seal picks the encoding by format.
    const v2 = { ...entry, format: 2, payloadSha256: null, payloadCommitment: 'b'.repeat(64) }
    const { rows: rows2 } = await ownerPool().query<{ bytes: Buffer }>('SELECT ledger_leaf_bytes(2::smallint, $1, $2, $3, $4, $5, $6) AS bytes', [v2.id, v2.kind, v2.subject, v2.actor, v2.recordedAt, v2.payloadCommitment])
    t.equal(rows2[0]!.bytes.toString('utf8'), entryLeafBytes(v2).toString('utf8'), `format 2: ${label}`)
    t.match(rows2[0]!.bytes.toString('utf8'), /"payloadCommitment":"b{64}","recordedAt":.*,"v":2\}$/s)
    const { rows: rows1 } = await ownerPool().query<{ bytes: Buffer }>('SELECT ledger_leaf_bytes(1::smallint, $1, $2, $3, $4, $5, $6) AS bytes', [entry.id, entry.kind, entry.subject, entry.actor, entry.recordedAt, entry.payloadSha256])
    t.equal(rows1[0]!.bytes.toString('utf8'), entryLeafBytes(entry).toString('utf8'), `format 1 by format: ${label}`)
  }
})

t.test('a compromised service cannot destroy a record by forging a disposal in one transaction', async (t) => {
  const { app, runtimeUrl, token, ownerPool } = await testApp(t)
  const [commentId] = await deliverComments(app, [{ n: 1, text: 'Please fix the Court Street lights', at: new Date(Date.now() - 400 * DAY) }])
  const db = await runtimeClient(t, runtimeUrl)

  // The finding, replayed as the service's own role: listing, approval and disposal entries
  // (dated 2020 then; the database dates them now), the rows, and dispose_records.
  async function forge(options: { approver: string; schedule?: number }) {
    await db.query('BEGIN')
    try {
      if (options.schedule) {
        await db.query(INSERT_ENTRY, forgedEntry('retention.schedule_set', 'record-kind:comment', 'user:mallory', { recordKind: 'comment', retentionDays: options.schedule }))
      }
      const disposalId = randomUUID()
      const listed = await db.query(INSERT_ENTRY, forgedEntry('disposal.listed', disposalId, 'user:mallory', { disposalId, noticeDays: 0 }))
      const approved = await db.query(INSERT_ENTRY, forgedEntry('disposal.approved', disposalId, options.approver, { disposalId }))
      const ledgerEntries = (await db.query('SELECT id::text, payload_commitment AS "payloadCommitment" FROM ledger_entry WHERE subject = $1 AND payload IS NOT NULL ORDER BY id', [commentId])).rows
      const entry = await db.query(INSERT_ENTRY, forgedEntry('disposal', disposalId, 'user:mallory', { disposed: [commentId], ledgerEntries, deliveries: [] }))
      await db.query(
        `INSERT INTO disposal (id, status, notice_days, created_by, created_at, listed_entry_id, approved_by, approved_at, approval_entry_id, notice_ends_at)
         VALUES ($1, 'approved', 0, 'user:mallory', '2020-01-01', $2, $3, '2020-01-02', $4, '2020-01-02')`,
        [disposalId, listed.rows[0].id, options.approver, approved.rows[0].id],
      )
      await db.query(
        `INSERT INTO disposal_record (disposal_id, comment_id, record_kind, retention_days, schedule_reference, last_activity_at, retain_until)
         SELECT $1, c.id, 'comment', 1, 'forged', c.last_platform_at, c.last_platform_at + interval '1 day' FROM comment c WHERE c.id = $2`,
        [disposalId, commentId],
      )
      await db.query('SELECT dispose_records($1, $2)', [disposalId, entry.rows[0].id])
    } finally {
      await db.query('ROLLBACK')
    }
  }
  await t.rejects(forge({ approver: 'user:mallory', schedule: 1 }), /listed and approved by the same person/)
  await t.rejects(
    forge({ approver: 'user:trent', schedule: 1 }),
    /the notice period of disposal .* ends at/,
    'a one-day schedule and a 0-day notice forged now: the database\'s 30-day floor runs from the approval it dated now',
  )
  // Even with the owner's floor at 0, the record's own times and the ledger's schedule decide.
  await ownerPool().query('UPDATE retention_settings SET min_notice_days = 0')
  await t.rejects(forge({ approver: 'user:trent' }), /not past its retention period by the ledger/, 'no schedule recorded in the ledger for the kind')
  await t.rejects(
    forge({ approver: 'user:trent', schedule: 1 }),
    /not past its retention period by the ledger/,
    'a comment posted 400 days ago by its own account but recorded today is not a day old for the database',
  )

  const record = await call(app, token('records_clerk'), 'GET', `/v1/records/${commentId}`)
  t.equal(record.statusCode, 200)
  t.match(record.body, /Court Street lights/, 'the content is still there')
})
