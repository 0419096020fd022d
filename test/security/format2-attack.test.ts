// Issue 24, items 1 and 2, as an attacker would try them: hash every candidate of a small space
// (every 4-digit number; every phone number of a known prefix) in every context we could think of,
// and look for the result among every hash-like value of a FOIA production, of a ledger export
// after a disposal, and of the entry endpoint. Format 2 records give nothing away; the same attack
// on records written in format 1 recovers the withheld numbers, so the test can fail.
import { createHash } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type pg from 'pg'
import t from 'tap'
import { illinoisDate } from '../../src/foia/business-days.js'
import { extractTar } from '../../src/foia/tar.js'
import { verifyProduction, verifyProductionArchive } from '../../src/foia/verify-production.js'
import { writeLedgerBundle } from '../../src/ledger/bundle.js'
import { canonicalJson } from '../../src/ledger/canonical-json.js'
import { sealNow } from '../factories/ledger.js'
import { adoptSchedules, call, DAY, deliverComments, manualClock } from '../factories/retention.js'
import { testApp } from '../helpers/app.js'

const sha256 = (s: string | Buffer) => createHash('sha256').update(s).digest('hex')

/** Every value in the bytes that could be a SHA-256 or an HMAC: 64 hex digits, or 32 bytes in base64 (or base64url). */
function hashLikeValues(bytes: Buffer): Set<string> {
  const text = bytes.toString('latin1')
  const found = new Set<string>()
  for (const m of text.matchAll(/[0-9a-fA-F]{64}/g)) found.add(m[0].toLowerCase())
  for (const m of text.matchAll(/[A-Za-z0-9+/_-]{43}=?/g)) {
    const raw = Buffer.from(m[0].replace(/-/g, '+').replace(/_/g, '/'), 'base64')
    if (raw.length === 32) found.add(raw.toString('hex'))
  }
  return found
}

const TEMPLATE = (code: string, phone: string) => `Gate code ${code} and my cell 815-555-${phone} if the bridge floods again`

interface Secret {
  code: string
  phone: string
  /** The entry's payload as the ledger held it (the strongest attacker knows every other field). */
  payload: Record<string, unknown>
}

/**
 * Tries every 4-digit code (with the true phone number) and every phone number 815-555-0000…9999
 * (with the true code) in every context: the value alone, as a segment with and without its
 * trailing space, with the words around it, the whole text, the text's event key, the whole
 * payload with the text (and its event key) substituted. Returns the candidates that matched.
 */
function attack(secret: Secret, values: Set<string>, rawBody?: string): string[] {
  const matched = new Set<string>()
  const tryIt = (label: string, preimage: string) => {
    if (values.has(sha256(preimage))) matched.add(label)
  }
  const platformTime = secret.payload.platformTime
  const contexts = (code: string, phone: string, candidate: string, label: string) => {
    const text = TEMPLATE(code, phone)
    for (const c of [candidate, `${candidate} `, ` ${candidate}`, ` ${candidate} `]) tryIt(label, c)
    tryIt(label, `code ${candidate} `)
    tryIt(label, `Gate code ${candidate}`)
    tryIt(label, `815-555-${phone}`)
    tryIt(label, `815-555-${phone} `)
    tryIt(label, text)
    tryIt(label, JSON.stringify(text))
    const eventKey = 'v:' + sha256(canonicalJson({ text, platformTime }))
    tryIt(label, canonicalJson({ text, platformTime }))
    tryIt(label, eventKey)
    const payload = { ...secret.payload, text, ...('eventKey' in secret.payload ? { eventKey } : {}) }
    tryIt(label, canonicalJson(payload))
    tryIt(label, canonicalJson({ ...secret.payload, text }))
    if (values.has(eventKey.slice(2))) matched.add(label)
    if (rawBody !== undefined) tryIt(label, rawBody.replace(TEMPLATE(secret.code, secret.phone), text))
  }
  for (let i = 0; i < 10_000; i++) {
    const c = String(i).padStart(4, '0')
    contexts(c, secret.phone, c, `code ${c}`)
    contexts(secret.code, c, `815-555-${c}`, `phone ${c}`)
  }
  return [...matched]
}

async function convertToFormat1(owner: () => pg.Pool, commentId: string) {
  // What a record written before format 2 looks like: unsalted payloadSha256 in its envelope.
  const client = await owner().connect()
  try {
    await client.query('BEGIN')
    await client.query('SET LOCAL session_replication_role = replica')
    await client.query(
      `UPDATE ledger_entry SET format = 1, payload_sha256 = encode(sha256(convert_to(payload, 'UTF8')), 'hex'), payload_salt = NULL, payload_commitment = NULL WHERE subject = $1`,
      [commentId],
    )
    await client.query('COMMIT')
  } finally {
    client.release()
  }
}

t.test('no hash in a production, an export after disposal or the entry endpoint confirms a withheld 4-digit code or phone number (format 2); format 1 does', async (t) => {
  const realNow = new Date()
  const start = new Date(realNow.getTime() - 1000 * DAY)
  const clock = manualClock(start)
  const productionsDir = mkdtempSync(join(tmpdir(), 'attack-productions-'))
  const work = mkdtempSync(join(tmpdir(), 'attack-'))
  t.teardown(() => {
    rmSync(productionsDir, { recursive: true, force: true })
    rmSync(work, { recursive: true, force: true })
  })
  const { app, token, ownerPool } = await testApp(t, { clock, env: { FOIA_PRODUCTIONS_DIR: productionsDir } })
  const clerkA = token('records_clerk', 'clerk-a')
  const clerkB = token('records_clerk', 'clerk-b')
  const auditor = token('auditor', 'audit-1')

  const secrets = { produced2: { code: '4821', phone: '0143' }, produced1: { code: '7306', phone: '0172' }, disposed2: { code: '5190', phone: '0199' }, disposed1: { code: '2647', phone: '0118' } }
  const [disposed2, disposed1] = await deliverComments(app, [
    { n: 11, text: TEMPLATE(secrets.disposed2.code, secrets.disposed2.phone), at: new Date(start.getTime() - DAY) },
    { n: 12, text: TEMPLATE(secrets.disposed1.code, secrets.disposed1.phone), at: new Date(start.getTime() - DAY) },
  ])
  await convertToFormat1(ownerPool, disposed1!)
  await clock.set(new Date(start.getTime() + 300 * DAY))
  const [produced2, produced1] = await deliverComments(app, [
    { n: 13, text: TEMPLATE(secrets.produced2.code, secrets.produced2.phone), at: new Date(start.getTime() + 300 * DAY) },
    { n: 14, text: TEMPLATE(secrets.produced1.code, secrets.produced1.phone), at: new Date(start.getTime() + 300 * DAY) },
  ])
  await convertToFormat1(ownerPool, produced1!)
  await sealNow(app)
  const versionOf = async (commentId: string) => {
    const { rows } = await ownerPool().query<{ id: string; payload: string }>(`SELECT id::text, payload FROM ledger_entry WHERE subject = $1 AND kind = 'comment.version'`, [commentId])
    return { id: rows[0]!.id, payload: JSON.parse(rows[0]!.payload) as Record<string, unknown> }
  }
  const versions = {
    produced2: await versionOf(produced2!),
    produced1: await versionOf(produced1!),
    disposed2: await versionOf(disposed2!),
    disposed1: await versionOf(disposed1!),
  }
  const secret = (k: keyof typeof secrets): Secret => ({ ...secrets[k], payload: versions[k].payload })
  t.equal(versions.produced2.payload.text, TEMPLATE('4821', '0143'))

  // --- a production with the code and the phone number redacted ----------------------------------
  const request = await call(app, clerkA, 'POST', '/v1/foia/requests', { requester: { name: 'A resident' }, receivedOn: illinoisDate(clock()), description: 'Bridge comments', commercial: false })
  t.equal(request.statusCode, 201, request.body)
  const requestId = request.json().id as string
  const attached = await call(app, clerkA, 'POST', `/v1/foia/requests/${requestId}/records`, { commentIds: [produced2, produced1] })
  t.equal(attached.statusCode, 200, attached.body)
  t.equal((await call(app, clerkA, 'POST', `/v1/foia/requests/${requestId}/redactions/suggestions`)).statusCode, 200)
  const suggested = (await call(app, clerkA, 'GET', `/v1/foia/requests/${requestId}/redactions?status=suggested`)).json().items as Array<{ id: string; text: string; entryId: string }>
  t.same(suggested.map((s) => s.text).sort(), ['815-555-0143', '815-555-0172'], 'the phone numbers are suggested')
  for (const s of suggested) t.equal((await app.inject({ method: 'PATCH', url: `/v1/foia/requests/${requestId}/redactions/${s.id}`, headers: { authorization: `Bearer ${clerkA}` }, payload: { status: 'accepted' } })).statusCode, 200)
  for (const k of ['produced2', 'produced1'] as const) {
    const text = versions[k].payload.text as string
    const start = text.indexOf(secrets[k].code)
    const added = await call(app, clerkA, 'POST', `/v1/foia/requests/${requestId}/redactions`, { entryId: versions[k].id, path: '/text', start, end: start + 4, category: 'access_code', citation: '5 ILCS 140/7(1)(b)' })
    t.equal(added.statusCode, 201, added.body)
  }
  await sealNow(app)
  const produced = await call(app, clerkA, 'POST', `/v1/foia/requests/${requestId}/productions`)
  t.equal(produced.statusCode, 201, produced.body)
  const archive = (await app.inject({ method: 'GET', url: produced.json().downloadUrl, headers: { authorization: `Bearer ${auditor}` } })).rawPayload
  for (const k of ['produced2', 'produced1'] as const) {
    // As a number of its own, as the text had it: four digits also turn up by chance inside hex
    // digests, base64 and UUIDs (a group of a UUID is four hex digits between dashes).
    const standalone = new RegExp(`(?<![0-9A-Za-z+/=_-])${secrets[k].code}(?![0-9A-Za-z+/=_-])`)
    t.notOk(standalone.test(archive.toString('latin1')), `the code of ${k} is not in the archive`)
    t.equal(archive.indexOf(`555-${secrets[k].phone}`), -1, `the phone number of ${k} is not in the archive`)
  }
  const archiveFile = join(work, 'production.tar')
  writeFileSync(archiveFile, archive)
  const extracted = mkdtempSync(join(work, 'production-'))
  await extractTar(archiveFile, extracted)
  const records = readFileSync(join(extracted, 'records.jsonl'), 'utf8')
  t.match(records, /Gate code \[REDACTED 5 ILCS 140\/7\(1\)\(b\)\] and my cell \[REDACTED 5 ILCS 140\/7\(1\)\(b\)\] if the bridge floods again/, 'format 2: each withheld word and its space are one marker')
  t.match(records, /"eventKey":"\[REDACTED/, 'format 2: the event key, computed from the text, is withheld with it')

  const trusted = app.ledger.signingKey.verifierKey
  t.match(await verifyProductionArchive(archiveFile, { trustedKeys: [trusted] }), { ok: true, redactedEntries: 2, redactions: 4 }, 'a production of format 1 and format 2 records verifies')
  // The visible text of a redacted format 2 entry changed at equal length, in records.jsonl and in
  // its disclosure, with the manifest rewritten: the segment digests no longer make the commitment.
  for (const name of ['records.jsonl', 'entries.jsonl']) writeFileSync(join(extracted, name), readFileSync(join(extracted, name), 'utf8').replaceAll('floods', 'fl00ds'))
  const manifest = JSON.parse(readFileSync(join(extracted, 'manifest.json'), 'utf8')) as { files: Array<{ path: string; sha256: string; bytes: number }> }
  for (const f of manifest.files) f.sha256 = sha256(readFileSync(join(extracted, f.path)))
  writeFileSync(join(extracted, 'manifest.json'), JSON.stringify(manifest))
  const altered = await verifyProduction(extracted, { trustedKeys: [trusted] })
  t.ok(altered.problems.some((p) => p.item.startsWith('entries.jsonl:') && p.problem.includes(versions.produced2.id) && /commits to/.test(p.problem)), JSON.stringify(altered.problems))

  const inProduction = hashLikeValues(archive)
  t.ok(inProduction.size > 20, `the archive has ${inProduction.size} hash-like values to try`)
  t.same(attack(secret('produced2'), inProduction), [], 'format 2 production: no candidate code or phone number matches any hash in the archive')
  const recovered = attack(secret('produced1'), inProduction)
  t.ok(recovered.includes('code 7306') && recovered.includes('phone 0172'), `format 1 production: the same attack recovers the withheld code and phone number (${recovered.join(', ')})`)
  t.same(recovered.sort(), ['code 7306', 'phone 0172'], 'and only them')

  // --- a disposal, then a ledger export and the entry endpoint ----------------------------------
  // The raw delivery that carried the disposed comments, as an attacker who knows every other byte
  // of it would rebuild it for each candidate.
  const rawBody = (await ownerPool().query<{ body: Buffer }>(`SELECT w.body FROM webhook_delivery w JOIN comment_event e ON e.delivery_id = w.id WHERE e.comment_id = $1`, [disposed2])).rows[0]!.body.toString('utf8')
  t.ok(rawBody.includes(TEMPLATE(secrets.disposed2.code, secrets.disposed2.phone)))
  await clock.set(new Date(start.getTime() + 400 * DAY))
  await adoptSchedules(app, clerkA, 365)
  const disposal = await call(app, clerkA, 'POST', '/v1/disposals', { note: 'FY2024 comments' })
  t.equal(disposal.statusCode, 201, disposal.body)
  t.same(disposal.json().records.map((r: { recordId: string }) => r.recordId).sort(), [disposed2, disposed1].sort())
  await clock.set(new Date(realNow.getTime() - 40 * DAY))
  t.equal((await call(app, clerkB, 'POST', `/v1/disposals/${disposal.json().id}/approval`, { approvalReference: 'LRC cert 2026-118', approvedOn: illinoisDate(clock()) })).statusCode, 200)
  await clock.set(new Date())
  await sealNow(app)
  const executed = await call(app, clerkA, 'POST', `/v1/disposals/${disposal.json().id}/execute`)
  t.equal(executed.statusCode, 200, executed.body)
  await sealNow(app)
  t.match((await call(app, auditor, 'POST', '/v1/ledger/verify')).json(), { ok: true }, 'the ledger still verifies')

  const bundle = join(work, 'export')
  await writeLedgerBundle(app.db.pool, bundle, { selection: { all: true } })
  const exported = Buffer.concat(readdirSync(bundle).map((f) => readFileSync(join(bundle, f))))
  t.equal(exported.indexOf(`555-${secrets.disposed2.phone}`), -1, 'the disposed text is gone from the export')
  const served = await Promise.all([versions.disposed2.id, versions.disposed1.id].map((id) => call(app, auditor, 'GET', `/v1/ledger/entries/${id}`)))
  t.match(served[0]!.json(), { entry: { format: 2, payload: null, payloadSalt: null, payloadCommitment: /^[0-9a-f]{64}$/ } }, 'the entry endpoint serves a disposed format 2 entry without its salt')
  const endpoint = Buffer.concat(served.map((r) => r.rawPayload))
  const afterDisposal = new Set([...hashLikeValues(exported), ...hashLikeValues(endpoint)])
  t.ok(afterDisposal.size > 20)
  t.same(attack(secret('disposed2'), afterDisposal, rawBody), [], 'format 2 after disposal: no candidate matches any hash in the export or the entry endpoint')
  const confirmed = attack(secret('disposed1'), afterDisposal, rawBody)
  t.ok(confirmed.includes('code 2647') && confirmed.includes('phone 0118'), `format 1 after disposal: the kept payloadSha256 confirms the destroyed numbers (${confirmed.join(', ')})`)
})
