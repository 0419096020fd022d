import { execFile } from 'node:child_process'
import { createHash, randomUUID } from 'node:crypto'
import { createWriteStream, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { commitment, resolvePointer } from '../../src/foia/redaction.js'
import { checkDisclosure, payloadCommitment } from '../../src/ledger/commitment.js'
import { extractTar, writeTar } from '../../src/foia/tar.js'
import { verifyLedgerBundle, writeLedgerBundle } from '../../src/ledger/bundle.js'
import { verifyProduction, verifyProductionArchive } from '../../src/foia/verify-production.js'
import { PROJECT_ROOT } from '../../src/paths.js'
import { testApp } from '../helpers/app.js'
import { sealNow } from '../factories/ledger.js'
import { manualClock } from '../factories/clock.js'
import { productionProof } from '../../src/foia/production-proof.js'
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
  const members = tarMembers(bytes1)
  t.same([...members.keys()], ['manifest.json', 'README.txt', 'public-keys.txt', 'checkpoint.txt', 'entries.jsonl', 'records.jsonl', 'records.csv', 'records.html', 'redactions.jsonl', 'not-produced.jsonl', 'production-proof.json'])
  t.match(p1, { status: 'complete', proofTreeSize: Number })
  const beforeProof = members.get('production-proof.json')!.offset - 512
  t.equal(sha256(Buffer.concat([bytes1.subarray(0, beforeProof), Buffer.alloc(1024)])), p1.archiveSha256, 'every byte before the proof is the archive recorded')
  const manifestBytes = bytes1.subarray(members.get('manifest.json')!.offset, members.get('manifest.json')!.offset + members.get('manifest.json')!.size)
  t.equal(sha256(manifestBytes), p1.manifestSha256)

  const ok = await run(tsx, ['scripts/verify.ts', archive1, '--key', trusted, '--manifest-sha256', p1.manifestSha256], { cwd: PROJECT_ROOT })
  t.match(ok.stdout, /OK: FOIA production of 3 record\(s\): 4 ledger entries proven against the signed tree of size \d+, 0 redacted/)
  const alone = await run(tsx, ['scripts/verify.ts', archive1, '--key', trusted], { cwd: PROJECT_ROOT })
  t.match(alone.stdout, /complete: its foia\.production entry \(leaf \d+\) is proven in the signed tree of size \d+ and commits to this manifest and every byte of the archive/, 'the key alone proves it complete')

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

  t.test('an attacker who rebuilds the archive and its manifest is caught by the key alone, with the file named', async (t) => {
    // The strongest forger short of the city's signing key: edits files, recomputes every hash
    // and count in the manifest, and writes a well-formed archive (same writer, same time).
    const forge = async (edit: (dir: string, manifest: { records: number; entries: number; files: Array<{ path: string; sha256: string; bytes: number }>; createdAt: string }) => void, extra: string[] = []) => {
      const dir = fresh()
      await extractTar(archive2, dir)
      const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'))
      edit(dir, manifest)
      for (const f of manifest.files) {
        const b = readFileSync(join(dir, f.path))
        Object.assign(f, { sha256: sha256(b), bytes: b.length })
      }
      writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n')
      const names = ['manifest.json', ...manifest.files.map((f: { path: string }) => f.path), ...extra, 'production-proof.json'].filter((n) => readdirSync(dir).includes(n))
      const out = join(fresh(), 'forged.tar')
      await writeTar(createWriteStream(out), names.map((n) => ({ name: n, path: join(dir, n), size: readFileSync(join(dir, n)).length })), new Date(manifest.createdAt))
      return out
    }
    const verifyAlone = async (archive: string) => {
      const failed = await run(tsx, ['scripts/verify.ts', archive, '--key', trusted], { cwd: PROJECT_ROOT }).then(
        (r) => ({ code: 0, stdout: r.stdout }),
        (e: { code: number; stdout: string }) => e,
      )
      return failed
    }
    const lines = (dir: string, name: string) => readFileSync(join(dir, name), 'utf8').split('\n').filter(Boolean)

    // 1. A record dropped from every file, the counts adjusted.
    const dropped = await forge((dir, manifest) => {
      const records = lines(dir, 'records.jsonl')
      const victim = JSON.parse(records[0]!) as { commentId: string; entries: Array<{ id: string }> }
      const ids = new Set(victim.entries.map((e) => e.id))
      writeFileSync(join(dir, 'records.jsonl'), records.slice(1).map((l) => l + '\n').join(''))
      writeFileSync(join(dir, 'entries.jsonl'), lines(dir, 'entries.jsonl').filter((l) => !ids.has(JSON.parse(l).entry.id)).map((l) => l + '\n').join(''))
      writeFileSync(join(dir, 'redactions.jsonl'), lines(dir, 'redactions.jsonl').filter((l) => !ids.has(JSON.parse(l).entryId)).map((l) => l + '\n').join(''))
      writeFileSync(join(dir, 'records.csv'), readFileSync(join(dir, 'records.csv'), 'utf8').split('\r\n').filter((l) => !l.startsWith(victim.commentId)).join('\r\n'))
      const html = readFileSync(join(dir, 'records.html'), 'utf8')
      const from = html.indexOf(`<article class="record" id="comment-${victim.commentId}">`)
      writeFileSync(join(dir, 'records.html'), html.slice(0, from) + html.slice(html.indexOf('</article>\n', from) + '</article>\n'.length))
      const m = manifest as unknown as { records: number; entries: number; redactions: number }
      m.records -= 1
      m.entries -= ids.size
      m.redactions = lines(dir, 'redactions.jsonl').length
    })
    const droppedReport = await verifyProductionArchive(dropped, { trustedKeys: [trusted] })
    t.notOk(droppedReport.ok, 'a dropped record fails')
    t.ok(droppedReport.problems.some((p) => p.item === 'manifest.json' && /records is 2, the production's proven ledger entry says 3/.test(p.problem)), JSON.stringify(droppedReport.problems))
    const droppedRun = await verifyAlone(dropped)
    t.equal(droppedRun.code, 1, 'npm run verify exits 1 with only the key')
    t.match(droppedRun.stdout, /FAIL manifest\.json: SHA-256 is [0-9a-f]{64}, the production's proven ledger entry commits to/)

    // 2. A redacted entry's visible text changed at the same length.
    const altered = await forge((dir) => {
      const swap = (name: string) => writeFileSync(join(dir, name), readFileSync(join(dir, name), 'utf8').replaceAll('about the Court St bridge, please', 'about the Court St bridge, plebs!'))
      for (const name of ['records.jsonl', 'records.csv', 'records.html']) swap(name)
    })
    const alteredReport = await verifyProductionArchive(altered, { trustedKeys: [trusted] })
    t.notOk(alteredReport.ok, 'a redacted text changed at equal length fails')
    t.ok(alteredReport.problems.some((p) => p.item === 'manifest.json' && /proven ledger entry commits to/.test(p.problem)), JSON.stringify(alteredReport.problems))
    t.ok(alteredReport.problems.some((p) => p.item === 'archive'), 'and the archive is not the recorded one')
    t.match((await verifyAlone(altered)).stdout, /FAIL manifest\.json: SHA-256 is/)

    // 3. An extra file in the archive, and the same file in an extracted folder.
    const withExtra = await forge((dir) => writeFileSync(join(dir, 'notes.txt'), 'the city also said this'), ['notes.txt'])
    const extraReport = await verifyProductionArchive(withExtra, { trustedKeys: [trusted] })
    t.ok(extraReport.problems.some((p) => p.item === 'notes.txt' && /not in its manifest/.test(p.problem)), JSON.stringify(extraReport.problems))
    t.match((await verifyAlone(withExtra)).stdout, /FAIL notes\.txt: is in the bundle but not in its manifest/)

    // 3b. A withheld run relabelled under another redaction id in entries.jsonl: the commitment still
    // opens (ids are not hashed), so only the ids read from the disclosure, matched against
    // redactions.jsonl, catch it.
    const relabelled = await forge((dir) => {
      const out = lines(dir, 'entries.jsonl').map((l) => {
        const line = JSON.parse(l) as { disclosure?: Record<string, { parts?: Array<{ redaction?: string }> }> }
        for (const node of Object.values(line.disclosure ?? {})) for (const part of node.parts ?? []) if (part.redaction) part.redaction = '00000000-0000-4000-8000-000000000000'
        return JSON.stringify(line) + '\n'
      })
      writeFileSync(join(dir, 'entries.jsonl'), out.join(''))
    })
    const relabelledReport = await verifyProductionArchive(relabelled, { trustedKeys: [trusted] })
    t.notOk(relabelledReport.ok, 'a withheld run relabelled fails')
    t.ok(relabelledReport.problems.some((p) => /text withheld under redaction 00000000-0000-4000-8000-000000000000, which redactions\.jsonl does not list for it/.test(p.problem)), JSON.stringify(relabelledReport.problems))
    t.ok(relabelledReport.problems.some((p) => /withholds nothing in the disclosure/.test(p.problem)), 'and the listed redaction withholds nothing')
    t.notOk(relabelledReport.problems.some((p) => p.item.startsWith('entries.jsonl:') && /commits to/.test(p.problem)), 'while every disclosure still opens its commitment')

    // 4. The proof removed, or taken from the city's other production of the same request.
    const noProof = await forge((dir) => rmSync(join(dir, 'production-proof.json')))
    t.match(await verifyProductionArchive(noProof, { trustedKeys: [trusted] }), { ok: false, problems: [{ item: 'production-proof.json', problem: /missing/ }] })
    const otherProof = join(fresh(), 'proof.json')
    {
      const d = fresh()
      await extractTar(archive1, d)
      writeFileSync(otherProof, readFileSync(join(d, 'production-proof.json')))
    }
    const swapped = await forge((dir) => writeFileSync(join(dir, 'production-proof.json'), readFileSync(otherProof)))
    const swappedReport = await verifyProductionArchive(swapped, { trustedKeys: [trusted] })
    t.notOk(swappedReport.ok, "another production's proof does not fit")
    t.ok(swappedReport.problems.some((p) => p.item === 'production-proof.json' || (p.item === 'manifest.json' && /productionId/.test(p.problem))), JSON.stringify(swappedReport.problems))

    // 4b. A downgrade to format 1 (before productions carried their proof), proof removed, record dropped.
    const downgraded = await forge((dir, manifest) => {
      ;(manifest as unknown as { format: string }).format = 'townsquare-foia-production/1'
      rmSync(join(dir, 'production-proof.json'))
    })
    t.match(
      await verifyProductionArchive(downgraded, { trustedKeys: [trusted] }),
      { ok: false, problems: [{ item: 'manifest.json', problem: /carries no proof of its own ledger entry: give --manifest-sha256/ }] },
      'a format-1 production verifies only against a manifest hash the verifier is given',
    )

    // 5. A lying header: a manifest hash given by a compromised server changes nothing.
    const lied = await verifyProductionArchive(altered, { trustedKeys: [trusted], manifestSha256: alteredReport.manifestSha256! })
    t.notOk(lied.ok, 'a forged archive with a matching forged X-Manifest-SHA256 still fails')

    // 6. Bytes the manifest does not cover: tar end padding, member padding.
    const end = Buffer.from(bytes2)
    flipAt(end, end.length - 1)
    const endFile = join(fresh(), 'end.tar')
    writeFileSync(endFile, end)
    const endReport = await verifyProductionArchive(endFile, { trustedKeys: [trusted] })
    t.match(endReport, { ok: false, problems: [{ item: 'end.tar', problem: /two zero blocks/ }] }, 'a changed byte in the end padding fails')
    const members2 = tarMembers(bytes2)
    const csvMember = members2.get('records.csv')!
    t.ok(csvMember.size % 512 !== 0, 'records.csv has padding after it')
    const pad = Buffer.from(bytes2)
    flipAt(pad, csvMember.offset + csvMember.size)
    const padFile = join(fresh(), 'pad.tar')
    writeFileSync(padFile, pad)
    t.match(await verifyProductionArchive(padFile, { trustedKeys: [trusted] }), { ok: false, problems: [{ problem: /records\.csv: the padding after it/ }] }, 'a changed padding byte fails')
    const appended = join(fresh(), 'appended.tar')
    writeFileSync(appended, Buffer.concat([bytes2, Buffer.alloc(512)]))
    t.match(await verifyProductionArchive(appended, { trustedKeys: [trusted] }), { ok: false }, 'a block appended after the end fails')
    const mtime = Buffer.from(bytes2)
    const header = csvMember.offset - 512
    mtime.write('X', header + 265, 'ascii') // another owner name (no file's content), checksum fixed
    let sum = 0
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : mtime[header + i]!
    mtime.write(sum.toString(8).padStart(6, '0') + '\0 ', header + 148, 'ascii')
    const mtimeFile = join(fresh(), 'owner.tar')
    writeFileSync(mtimeFile, mtime)
    t.match(await verifyProductionArchive(mtimeFile, { trustedKeys: [trusted] }), { ok: false, problems: [{ problem: /records\.csv: its header/ }] }, 'a header field outside the checksum-only check fails')
  })

  t.test('the ledger bundle verifier refuses an unknown file too', async (t) => {
    const dir = join(fresh(), 'bundle')
    await writeLedgerBundle(app.db.pool, dir, { selection: { all: true } })
    t.match(await verifyLedgerBundle(dir, { trustedKeys: [trusted] }), { ok: true })
    writeFileSync(join(dir, 'extra.jsonl'), '{}\n')
    t.match(await verifyLedgerBundle(dir, { trustedKeys: [trusted] }), { ok: false, problems: [{ item: 'extra.jsonl', problem: /not in its manifest/ }] })
  })

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

t.test('a production is never served before the proof of its own entry exists: 409 with Retry-After, then the complete archive', async (t) => {
  let paused = false
  const { app, token } = await testApp(t, { env: { FOIA_PRODUCTIONS_DIR: fresh(), LEDGER_CHECKPOINT_INTERVAL_MS: '60000' } })
  // The sealer of this instance, held back on demand (as when another instance seals, or a backlog).
  const sealer = app.ledger.sealer!
  const real = sealer.sealNow.bind(sealer)
  sealer.sealNow = () => (paused ? Promise.resolve(null) : real())
  const clerk = { authorization: `Bearer ${token('records_clerk')}` }
  const [id] = await websiteComments(app, [{ text: 'Please plow Court Street' }])
  await sealNow(app)
  const created = await app.inject({ method: 'POST', url: '/v1/foia/requests', headers: clerk, payload: { requester: { name: 'A resident' }, receivedOn: '2026-11-16', description: 'x', commercial: false } })
  const requestId = created.json().id
  await app.inject({ method: 'POST', url: `/v1/foia/requests/${requestId}/records`, headers: clerk, payload: { commentIds: [id] } })
  paused = true
  const produced = await app.inject({ method: 'POST', url: `/v1/foia/requests/${requestId}/productions`, headers: clerk })
  t.equal(produced.statusCode, 201, produced.body)
  const p = produced.json()
  t.match(p, { status: 'sealing', proofTreeSize: null }, 'recorded, not complete')
  const early = await app.inject({ method: 'GET', url: p.downloadUrl, headers: clerk })
  t.equal(early.statusCode, 409)
  t.equal(early.headers['retry-after'], '60', 'Retry-After: one checkpoint interval')
  t.match(early.json(), { type: '/problems/foia-production-sealing' })
  t.equal(await app.db.prisma.accessLogEntry.count({ where: { action: 'foia.production.download' } }), 0, 'nothing was handed out')

  paused = false
  const late = await app.inject({ method: 'GET', url: p.downloadUrl, headers: clerk })
  t.equal(late.statusCode, 200, 'the download asks for a sealing pass, then serves the complete archive')
  t.match((await app.inject({ method: 'GET', url: `/v1/foia/requests/${requestId}/productions/${p.id}`, headers: clerk })).json(), { status: 'complete', proofTreeSize: Number })
  const file = join(fresh(), 'p.tar')
  writeFileSync(file, late.rawPayload)
  t.match(await verifyProductionArchive(file, { trustedKeys: [app.ledger.signingKey.verifierKey] }), { ok: true, records: 1, proven: { leafIndex: Number } })
  const again = await app.inject({ method: 'GET', url: p.downloadUrl, headers: clerk })
  t.same(again.rawPayload, late.rawPayload, 'every download is the same bytes')
})

t.test("a production's proof is against the first checkpoint of its size, so it is the same bytes after a fresh checkpoint of that tree", async (t) => {
  const start = new Date('2026-11-16T10:00:00Z')
  const clock = manualClock(start)
  const { app, token } = await testApp(t, { clock, env: { FOIA_PRODUCTIONS_DIR: fresh() } })
  const clerk = { authorization: `Bearer ${token('records_clerk')}` }
  const [id] = await websiteComments(app, [{ text: 'Please plow Court Street' }])
  const created = await app.inject({ method: 'POST', url: '/v1/foia/requests', headers: clerk, payload: { requester: { name: 'A resident' }, receivedOn: '2026-11-16', description: 'x', commercial: false } })
  const requestId = created.json().id
  await app.inject({ method: 'POST', url: `/v1/foia/requests/${requestId}/records`, headers: clerk, payload: { commentIds: [id] } })
  await sealNow(app)
  t.equal((await app.inject({ method: 'POST', url: `/v1/foia/requests/${requestId}/productions`, headers: clerk })).statusCode, 201)
  await sealNow(app)
  const production = await app.db.prisma.foiaProduction.findFirstOrThrow({ where: { requestId } })
  const first = await productionProof(app.db.pool, production)
  t.ok(first, 'sealed: the proof exists')
  // Two hours with nothing appended: the sealer signs the same tree again (LEDGER_MAX_CHECKPOINT_AGE).
  const size = Number((await app.db.pool.query<{ n: string }>('SELECT max(tree_size)::text AS n FROM ledger_checkpoint')).rows[0]!.n)
  await clock.set(new Date(start.getTime() + 2 * 3_600_000))
  await sealNow(app)
  t.equal(Number((await app.db.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM ledger_checkpoint WHERE tree_size = $1', [size])).rows[0]!.n), 2, 'a fresh checkpoint of the same tree')
  t.same(await productionProof(app.db.pool, production), first, 'the same proof, checkpoint note included')
})

t.test('a record withheld in full is listed as withheld with its exemption, and none of it is produced', async (t) => {
  const { app, token } = await testApp(t, { env: { FOIA_PRODUCTIONS_DIR: fresh() } })
  const clerk = { authorization: `Bearer ${token('records_clerk', 'clerk-w')}` }
  const [kept, secret] = await websiteComments(app, [{ text: 'The bridge opens Monday' }, { text: 'Zqxw private matter about my neighbour' }])
  await sealNow(app)
  const created = await app.inject({ method: 'POST', url: '/v1/foia/requests', headers: clerk, payload: { requester: { name: 'A resident' }, receivedOn: '2026-11-16', description: 'x', commercial: false } })
  const requestId = created.json().id
  await app.inject({ method: 'POST', url: `/v1/foia/requests/${requestId}/records`, headers: clerk, payload: { commentIds: [kept, secret] } })
  const withhold = (citation: string) =>
    app.inject({ method: 'PUT', url: `/v1/foia/requests/${requestId}/records/${secret}/withholding`, headers: clerk, payload: { citation, note: 'an unwarranted invasion of a private person' } })
  t.equal((await withhold('privacy')).statusCode, 400, 'an exemption must be cited')
  const withheld = await withhold('5 ILCS 140/7(1)(c)')
  t.equal(withheld.statusCode, 200, withheld.body)
  t.match(withheld.json(), { commentId: secret, withheld: true, citation: '5 ILCS 140/7(1)(c)', decidedBy: 'user:clerk-w' })
  t.equal((await app.inject({ method: 'PUT', url: `/v1/foia/requests/${requestId}/records/${randomUUID()}/withholding`, headers: clerk, payload: { citation: '5 ILCS 140/7(1)(c)' } })).statusCode, 404, 'only attached records')
  const listed = (await app.inject({ method: 'GET', url: `/v1/foia/requests/${requestId}/records`, headers: clerk })).json().items
  t.match(listed.find((r: { commentId: string }) => r.commentId === secret), { withheld: { citation: '5 ILCS 140/7(1)(c)' } })

  const production = await app.inject({ method: 'POST', url: `/v1/foia/requests/${requestId}/productions`, headers: clerk })
  t.equal(production.statusCode, 201, production.body)
  t.match(production.json(), { records: 1, status: 'complete' })
  const archive = (await app.inject({ method: 'GET', url: production.json().downloadUrl, headers: clerk })).rawPayload
  t.equal(archive.indexOf('Zqxw'), -1, 'nothing of the withheld record is in the archive')
  const members = tarMembers(archive)
  const file = (name: string) => archive.subarray(members.get(name)!.offset, members.get(name)!.offset + members.get(name)!.size).toString('utf8')
  t.same(file('not-produced.jsonl').trim().split('\n').map((l) => JSON.parse(l)), [{ commentId: secret, status: 'withheld', citation: '5 ILCS 140/7(1)(c)', note: 'an unwarranted invasion of a private person' }])
  t.match(JSON.parse(file('manifest.json')), { records: 1, withheld: 1, disposed: 0 })
  const tarFile = join(fresh(), 'p.tar')
  writeFileSync(tarFile, archive)
  t.match(await verifyProductionArchive(tarFile, { trustedKeys: [app.ledger.signingKey.verifierKey] }), { ok: true, records: 1 })

  // Released: the next production gives it.
  const released = await app.inject({ method: 'DELETE', url: `/v1/foia/requests/${requestId}/records/${secret}/withholding`, headers: clerk })
  t.match(released.json(), { withheld: false, citation: null })
  const again = await app.inject({ method: 'POST', url: `/v1/foia/requests/${requestId}/productions`, headers: clerk })
  t.match(again.json(), { records: 2 })
})
