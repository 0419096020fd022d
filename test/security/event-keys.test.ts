import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { PROJECT_ROOT } from '../../src/paths.js'
import { keyedVersionKey, unkeyedVersionKey } from '../../src/webhooks/event-keys.js'
import { sha256Hex } from '../../src/ledger/canonical-json.js'
import { deliverComments, metaDelivery } from '../factories/retention.js'
import { deliver } from '../factories/webhooks.js'
import { testApp } from '../helpers/app.js'

// Issue 24, items 1 and 2: a version's event key was 'v:' + SHA-256 of its text and time, and it is
// in every ledger payload, so in every export, bundle and production: a redacted or destroyed short
// text came back by hashing candidates. Keys are now HMACs under a secret that stays in the database.

const AT = new Date('2026-03-02T15:04:05Z')
const platformTime = AT.toISOString()

async function stored(app: Awaited<ReturnType<typeof testApp>>['app'], commentId: string) {
  const event = await app.db.prisma.commentEvent.findFirstOrThrow({ where: { commentId } })
  const entry = await app.db.prisma.ledgerEntry.findUniqueOrThrow({ where: { id: event.ledgerEntryId } })
  return { event, payload: JSON.parse(entry.payload!) as { eventKey: string; platformTime: string } }
}

t.test("the key a ledger payload carries cannot confirm a guessed 4-digit number", async (t) => {
  const { app, ownerPool } = await testApp(t)
  const text = (pin: number) => `My gate code is ${String(pin).padStart(4, '0')}, please fix the gate`
  const [id] = await deliverComments(app, [{ n: 1, text: text(4821), at: AT }])
  const { event, payload } = await stored(app, id!)
  t.equal(payload.eventKey, event.eventKey, 'the payload records the key the event is stored under')
  t.match(payload.eventKey, /^k:[0-9a-f]{64}$/)

  // The attack of the issue, with every form of the text and time an attacker could hash.
  const hashLike = new Set([payload.eventKey, payload.eventKey.slice(2)])
  let matches = 0
  for (let pin = 0; pin < 10_000; pin++) {
    const unkeyed = unkeyedVersionKey(text(pin), payload.platformTime)
    if (hashLike.has(unkeyed) || hashLike.has(unkeyed.slice(2)) || hashLike.has(sha256Hex(text(pin)))) matches++
  }
  t.equal(matches, 0, 'no candidate hashes to the key')

  // With the installation's secret (in the database only) the key is what the service computes.
  const secret = (await ownerPool().query<{ s: Buffer }>('SELECT event_key_secret AS s FROM installation_secret')).rows[0]!.s
  t.equal(secret.length, 32)
  t.equal(event.eventKey, keyedVersionKey(unkeyedVersionKey(text(4821), platformTime), secret))
})

t.test("the database's HMAC is RFC 4231's (the migration rewrote stored keys with it)", async (t) => {
  const { ownerPool } = await testApp(t)
  const hmac = async (keyHex: string, data: string) =>
    (await ownerPool().query<{ h: string }>(`SELECT encode(hmac_sha256(decode($1, 'hex'), convert_to($2, 'UTF8')), 'hex') AS h`, [keyHex, data])).rows[0]!.h
  // RFC 4231 test cases 2 and 6 (a key longer than the block is hashed first).
  t.equal(await hmac(Buffer.from('Jefe').toString('hex'), 'what do ya want for nothing?'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843')
  t.equal(await hmac('aa'.repeat(131), 'Test Using Larger Than Block-Size Key - Hash Key First'), '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54')
})

t.test('a change stored under the old key before the migration is still stored once after it', async (t) => {
  const { app, ownerPool } = await testApp(t)
  const comment = { n: 7, text: 'The Court Street bridge is late again', at: AT }
  const [id] = await deliverComments(app, [comment])
  const { event } = await stored(app, id!)
  const keyed = event.eventKey
  // The row as it was before migration 20261208040000, then that migration's statement.
  const owner = ownerPool()
  await owner.query('ALTER TABLE comment_event DISABLE TRIGGER comment_event_no_change')
  await owner.query('UPDATE comment_event SET event_key = $1 WHERE id = $2', [unkeyedVersionKey(comment.text, platformTime), event.id])
  await owner.query('ALTER TABLE comment_event ENABLE TRIGGER comment_event_no_change')
  const migration = readFileSync(join(PROJECT_ROOT, 'prisma/migrations/20261208040000_keyed_event_keys/migration.sql'), 'utf8')
  const rekey = migration.slice(migration.indexOf('ALTER TABLE "comment_event" DISABLE'), migration.indexOf('ENABLE TRIGGER "comment_event_no_change";') + 42)
  await owner.query(rekey)
  t.equal((await app.db.prisma.commentEvent.findUniqueOrThrow({ where: { id: event.id } })).eventKey, keyed, 'the migration computes the key ingestion computes')

  // The same change again, inside another delivery (so not caught as the same body).
  const res = await deliver(app, 'meta', metaDelivery([comment, { n: 8, text: 'Another comment', at: AT }]))
  t.equal(res.statusCode, 200)
  t.match(res.json(), { accepted: 1, duplicates: 1 })
  t.equal(await app.db.prisma.commentEvent.count({ where: { commentId: id! } }), 1, 'one version, not two')
})

t.test('the runtime role can read the secret and change neither it nor a key', async (t) => {
  const { app, ownerPool } = await testApp(t)
  const [id] = await deliverComments(app, [{ n: 3, text: 'Fix the lights on Station Street', at: AT }])
  await t.rejects(app.db.pool.query(`UPDATE installation_secret SET event_key_secret = '\\x00'::bytea`), /permission denied/)
  await t.rejects(app.db.pool.query('DELETE FROM installation_secret'), /permission denied/)
  await t.rejects(ownerPool().query(`UPDATE installation_secret SET event_key_secret = decode(repeat('00', 32), 'hex')`), /append-only/, 'not even the owner, outside a migration')
  const { event } = await stored(app, id!)
  await t.rejects(app.db.pool.query('UPDATE comment_event SET event_key = $1 WHERE id = $2', [`disposed:${event.id}`, event.id]), /permission denied/)
  await t.rejects(ownerPool().query('UPDATE comment_event SET event_key = $1 WHERE id = $2', [`disposed:${event.id}`, event.id]), /append-only/, 'a key changes only with its text, in a disposal')
})
