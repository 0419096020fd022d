import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { commitment, resolvePointer } from '../../src/foia/redaction.js'
import { checkDisclosure, payloadCommitment } from '../../src/ledger/commitment.js'
import { extractTar } from '../../src/foia/tar.js'
import { verifyProduction, verifyProductionArchive } from '../../src/foia/verify-production.js'
import { PROJECT_ROOT } from '../../src/paths.js'
import { testApp } from '../helpers/app.js'
import { sealNow } from '../factories/ledger.js'
import { tarMembers, websiteComments } from './helpers.js'

const run = promisify(execFile)
const tsx = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx')
const fresh = () => mkdtempSync(join(tmpdir(), 'townsquare-foia-'))
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex')
const flipAt = (bytes: Buffer, at: number) => void (bytes[at] = bytes[at]! ^ 1)

const PRIVATE = ['(815) 555-0143', 'jane.doe@example.org', '123-45-6789', '1234 Elm Street', 'Jane Q. Doe']

t.test('a production: verified offline, tamper detected in every file, redactions hide text and keep verification', async (t) => {
  const productionsDir = fresh()
  const { app, token } = await testApp(t, { env: { FOIA_PRODUCTIONS_DIR: productionsDir } })
  const clerk = { authorization: `Bearer ${token('records_clerk', 'clerk-1')}` }
  const auditor = { authorization: `Bearer ${token('auditor', 'audit-1')}` }
  const trusted = app.ledger.signingKey.verifierKey

  const [withPhone, withSsn, plain] = await websiteComments(app, [
    {
      text: 'Call me at (815) 555-0143 or write jane.doe@example.org about the Court St bridge',
      author: { id: 'u-jane', name: 'Jane Q. Doe', email: 'jane.doe@example.org' },
      edits: ['Call me at (815) 555-0143 about the Court St bridge, please'],
    },
    { text: 'My SSN is 123-45-6789 and I live at 1234 Elm Street, the water bill is wrong' },
    { text: 'Thank you for fixing the "=SUM(A1)" potholes on Washington Avenue, <b>great</b> work' },
  ])
  await sealNow(app)

  const created = await app.inject({
    method: 'POST',
    url: '/v1/foia/requests',
    headers: clerk,
    payload: { requester: { name: 'Kankakee Daily Journal', contact: 'newsroom@example.org' }, receivedOn: '2026-11-02', description: 'Comments on the city website about road work', commercial: false },
  })
  t.equal(created.statusCode, 201, created.body)
  const requestId = created.json().id as string
  const attached = await app.inject({ method: 'POST', url: `/v1/foia/requests/${requestId}/records`, headers: clerk, payload: { query: { platform: 'website' } } })
  t.match(attached.json(), { attached: 3, records: 3, search: { matched: 3, query: { platform: 'website' } } })

  const produce = () => app.inject({ method: 'POST', url: `/v1/foia/requests/${requestId}/productions`, headers: clerk })
  const download = async (p: { downloadUrl: string }, headers = auditor) => {
    const res = await app.inject({ method: 'GET', url: p.downloadUrl, headers })
    t.equal(res.statusCode, 200)
    t.equal(res.headers['content-type'], 'application/x-tar')
    const file = join(fresh(), 'production.tar')
    writeFileSync(file, res.rawPayload)
    return file
  }

  // --- an unredacted production -----------------------------------------------------------
  const first = await produce()
  t.equal(first.statusCode, 201, first.body)
  const p1 = first.json()
  t.match(p1, { records: 3, entries: 4, redactions: 0, format: 'tar' })
  const archive1 = await download(p1)
  const bytes1 = readFileSync(archive1)
  t.equal(sha256(bytes1), p1.archiveSha256, 'the archive is the one recorded')
  const members = tarMembers(bytes1)
  t.same([...members.keys()], ['manifest.json', 'README.txt', 'public-keys.txt', 'checkpoint.txt', 'entries.jsonl', 'records.jsonl', 'records.csv', 'records.html', 'redactions.jsonl'])
  const manifestBytes = bytes1.subarray(members.get('manifest.json')!.offset, members.get('manifest.json')!.offset + members.get('manifest.json')!.size)
  t.equal(sha256(manifestBytes), p1.manifestSha256)

  const ok = await run(tsx, ['scripts/verify.ts', archive1, '--key', trusted, '--manifest-sha256', p1.manifestSha256], { cwd: PROJECT_ROOT })
  t.match(ok.stdout, /OK: FOIA production of 3 record\(s\): 4 ledger entries proven against the signed tree of size \d+, 0 redacted/)

  const html = bytes1.subarray(members.get('records.html')!.offset, members.get('records.html')!.offset + members.get('records.html')!.size).toString('utf8')
  t.match(html, /&lt;b&gt;great&lt;\/b&gt;/, 'HTML escapes what people wrote')
  t.notMatch(html, /<b>great<\/b>/)
  const csv = bytes1.subarray(members.get('records.csv')!.offset, members.get('records.csv')!.offset + members.get('records.csv')!.size).toString('utf8')
  t.match(csv, /Thank you for fixing the ""=SUM/, 'CSV quotes the comment text')

  t.test('the production is a fact in the ledger', async (t) => {
    await sealNow(app)
    const entry = await app.inject({ method: 'GET', url: `/v1/ledger/entries/${p1.ledgerEntryId}`, headers: auditor })
    t.equal(entry.statusCode, 200)
    const body = entry.json()
    t.equal(body.entry.kind, 'foia.production')
    t.equal(body.entry.subject, requestId)
    const payload = typeof body.entry.payload === 'string' ? JSON.parse(body.entry.payload) : body.entry.payload
    t.match(payload, { productionId: p1.id, manifestSha256: p1.manifestSha256, archiveSha256: p1.archiveSha256, records: 3 })
    t.ok(body.inclusion, 'sealed and provable')
  })

  t.test('one byte changed in each file of the archive is detected and named', async (t) => {
    for (const [name, { offset, size }] of members) {
      if (size === 0) continue // redactions.jsonl is empty here; the redacted production below changes it
      const tampered = Buffer.from(bytes1)
      const at = offset + Math.floor(size / 2)
      tampered[at] = tampered[at] === 0x30 ? 0x31 : 0x30
      const file = join(fresh(), 'tampered.tar')
      writeFileSync(file, tampered)
      const report = await verifyProductionArchive(file, { trustedKeys: [trusted] })
      t.notOk(report.ok, `${name}: a changed byte fails verification`)
      t.ok(
        report.problems.some((p) => p.item.startsWith(name) || (name === 'manifest.json' && /manifest says/.test(p.problem))),
        `${name}: named (${report.problems.map((p) => `${p.item}: ${p.problem}`).join(' | ')})`,
      )
    }
    const header = Buffer.from(bytes1)
    flipAt(header, members.get('records.csv')!.offset - 512 + 2)
    const file = join(fresh(), 'header.tar')
    writeFileSync(file, header)
    t.match(await verifyProductionArchive(file), { ok: false, problems: [{ problem: /checksum/ }] }, 'a changed tar header')

    const manifestChanged = Buffer.from(bytes1)
    const createdAt = manifestBytes.indexOf('"createdAt": "') + 16
    flipAt(manifestChanged, members.get('manifest.json')!.offset + createdAt)
    const changed = join(fresh(), 'manifest.tar')
    writeFileSync(changed, manifestChanged)
    t.match(
      await verifyProductionArchive(changed, { trustedKeys: [trusted], manifestSha256: p1.manifestSha256 }),
      { ok: false, problems: [{ item: 'manifest.json', problem: /ledger entry says/ }] },
      'any manifest byte, against the SHA-256 in the ledger entry',
    )

    const flipped = Buffer.from(bytes1)
    flipAt(flipped, members.get('records.jsonl')!.offset + 40)
    const broken = join(fresh(), 'broken.tar')
    writeFileSync(broken, flipped)
    const failed = await run(tsx, ['scripts/verify.ts', broken, '--key', trusted], { cwd: PROJECT_ROOT }).then(
      () => null,
      (e: { code: number; stdout: string }) => e,
    )
    t.equal(failed?.code, 1, 'npm run verify exits 1')
    t.match(failed?.stdout, /FAIL records\.jsonl: SHA-256 is/)
  })

  t.test('a forger who also rewrites the manifest is caught by the proofs', async (t) => {
    const dir = fresh()
    await extractTar(archive1, dir)
    const records = readFileSync(join(dir, 'records.jsonl'), 'utf8').replace('Washington Avenue', 'Washington Avenux')
    writeFileSync(join(dir, 'records.jsonl'), records)
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))
    for (const f of manifest.files) f.sha256 = sha256(readFileSync(join(dir, f.path)))
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest))
    const report = await verifyProduction(dir, { trustedKeys: [trusted] })
    t.notOk(report.ok)
    t.ok(report.problems.some((p) => /^records\.jsonl:\d+$/.test(p.item) && /payload differs from the one proven/.test(p.problem)), JSON.stringify(report.problems))
    // The same change in entries.jsonl too: the disclosed text no longer opens the commitment.
    writeFileSync(join(dir, 'entries.jsonl'), readFileSync(join(dir, 'entries.jsonl'), 'utf8').replace('Washington Avenue', 'Washington Avenux'))
    for (const f of manifest.files) f.sha256 = sha256(readFileSync(join(dir, f.path)))
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest))
    const both = await verifyProduction(dir, { trustedKeys: [trusted] })
    t.ok(both.problems.some((p) => /^entries\.jsonl:\d+$/.test(p.item) && /commits to/.test(p.problem)), JSON.stringify(both.problems))
  })

  // --- redactions -----------------------------------------------------------------------------
  const suggested = await app.inject({ method: 'POST', url: `/v1/foia/requests/${requestId}/redactions/suggestions`, headers: clerk })
  t.equal(suggested.statusCode, 200, suggested.body)
  t.match(suggested.json(), { scanned: 4 })
  const again = await app.inject({ method: 'POST', url: `/v1/foia/requests/${requestId}/redactions/suggestions`, headers: clerk })
  t.match(again.json(), { suggested: 0 }, 'a second scan suggests nothing twice')

  const blocked = await produce()
  t.equal(blocked.statusCode, 409)
  t.match(blocked.json(), { type: '/problems/foia-redactions-pending' })

  const list = await app.inject({ method: 'GET', url: `/v1/foia/requests/${requestId}/redactions?status=suggested`, headers: clerk })
  const suggestions = list.json().items as Array<{ id: string; text: string; category: string; path: string; citation: string; entryId: string; commentId: string }>
  t.same(
    suggestions.map((s) => `${s.category}:${s.text}`).sort(),
    [
      'address:1234 Elm Street',
      'email:jane.doe@example.org',
      'email:jane.doe@example.org',
      'email:jane.doe@example.org',
      'phone:(815) 555-0143',
      'phone:(815) 555-0143',
      'ssn:123-45-6789',
    ].sort(),
    'every private item in every version, the author e-mail of each version included',
  )
  t.ok(suggestions.every((s) => s.citation === '5 ILCS 140/7(1)(b)'))
  for (const s of suggestions) {
    const decided = await app.inject({ method: 'PATCH', url: `/v1/foia/requests/${requestId}/redactions/${s.id}`, headers: clerk, payload: { status: 'accepted' } })
    t.equal(decided.statusCode, 200, decided.body)
  }

  const phoneEntry = suggestions.find((s) => s.category === 'phone')!
  const badCitation = await app.inject({ method: 'POST', url: `/v1/foia/requests/${requestId}/redactions`, headers: clerk, payload: { entryId: phoneEntry.entryId, path: '/author/name', citation: 'privacy' } })
  t.equal(badCitation.statusCode, 400, 'an exemption must be cited')
  const overlap = await app.inject({ method: 'POST', url: `/v1/foia/requests/${requestId}/redactions`, headers: clerk, payload: { entryId: phoneEntry.entryId, path: phoneEntry.path, start: 0, end: 20, citation: '5 ILCS 140/7(1)(c)' } })
  t.equal(overlap.statusCode, 409, 'overlapping an accepted redaction')
  const notAttached = await app.inject({ method: 'POST', url: `/v1/foia/requests/${requestId}/redactions`, headers: clerk, payload: { entryId: p1.ledgerEntryId, path: '/requestId', citation: '5 ILCS 140/7(1)(c)' } })
  t.equal(notAttached.statusCode, 400, 'only entries of attached records')

  const { rows: versions } = await app.db.pool.query<{ id: string }>(`SELECT id::text FROM ledger_entry WHERE subject = $1 ORDER BY recorded_at, seq`, [withPhone])
  for (const v of versions) {
    const added = await app.inject({ method: 'POST', url: `/v1/foia/requests/${requestId}/redactions`, headers: clerk, payload: { entryId: v.id, path: '/author/name', category: 'other', citation: '5 ILCS 140/7(1)(c)', note: 'private individual' } })
    t.equal(added.statusCode, 201, added.body)
    t.match(added.json(), { status: 'accepted', source: 'clerk', text: 'Jane Q. Doe' })
  }

  const second = await produce()
  t.equal(second.statusCode, 201, second.body)
  const p2 = second.json()
  t.match(p2, { records: 3, entries: 4, redactions: 9 })
  const archive2 = await download(p2)
  const bytes2 = readFileSync(archive2)
  for (const text of PRIVATE) t.equal(bytes2.indexOf(text), -1, `"${text}" appears nowhere in the archive`)
  t.not(bytes2.indexOf('[REDACTED 5 ILCS 140/7(1)(b)]'), -1)
  t.not(bytes2.indexOf('Court St bridge'), -1, 'the rest of the text is produced')

  const verified = await run(tsx, ['scripts/verify.ts', archive2, '--key', trusted], { cwd: PROJECT_ROOT })
  t.match(verified.stdout, /OK: FOIA production of 3 record\(s\): 4 ledger entries proven .*, 3 redacted \(9 redaction\(s\)/)

  t.test('a changed byte in redactions.jsonl is detected too', async (t) => {
    const { offset, size } = tarMembers(bytes2).get('redactions.jsonl')!
    t.ok(size > 0)
    const tampered = Buffer.from(bytes2)
    flipAt(tampered, offset + Math.floor(size / 2))
    const file = join(fresh(), 'tampered.tar')
    writeFileSync(file, tampered)
    t.match(await verifyProductionArchive(file, { trustedKeys: [trusted] }), { ok: false, problems: [{ item: 'redactions.jsonl', problem: /SHA-256 is/ }] })
  })

  t.test('an auditor opens the redactions: commitments match and the original, with the salt the city keeps, opens the proven envelope', async (t) => {
    const dir = fresh()
    await extractTar(archive2, dir)
    const lines = readFileSync(join(dir, 'redactions.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; entryId: string; path: string; redactedStart: number; replacement: string; commitment: string })
    const envelopes = new Map(
      readFileSync(join(dir, 'entries.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { entry: { id: string; v: number; payloadCommitment: string }; payload: unknown; salt?: unknown; disclosure?: unknown }).map((l) => [l.entry.id, l]),
    )
    const records = readFileSync(join(dir, 'records.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { entries: Array<{ id: string; redacted: boolean; payload: unknown }> })
    const rows = await app.db.prisma.foiaRedaction.findMany({ where: { requestId, status: 'accepted' } })
    const { rows: originals } = await app.db.pool.query<{ id: string; payload: string; payload_salt: Buffer }>(`SELECT id::text, payload, payload_salt FROM ledger_entry WHERE subject = ANY($1)`, [[withPhone, withSsn, plain]])
    const stored = (id: string) => originals.find((o) => o.id === id)!
    const original = (id: string) => JSON.parse(stored(id).payload) as unknown
    let opened = 0
    for (const entry of records.flatMap((r) => r.entries).filter((e) => e.redacted)) {
      const line = envelopes.get(entry.id)!
      t.equal(line.entry.v, 2, 'a format 2 entry')
      t.notOk('payloadSha256' in line.entry, 'no unsalted hash of the content')
      t.notOk('salt' in line, 'the salt is not in the production')
      t.same(line.payload, entry.payload, 'entries.jsonl proves the payload records.jsonl shows')
      t.equal(checkDisclosure(line.payload, line.disclosure, line.entry.payloadCommitment).problem, null, 'its disclosure opens the commitment')
      for (const l of lines.filter((l) => l.entryId === entry.id)) {
        const row = rows.find((r) => r.id === l.id)!
        const text = (resolvePointer(original(entry.id), row.path) as string).slice(row.start, row.end)
        t.equal(commitment(Buffer.from(row.nonce), text), l.commitment, `${row.category} commitment opens with the city's nonce`)
      }
      t.equal(payloadCommitment(original(entry.id), stored(entry.id).payload_salt), line.entry.payloadCommitment, 'the original with its salt opens the proven envelope')
      opened++
    }
    t.equal(opened, 3)
    t.ok(originals.some((o) => o.payload.includes('123-45-6789')), 'the ledger keeps the original text')
    const check = await app.inject({ method: 'POST', url: '/v1/ledger/verify', headers: auditor })
    t.match(check.json(), { ok: true })
  })

  t.test('every FOIA read of records is in the access log, with exactly the records read', async (t) => {
    const attachedIds = [withPhone!, withSsn!, plain!].sort()
    const log = await app.db.prisma.accessLogEntry.findMany({ orderBy: { seq: 'asc' } })
    const of = (action: string) => log.filter((e) => e.action === action)
    const productions = of('foia.production')
    t.same(productions.map((e) => (e.query as { productionId: string }).productionId), [p1.id, p2.id], 'one entry per production')
    for (const e of productions) {
      t.same([...e.recordIds].sort(), attachedIds, 'a production logs every record it gave out')
      t.equal(e.count, 3)
      t.equal(e.actor, 'user:clerk-1')
    }
    const downloads = of('foia.production.download')
    t.ok(downloads.length >= 2, 'each download is logged')
    for (const e of downloads) t.same([...e.recordIds].sort(), attachedIds, "a download logs the production's records")
    t.same(downloads.map((e) => e.actor)[0], 'user:audit-1')
    const suggest = of('foia.redactions.suggest')
    t.ok(suggest.length >= 1)
    t.same([...suggest[0]!.recordIds].sort(), attachedIds, 'the scan read every attached record')
    const reads = of('foia.redactions.read')
    t.ok(reads.length >= 1, 'reading redactions (which show the original text) is logged')
    t.ok(reads.every((e) => e.recordIds.every((id) => attachedIds.includes(id))))
  })

  t.test('who may do what', async (t) => {
    const moderator = { authorization: `Bearer ${token('tst_moderator')}` }
    t.equal((await app.inject({ method: 'POST', url: `/v1/foia/requests/${requestId}/productions`, headers: auditor })).statusCode, 403, 'auditors read, never produce')
    t.equal((await app.inject({ method: 'GET', url: `/v1/foia/requests/${requestId}/productions/${p2.id}`, headers: auditor })).statusCode, 200)
    t.equal((await app.inject({ method: 'GET', url: p2.downloadUrl, headers: moderator })).statusCode, 403)
    t.equal((await app.inject({ method: 'GET', url: `/v1/foia/requests/${requestId}/redactions`, headers: moderator })).statusCode, 403)
    t.equal((await app.inject({ method: 'GET', url: p2.downloadUrl })).statusCode, 401)
    const listed = await app.inject({ method: 'GET', url: `/v1/foia/requests/${requestId}/productions`, headers: auditor })
    t.same(listed.json().items.map((p: { id: string }) => p.id), [p1.id, p2.id])
  })
})

t.test('a production waits for sealing, and refuses a request with nothing attached', async (t) => {
  const { app, token } = await testApp(t, { env: { FOIA_PRODUCTIONS_DIR: fresh(), FOIA_SEAL_WAIT_MS: '0', LEDGER_SEALER: 'off' } })
  const clerk = { authorization: `Bearer ${token('records_clerk')}` }
  const [id] = await websiteComments(app, [{ text: 'Unsealed for now' }])
  const created = await app.inject({ method: 'POST', url: '/v1/foia/requests', headers: clerk, payload: { requester: { name: 'A resident' }, receivedOn: '2026-11-16', description: 'x', commercial: false } })
  const requestId = created.json().id
  const empty = await app.inject({ method: 'POST', url: `/v1/foia/requests/${requestId}/productions`, headers: clerk })
  t.match(empty.json(), { status: 409, type: '/problems/foia-no-records' })
  await app.inject({ method: 'POST', url: `/v1/foia/requests/${requestId}/records`, headers: clerk, payload: { commentIds: [id] } })
  const unsealed = await app.inject({ method: 'POST', url: `/v1/foia/requests/${requestId}/productions`, headers: clerk })
  t.match(unsealed.json(), { status: 409, type: '/problems/foia-production-not-sealed', detail: /1 ledger entry .* not sealed/ })
})

t.test('each produced record says whether the tables agree with the ledger; its entries are the ledger\'s own', async (t) => {
  const { app, token } = await testApp(t, { env: { FOIA_PRODUCTIONS_DIR: fresh() } })
  const clerk = { authorization: `Bearer ${token('records_clerk')}` }
  const [altered, intact] = await websiteComments(app, [{ text: 'The Court St bridge is late again' }, { text: 'Thanks for the new bus shelter' }])
  await sealNow(app)
  // The runtime role changes the projection, not the ledger.
  await app.db.pool.query(`UPDATE comment SET status = 'deleted_by_author', current_text = 'nothing to see' WHERE id = $1`, [altered])
  const created = await app.inject({ method: 'POST', url: '/v1/foia/requests', headers: clerk, payload: { requester: { name: 'A resident' }, receivedOn: '2026-11-16', description: 'x', commercial: false } })
  const requestId = created.json().id
  await app.inject({ method: 'POST', url: `/v1/foia/requests/${requestId}/records`, headers: clerk, payload: { commentIds: [altered, intact] } })
  const production = await app.inject({ method: 'POST', url: `/v1/foia/requests/${requestId}/productions`, headers: clerk })
  t.equal(production.statusCode, 201, production.body)
  const archive = (await app.inject({ url: production.json().downloadUrl, headers: clerk })).rawPayload
  const members = tarMembers(archive)
  const file = (name: string) => archive.subarray(members.get(name)!.offset, members.get(name)!.offset + members.get(name)!.size).toString('utf8')
  const records = file('records.jsonl').trim().split('\n').map((l) => JSON.parse(l) as { commentId: string; ledgerVerified: boolean; divergentFields: string[]; status: string; entries: Array<{ payload: { text: string } }> })
  const byId = new Map(records.map((r) => [r.commentId, r]))
  t.match(byId.get(altered!), { status: 'deleted_by_author', ledgerVerified: false, divergentFields: ['currentText', 'status'], entries: [{ payload: { text: 'The Court St bridge is late again' } }] })
  t.match(byId.get(intact!), { ledgerVerified: true, divergentFields: [] })
  t.notMatch(file('records.jsonl'), /nothing to see/, 'the content produced is the ledger payload, not the altered table')
  t.match(file('records.html'), /DOES NOT AGREE: currentText, status/)
})
