// Public verification (issue 24): proofs without a token, tiles, fresh checkpoints, endorsed key
// rotation. Every test runs the app as the production runtime role.
import { createPublicKey, generateKeyPairSync } from 'node:crypto'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { inTransaction } from '../../src/db/tx.js'
import { appendEntries } from '../../src/ledger/append.js'
import { verifyLedgerBundle, writeLedgerBundle } from '../../src/ledger/bundle.js'
import { parseSignedCheckpoint, parseVerifierKey, verifySignedCheckpoint } from '../../src/ledger/checkpoint.js'
import { verifyConsistency, verifyInclusion } from '../../src/ledger/merkle.js'
import { testApp } from '../helpers/app.js'
import { manualClock } from '../factories/clock.js'
import { appendCommitted, entryInput, sealNow } from '../factories/ledger.js'

const fromHex = (h: string) => Buffer.from(h, 'hex')
const pem = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()

t.test('checkpoints, proofs and keys are public and reveal no content', async (t) => {
  const { app } = await testApp(t)
  const entries = await appendCommitted(app, 5, { payload: { text: 'my phone is 217-555-0142' } })
  await sealNow(app)
  await appendCommitted(app, 3)
  await sealNow(app)

  const latest = await app.inject('/v1/ledger/checkpoints/latest')
  t.equal(latest.statusCode, 200, 'the latest checkpoint without a token')
  t.equal(latest.json().treeSize, 8)
  t.equal((await app.inject('/v1/ledger/checkpoints/5')).json().treeSize, 5, 'a checkpoint by tree size without a token')
  const list = (await app.inject('/v1/ledger/checkpoints?limit=1')).json()
  t.same(list.items.map((c: { treeSize: number }) => c.treeSize), [8], 'newest first')
  const next = (await app.inject(`/v1/ledger/checkpoints?limit=1&cursor=${list.nextCursor}`)).json()
  t.same(next.items.map((c: { treeSize: number }) => c.treeSize), [5])
  t.equal(next.nextCursor, null)
  t.equal((await app.inject('/v1/ledger/checkpoints?cursor=bm9wZQ')).statusCode, 400, 'a forged cursor is a 400')

  const c = (await app.inject('/v1/ledger/consistency?from=5&to=8')).json()
  t.ok(verifyConsistency(5, 8, c.proof.map(fromHex), fromHex(c.from.rootHash), fromHex(c.to.rootHash)), 'public consistency proof verifies')

  for (const query of [`entryId=${entries[2]!.id}`, 'leafIndex=2']) {
    const res = await app.inject(`/v1/ledger/proofs/inclusion?${query}`)
    t.equal(res.statusCode, 200, query)
    const body = res.json()
    t.same(Object.keys(body).sort(), ['checkpoint', 'leafHash', 'leafIndex', 'proof', 'treeSize'], 'only the leaf, the path and the checkpoint')
    t.notMatch(res.body, /payload|217-555|subject|actor/, 'no payload, payloadSha256 or envelope field')
    t.ok(verifyInclusion(fromHex(body.leafHash), 2, 8, body.proof.map(fromHex), fromHex(body.checkpoint.rootHash)))
  }
  const old = (await app.inject('/v1/ledger/proofs/inclusion?leafIndex=6&treeSize=5'))
  t.equal(old.statusCode, 409, 'a leaf beyond the asked checkpoint')
  for (const bad of ['leafIndex=-1', 'leafIndex=abc', 'leafIndex=1e400', 'leafIndex=99999999999999999999', '', 'leafIndex=1&entryId=' + entries[0]!.id, 'entryId=../../etc']) {
    const res = await app.inject(`/v1/ledger/proofs/inclusion?${bad}`)
    t.equal(res.statusCode, 400, `400 for ${bad}`)
    t.match(res.headers['content-type'], /^application\/problem\+json/)
  }
  t.equal((await app.inject('/v1/ledger/proofs/inclusion?leafIndex=9000')).statusCode, 404)
  t.equal((await app.inject('/v1/ledger/checkpoints/99999999999999999999')).statusCode, 400, 'a size beyond 2^53 is a 400, not a 500')

  // The staff route with the payload still needs a token.
  t.equal((await app.inject(`/v1/ledger/entries/${entries[0]!.id}`)).statusCode, 401)

  const keys = (await app.inject('/v1/ledger/keys')).json()
  t.equal(keys.keys.length, 1)
  t.match(keys.keys[0], { keyId: keys.currentKeyId, current: true, endorsedBy: null, firstCheckpoint: { treeSize: 5 }, lastUsed: latest.json().issuedAt })
  const publicKey = (await app.inject('/v1/ledger/public-key')).json()
  t.same(publicKey.previousKeys, [], 'previousKeys never lists the current key')
})

t.test('tlog-tiles: checkpoint and tiles, and hostile paths answered 400/404 problem+json', async (t) => {
  const { app } = await testApp(t)
  t.equal((await app.inject('/v1/ledger/tlog/checkpoint')).statusCode, 404, 'no checkpoint yet')
  t.equal((await app.inject('/v1/ledger/tlog/tile/0/000.p/1')).statusCode, 404, 'no tile of an empty log')
  await inTransaction(app.db.prisma, (tx) => appendEntries(tx, Array.from({ length: 260 }, () => entryInput())))
  await sealNow(app)

  const cp = await app.inject('/v1/ledger/tlog/checkpoint')
  t.equal(cp.statusCode, 200)
  t.match(cp.headers['content-type'], /^text\/plain/)
  t.equal(cp.headers['cache-control'], 'no-cache')
  const key = (await app.inject('/v1/ledger/public-key')).json()
  const verified = verifySignedCheckpoint(cp.body, parseVerifierKey(key.verifierKey))
  t.ok(verified.ok, 'the signed note verifies')

  const full = await app.inject('/v1/ledger/tlog/tile/0/000')
  t.equal(full.statusCode, 200)
  t.equal(full.rawPayload.length, 256 * 32)
  t.equal(full.headers['cache-control'], 'public, max-age=31536000, immutable', 'a full tile is immutable')
  t.equal(full.headers['content-type'], 'application/octet-stream')
  const { rows } = await app.db.pool.query<{ leaf_hash: Buffer }>('SELECT leaf_hash FROM ledger_leaf WHERE leaf_index IN (0, 255) ORDER BY leaf_index')
  t.same(full.rawPayload.subarray(0, 32), rows[0]!.leaf_hash, 'the first hash is leaf 0')
  t.same(full.rawPayload.subarray(255 * 32), rows[1]!.leaf_hash, 'the last hash is leaf 255')
  const partial = await app.inject('/v1/ledger/tlog/tile/0/001.p/4')
  t.equal(partial.statusCode, 200)
  t.equal(partial.rawPayload.length, 4 * 32)
  t.equal(partial.headers['cache-control'], 'no-cache', 'a partial tile is not cached long')
  const narrower = await app.inject('/v1/ledger/tlog/tile/0/001.p/2')
  t.same(narrower.rawPayload, partial.rawPayload.subarray(0, 64), 'an older width is a prefix')
  const level1 = await app.inject('/v1/ledger/tlog/tile/1/000.p/1')
  t.equal(level1.rawPayload.length, 32, 'level 1: the root of the first 256 leaves')

  const cases: Array<[string, number]> = [
    ['tile/0/001', 404], // not complete
    ['tile/0/001.p/5', 404], // wider than the tree
    ['tile/0/x000/000', 404], // not canonical
    ['tile/0/x999/x999/x999/x999/x999/x999/999', 404], // huge N
    ['tile/8/000', 404], // no such level in this log
    ['tile/64/000', 400], // no such level in any log (0-63)
    ['tile/entries/000', 404], // entry bundles are not served
    ['tile/0/000.p/0', 400],
    ['tile/0/000.p/256', 400],
    ['tile/0/000.p/-1', 400],
    ['tile/0/000.p/abc', 400],
    ['tile/-1/000', 400],
    ['tile/00/000', 400],
    ['tile/0/1', 400],
    ['tile/0/-01', 400],
    ['tile/0/0001', 400],
    ['tile/0/x1/000', 400],
    ['tile/0/../../../etc/passwd', 404], // normalized away from the route: not found
    ['tile/0/%2e%2e/000', 400],
    ['tile/0/000/', 400],
    ['tile/0', 400],
    ['tile/', 400],
    [`tile/0/${'x123/'.repeat(40)}000`, 400],
  ]
  for (const [path, status] of cases) {
    const res = await app.inject(`/v1/ledger/tlog/${path}`)
    t.equal(res.statusCode, status, `${path}: ${status}`)
    t.match(res.headers['content-type'], /^application\/problem\+json/, `${path}: problem+json`)
  }
})

t.test('a checkpoint at least every LEDGER_MAX_CHECKPOINT_AGE, even with nothing appended', async (t) => {
  const clock = manualClock(new Date('2026-12-08T10:00:00.000Z'))
  const { app, ownerPool, token } = await testApp(t, { clock, env: { LEDGER_MAX_CHECKPOINT_AGE: 'PT1H' } })
  await appendCommitted(app, 3)
  t.match(await sealNow(app), { checkpoint: { treeSize: 3, reason: 'grown' } })

  await clock.set(new Date('2026-12-08T10:59:59.999Z'))
  t.equal((await sealNow(app)).checkpoint, null, 'not before the age is reached')
  await clock.set(new Date('2026-12-08T11:00:00.000Z'))
  const fresh = await sealNow(app)
  t.match(fresh, { sealed: 0, checkpoint: { treeSize: 3, reason: 'fresh' } }, 'the same tree signed again an hour later')
  t.equal((await sealNow(app)).checkpoint, null, 'once')

  const latest = (await app.inject('/v1/ledger/checkpoints/latest')).json()
  t.equal(latest.treeSize, 3)
  t.equal(latest.issuedAt, '2026-12-08T11:00:00.000Z', 'the latest checkpoint shows the log is live')
  const all = (await app.inject('/v1/ledger/checkpoints')).json()
  t.same(all.items.map((c: { issuedAt: string }) => c.issuedAt), ['2026-12-08T11:00:00.000Z', '2026-12-08T10:00:00.000Z'])
  t.equal(all.items[0].rootHash, all.items[1].rootHash, 'same root')

  // The database accepts a same-size checkpoint only later and with the same root.
  const [row] = (await ownerPool().query<{ signed_note: string }>('SELECT signed_note FROM ledger_checkpoint ORDER BY issued_at DESC LIMIT 1')).rows
  const key = app.ledger.signingKey
  const again = (at: string) => app.db.pool.query('SELECT ledger_add_checkpoint(3, $1, $2, $3, $4)', [at, key.name, key.publicKeyPem, row!.signed_note])
  await t.rejects(again('2026-12-08T11:00:00.000Z'), /must be later than the latest one/, 'not at the same time')
  await clock.set(new Date('2026-12-08T11:00:30.000Z'))
  await t.rejects(again('2026-12-08T11:00:30.000Z'), /signed note is not the checkpoint/, 'a note of another time or root is refused')

  const report = (await app.inject({ method: 'POST', url: '/v1/ledger/verify', headers: { authorization: `Bearer ${token('auditor')}` } })).json()
  t.match(report, { ok: true, treeSize: 3, checkpointsChecked: 2 }, 'the verifier checks both checkpoints of size 3')
})

t.test('key rotation: the previous key endorses the new one, verifiers follow the chain', async (t) => {
  const first = pem()
  const second = pem()
  const third = pem()
  const env = { NODE_ENV: 'test', LEDGER_SIGNING_KEY: first }
  const one = await testApp(t, { env })
  await appendCommitted(one.app, 2)
  await sealNow(one.app)
  const firstKey = one.app.ledger.signingKey
  await one.app.close()

  // A second app on the same database with the new key and the previous one configured.
  const { buildApp } = await import('../../src/app.js')
  const { testConfig } = await import('../helpers/app.js')
  const base = { DATABASE_URL: one.config.databaseUrl, MIGRATION_DATABASE_URL: one.config.migrationDatabaseUrl }
  const two = await buildApp(testConfig({ ...base, LEDGER_SIGNING_KEY: second, LEDGER_PREVIOUS_SIGNING_KEY: first }))
  t.teardown(() => two.close())
  await two.ready()
  const rotation = await sealNow(two)
  t.match(rotation, { sealed: 0, checkpoint: { treeSize: 2, reason: 'rotation', endorsedBy: firstKey.keyId } }, 'the new key signs at once, endorsed')
  const note = (await two.inject('/v1/ledger/tlog/checkpoint')).body
  t.same(parseSignedCheckpoint(note).signatures.map((s) => s.keyId.toString('hex')), [two.ledger.signingKey.keyId, firstKey.keyId], 'two signature lines: new key, then previous')
  t.ok(verifySignedCheckpoint(note, { name: firstKey.name, publicKey: createPublicKey(firstKey.publicKeyPem) }).ok, 'a verifier holding only the old key accepts it')
  await appendCommitted(two, 2)
  t.match(await sealNow(two), { checkpoint: { treeSize: 4, reason: 'grown', endorsedBy: null } }, 'later checkpoints: the new key alone')

  const keys = (await two.inject('/v1/ledger/keys')).json()
  t.match(keys.keys, [
    { keyId: firstKey.keyId, current: false, endorsedBy: null, firstCheckpoint: { treeSize: 2 } },
    { keyId: two.ledger.signingKey.keyId, current: true, endorsedBy: firstKey.keyId, firstCheckpoint: { treeSize: 2 } },
  ])
  t.same((await two.inject('/v1/ledger/public-key')).json().previousKeys.map((k: { keyId: string }) => k.keyId), [firstKey.keyId])
  const auditor = { authorization: `Bearer ${two.jwt.sign({ sub: 'a', roles: ['auditor'] })}` }
  t.match((await two.inject({ method: 'POST', url: '/v1/ledger/verify', headers: auditor })).json(), { ok: true, checkpointsChecked: 3 }, 'the endorsed chain verifies')

  // The offline verifier follows the chain from either key.
  const bundle = mkdtempSync(join(tmpdir(), 'rotation-bundle-'))
  await writeLedgerBundle(one.ownerPool(), bundle, { selection: { all: true } })
  for (const [who, trusted] of [['old', firstKey.verifierKey], ['new', two.ledger.signingKey.verifierKey]] as const) {
    t.match(await verifyLedgerBundle(bundle, { trustedKeys: [trusted] }), { ok: true, checkpointsVerified: 3, problems: [] }, `a bundle verifies from the ${who} key alone`)
  }
  await two.close()

  // An instance still running with the old key (a rolling restart) seals but signs nothing more.
  const back = await buildApp(testConfig({ ...base, LEDGER_SIGNING_KEY: first }))
  t.teardown(() => back.close())
  await back.ready()
  await appendCommitted(back, 1)
  t.match(await sealNow(back), { sealed: 1, treeSize: 5, checkpoint: null }, 'a retired key does not sign after its successor')
  await back.close()

  // A third key without the previous one: it takes over unendorsed, and the verifiers say so.
  const three = await buildApp(testConfig({ ...base, LEDGER_SIGNING_KEY: third }))
  t.teardown(() => three.close())
  await three.ready()
  t.match(await sealNow(three), { checkpoint: { treeSize: 5, reason: 'rotation', endorsedBy: null } }, 'the third key signs the tree the retired one sealed, unendorsed')
  const report = (await three.inject({ method: 'POST', url: '/v1/ledger/verify', headers: { authorization: `Bearer ${three.jwt.sign({ sub: 'a', roles: ['auditor'] })}` } })).json()
  t.match(report, { ok: false, divergence: { kind: 'checkpoint_key_not_endorsed', treeSize: 2 } }, 'a key that appeared without endorsement is reported')
  t.match(report.divergence.detail, /without its endorsement/)
  const broken = mkdtempSync(join(tmpdir(), 'rotation-bundle-'))
  await writeLedgerBundle(one.ownerPool(), broken, { selection: { all: true } })
  const offline = await verifyLedgerBundle(broken, { trustedKeys: [firstKey.verifierKey] })
  t.equal(offline.ok, false, 'offline, from the first key: the unendorsed key is reported')
  t.match(offline.problems, [{ item: 'checkpoint.txt', problem: /signed by key [0-9a-f]{8}, which is not linked to a trusted key.*without its endorsement/ }])
})

t.test('production refuses the placeholder LEDGER_ORIGIN; the previous key must differ from the current one', async (t) => {
  const { loadConfig } = await import('../../src/config.js')
  const { loadSigningKey } = await import('../../src/ledger/signing-key.js')
  const production = {
    NODE_ENV: 'production',
    DATABASE_URL: 'postgresql://x@127.0.0.1/x',
    JWT_PUBLIC_KEY: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    JWT_ISSUER: 'i',
    JWT_AUDIENCE: 'a',
    LEDGER_SIGNING_KEY: pem(),
  }
  t.throws(() => loadConfig(production), /LEDGER_ORIGIN.*placeholder townsquare\.invalid\/ledger is refused in production/s)
  t.throws(() => loadConfig({ ...production, LEDGER_ORIGIN: 'townsquare.invalid/ledger' }), /LEDGER_ORIGIN/)
  t.doesNotThrow(() => loadConfig({ ...production, LEDGER_ORIGIN: 'townsquare.kankakee.gov/ledger' }))
  t.equal(loadConfig({ ...production, LEDGER_ORIGIN: 'townsquare.kankakee.gov/ledger', LEDGER_MAX_CHECKPOINT_AGE: 'PT15M' }).ledger.maxCheckpointAgeMs, 900_000)
  t.equal(loadConfig({ ...production, LEDGER_ORIGIN: 'townsquare.kankakee.gov/ledger', LEDGER_MAX_CHECKPOINT_AGE: '90000' }).ledger.maxCheckpointAgeMs, 90_000)
  t.throws(() => loadConfig({ ...production, LEDGER_ORIGIN: 'x.gov/ledger', LEDGER_MAX_CHECKPOINT_AGE: 'soon' }), /LEDGER_MAX_CHECKPOINT_AGE/)
  const same = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(40), LEDGER_SIGNING_KEY: production.LEDGER_SIGNING_KEY, LEDGER_PREVIOUS_SIGNING_KEY: production.LEDGER_SIGNING_KEY })
  t.throws(() => loadSigningKey(same), /must be the key rotated out/)
})

t.test('public proof routes are rate limited per client address', async (t) => {
  const { app } = await testApp(t)
  for (let i = 0; i < 600; i++) {
    const res = await app.inject('/v1/ledger/checkpoints/latest')
    if (res.statusCode !== 404) t.fail(`request ${i + 1}: ${res.statusCode}`)
  }
  const limited = await app.inject('/v1/ledger/checkpoints/latest')
  t.equal(limited.statusCode, 429, 'the 601st request in a minute')
  t.match(limited.headers['content-type'], /^application\/problem\+json/)
  t.equal((await app.inject({ url: '/v1/ledger/checkpoints/latest', remoteAddress: '192.0.2.7' })).statusCode, 404, 'another address is not limited')
})
