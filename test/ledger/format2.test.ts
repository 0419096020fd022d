// Records format 2 (docs/ledger.md, "Format 2"): the test vectors, checked against the
// implementation and in part recomputed with openssl and sha256sum; format 1 and format 2 entries
// side by side in one ledger, sealed and verified by the API and offline.
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import t from 'tap'
import { verifyLedgerBundle, writeLedgerBundle } from '../../src/ledger/bundle.js'
import { canonicalJson } from '../../src/ledger/canonical-json.js'
import { fieldKey, payloadCommitment, scalarDigest, segmentDigest, segmentKey, segments, skeleton, stringDigest } from '../../src/ledger/commitment.js'
import { entryLeafBytes, entryLeafHash, payloadDigest } from '../../src/ledger/entry.js'
import { verifyLedger } from '../../src/ledger/verify.js'
import { PROJECT_ROOT } from '../../src/paths.js'
import { appendCommitted, sealNow } from '../factories/ledger.js'
import { testApp } from '../helpers/app.js'

interface Field {
  pointer: string
  value: unknown
  key: string
  canonicalValue?: string
  segments?: Array<{ index: number; text: string; key: string; digest: string }>
  digest: string
}
const vectors = JSON.parse(readFileSync(join(PROJECT_ROOT, 'test/ledger/format2-vectors.json'), 'utf8')) as {
  payload: Record<string, unknown>
  payloadCanonical: string
  salt: string
  fields: Field[]
  skeleton: unknown
  skeletonCanonical: string
  payloadCommitment: string
  envelope: { id: string; kind: string; subject: string; actor: string; recordedAt: string; payloadCommitment: string; v: number }
  envelopeBytes: string
  leafHash: string
}

t.test('the format 2 test vectors hold for the implementation', async (t) => {
  const salt = Buffer.from(vectors.salt, 'hex')
  t.equal(canonicalJson(vectors.payload), vectors.payloadCanonical)
  t.equal(vectors.fields.length, 11, 'every scalar of the payload has its vector')
  for (const f of vectors.fields) {
    const key = fieldKey(salt, f.pointer)
    t.equal(key.toString('hex'), f.key, `K(${f.pointer})`)
    if (typeof f.value === 'string') {
      t.same(segments(f.value), f.segments!.map((s) => s.text), `segments of ${f.pointer}`)
      t.equal(f.segments!.map((s) => s.text).join(''), f.value, 'the segments make the string')
      for (const s of f.segments!) {
        t.equal(segmentKey(key, s.index).toString('hex'), s.key, `k(${f.pointer}, ${s.index})`)
        t.equal(segmentDigest(Buffer.from(s.key, 'hex'), s.text).toString('hex'), s.digest, `d(${f.pointer}, ${s.index})`)
      }
      t.equal(stringDigest(f.segments!.map((s) => Buffer.from(s.digest, 'hex'))).toString('hex'), f.digest, `digest of ${f.pointer}`)
    } else {
      t.equal(canonicalJson(f.value), f.canonicalValue)
      t.equal(scalarDigest(key, f.value).toString('hex'), f.digest, `digest of ${f.pointer}`)
    }
  }
  t.same(segments('call 555-1234 now'), ['call ', '555-1234 ', 'now'])
  t.ok(vectors.fields.some((f) => f.pointer === '/a~1b~0c'), 'a key with / and ~ is escaped in its JSON Pointer (RFC 6901)')
  t.same(segments(''), [''], 'the empty string is one empty segment, so its digest has a secret key in it')
  t.same(skeleton(vectors.payload, salt), vectors.skeleton)
  t.equal(canonicalJson(vectors.skeleton), vectors.skeletonCanonical)
  t.equal(payloadCommitment(vectors.payload, salt), vectors.payloadCommitment)
  const entry = { ...vectors.envelope, recordedAt: new Date(vectors.envelope.recordedAt), format: 2, payloadSha256: null }
  t.equal(entryLeafBytes(entry).toString('utf8'), vectors.envelopeBytes)
  t.equal(entryLeafHash(entry).toString('hex'), vectors.leafHash)
})

t.test('the vectors recomputed with openssl and sha256sum, not with Townsquare code', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'format2-vectors-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = (name: string, bytes: Buffer) => {
    const path = join(dir, name)
    writeFileSync(path, bytes)
    return path
  }
  const hmac = (hexKey: string, message: Buffer) =>
    execFileSync('openssl', ['dgst', '-sha256', '-mac', 'HMAC', '-macopt', `hexkey:${hexKey}`, '-r', file('m', message)], { encoding: 'utf8' }).split(' ')[0]!
  const sha256 = (bytes: Buffer) => execFileSync('sha256sum', [file('h', bytes)], { encoding: 'utf8' }).split(' ')[0]!
  const text = vectors.fields.find((f) => f.pointer === '/text')!
  const ascii = (s: string) => Buffer.from(s, 'utf8')

  const K = hmac(vectors.salt, Buffer.concat([ascii('townsquare/ledger/v2/key\0'), ascii('/text')]))
  t.equal(K, text.key, 'K(/text) = HMAC-SHA256(salt, "townsquare/ledger/v2/key\\0" || "/text")')
  const stream = execFileSync('openssl', ['dgst', '-shake256', '-xoflen', '96', '-r', file('m', Buffer.concat([Buffer.from(K, 'hex'), ascii('townsquare/ledger/v2/segment\0')]))], { encoding: 'utf8' }).split(' ')[0]!
  const k1 = stream.slice(64, 128)
  t.equal(k1, text.segments![1]!.key, 'k(/text, 1) = bytes 32..63 of SHAKE256(K(/text) || "townsquare/ledger/v2/segment\\0")')
  t.equal(stream.slice(0, 64), text.segments![0]!.key, 'k(/text, 0) = its first 32 bytes')
  const d1 = sha256(Buffer.concat([ascii('townsquare/ledger/v2/segment\0'), Buffer.from(k1, 'hex'), ascii('555-1234 ')]))
  t.equal(d1, text.segments![1]!.digest, 'the digest of the segment "555-1234 "')
  const digest = sha256(Buffer.concat([ascii('townsquare/ledger/v2/string\0'), ...text.segments!.map((s) => Buffer.from(s.digest, 'hex'))]))
  t.equal(digest, text.digest, 'the digest of /text from its segment digests')
  const n = vectors.fields.find((f) => f.pointer === '/n')!
  const Kn = hmac(vectors.salt, Buffer.concat([ascii('townsquare/ledger/v2/key\0'), ascii('/n')]))
  t.equal(sha256(Buffer.concat([ascii('townsquare/ledger/v2/scalar\0'), Buffer.from(Kn, 'hex'), ascii('4')])), n.digest, 'the digest of the number at /n')
  t.equal(sha256(ascii(vectors.skeletonCanonical)), vectors.payloadCommitment, 'the commitment is the SHA-256 of the canonical skeleton')
  t.match(vectors.skeletonCanonical, new RegExp(`"text":"${text.digest}"`), 'the skeleton holds the digest of /text')
  t.equal(sha256(Buffer.concat([Buffer.from([0]), ascii(vectors.envelopeBytes)])), vectors.leafHash, 'leaf hash = SHA-256(0x00 || envelope)')
  t.match(vectors.envelopeBytes, /^\{"actor":"platform:website","id":"[0-9a-f-]{36}","kind":"comment\.version","payloadCommitment":"[0-9a-f]{64}","recordedAt":"2026-11-02T15:01:02\.345Z","subject":"[0-9a-f-]{36}","v":2\}$/)
})

t.test('format 1 entries written before format 2 stay verifiable beside new format 2 entries', async (t) => {
  const { app, token, ownerPool, runtimeUrl } = await testApp(t)
  const auth = { authorization: `Bearer ${token('auditor')}` }
  // An entry as the service wrote it before format 2 (the owner stands in for the old code).
  const old = { id: randomUUID(), ...payloadDigest({ text: 'written before format 2', n: 1 }) }
  await ownerPool().query(`INSERT INTO ledger_entry (id, kind, subject, actor, payload, format, payload_sha256) VALUES ($1, 'comment.version', 'c-old', 'system', $2, 1, $3)`, [
    old.id,
    old.payload,
    old.payloadSha256,
  ])
  const fresh = await appendCommitted(app, 3)
  await sealNow(app)

  const rows = (await ownerPool().query<{ id: string; format: number; payload_sha256: string | null; payload_commitment: string | null; salt_bytes: number | null }>(
    'SELECT id::text, format, payload_sha256, payload_commitment, octet_length(payload_salt) AS salt_bytes FROM ledger_entry ORDER BY seq',
  )).rows
  t.match(rows[0], { id: old.id, format: 1, payload_sha256: old.payloadSha256, payload_commitment: null, salt_bytes: null })
  for (const r of rows.slice(1)) t.match(r, { format: 2, payload_sha256: null, payload_commitment: /^[0-9a-f]{64}$/, salt_bytes: 32 }, 'a new entry is format 2 with a 32-byte salt and no unsalted hash')

  const served = await app.inject({ url: `/v1/ledger/entries/${fresh[0]!.id}`, headers: auth })
  t.match(served.json(), { entry: { format: 2, payloadCommitment: fresh[0]!.payloadCommitment, payloadSalt: /^[0-9a-f]{64}$/ } })
  t.notOk('payloadSha256' in served.json().entry)
  const sealedLeaf = (await ownerPool().query<{ leaf_hash: Buffer }>('SELECT leaf_hash FROM ledger_leaf WHERE entry_id = $1', [fresh[0]!.id])).rows[0]!.leaf_hash
  t.equal(served.json().leafHash, sealedLeaf.toString('hex'), 'the database sealed the v2 envelope the verifier computes')
  t.match((await app.inject({ url: `/v1/ledger/entries/${old.id}`, headers: auth })).json(), { entry: { format: 1, payloadSha256: old.payloadSha256 } })

  t.match((await app.inject({ method: 'POST', url: '/v1/ledger/verify', headers: auth })).json(), { ok: true, treeSize: 4 })
  const dir = mkdtempSync(join(tmpdir(), 'format2-bundle-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  await writeLedgerBundle(app.db.pool, join(dir, 'b'), { selection: { all: true } })
  const lines = readFileSync(join(dir, 'b', 'entries.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { entry: Record<string, unknown>; salt?: string })
  t.same(lines.map((l) => l.entry.v), [1, 2, 2, 2], 'the bundle carries each entry in its own format')
  t.ok(lines.slice(1).every((l) => !('payloadSha256' in l.entry) && typeof l.salt === 'string'), 'format 2 lines: the commitment and the salt that opens it, no unsalted hash')
  t.match(await verifyLedgerBundle(join(dir, 'b')), { ok: true, entriesVerified: 4 })

  // The runtime role cannot write format 1 (an unsalted hash) nor choose the format.
  const db = new pg.Client({ connectionString: runtimeUrl })
  await db.connect()
  t.teardown(() => db.end())
  await t.rejects(
    db.query(`INSERT INTO ledger_entry (id, kind, subject, actor, payload, format, payload_sha256) VALUES ($1, 'comment.version', 'x', 'system', $2, 1, $3)`, [randomUUID(), old.payload, old.payloadSha256]),
    /permission denied/,
  )

  // A salt swapped (with triggers off, as a superuser could) no longer opens the commitment.
  const su = await ownerPool().connect()
  try {
    await su.query('BEGIN')
    await su.query('SET LOCAL session_replication_role = replica')
    await su.query(`UPDATE ledger_entry SET payload_salt = sha256('another salt') WHERE id = $1`, [fresh[1]!.id])
    await su.query('COMMIT')
  } finally {
    su.release()
  }
  t.match(await verifyLedger(app.db.pool), { ok: false, divergence: { kind: 'payload_hash', entryId: fresh[1]!.id, expected: fresh[1]!.payloadCommitment } })
  await t.rejects(
    ownerPool().query(`UPDATE ledger_entry SET payload = NULL WHERE id = $1`, [fresh[2]!.id]),
    /append-only|ledger_entry_format_check/,
    'a payload cannot be nulled leaving its salt behind',
  )
})
