import { execFile } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { BUNDLE_FILES, verifyLedgerBundle, writeLedgerBundle, type Manifest } from '../../src/ledger/bundle.js'
import { sha256Hex } from '../../src/ledger/canonical-json.js'
import { PROJECT_ROOT } from '../../src/paths.js'
import { testApp } from '../helpers/app.js'
import { appendCommitted, sealNow } from '../factories/ledger.js'

const run = promisify(execFile)
const tsx = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx')
const fresh = () => mkdtempSync(join(tmpdir(), 'townsquare-bundle-'))

/** Flips one byte of a file at a position chosen by `pick` (so the file stays the same length). */
function flipByte(path: string, pick: (text: string) => number) {
  const bytes = readFileSync(path)
  const at = pick(bytes.toString('latin1'))
  bytes[at] = bytes[at] === 0x61 ? 0x62 : 0x61
  writeFileSync(path, bytes)
}

function rewriteManifest(dir: string) {
  const manifest = JSON.parse(readFileSync(join(dir, BUNDLE_FILES.manifest), 'utf8')) as Manifest
  for (const file of manifest.files) file.sha256 = sha256Hex(readFileSync(join(dir, file.path)))
  writeFileSync(join(dir, BUNDLE_FILES.manifest), JSON.stringify(manifest))
}

t.test('a bundle verifies offline, and one changed byte in any file is caught', async (t) => {
  const { app } = await testApp(t)
  const entries = await appendCommitted(app, 9)
  await sealNow(app)
  entries.push(...(await appendCommitted(app, 7)))
  await sealNow(app)
  entries.push(...(await appendCommitted(app, 11)))
  await sealNow(app)
  const trusted = [app.ledger.signingKey.verifierKey]

  const all = fresh()
  const manifest = await writeLedgerBundle(app.db.pool, all, { selection: { all: true } })
  t.match(manifest, { treeSize: 27, entries: 27 })
  t.same(await verifyLedgerBundle(all, { trustedKeys: trusted }), { ok: true, treeSize: 27, entriesVerified: 27, entriesDisposed: 0, checkpointsVerified: 3, problems: [] })

  const some = fresh()
  const chosen = [entries[0]!.id, entries[13]!.id, entries[26]!.id]
  t.match(await writeLedgerBundle(app.db.pool, some, { selection: { ids: chosen }, treeSize: 27 }), { entries: 3 })
  const lines = readFileSync(join(some, BUNDLE_FILES.entries), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
  t.same(lines.map((l) => l.entry.id), chosen)
  t.match(await verifyLedgerBundle(some, { trustedKeys: trusted }), { ok: true, entriesVerified: 3 })

  const older = fresh()
  t.match(await writeLedgerBundle(app.db.pool, older, { selection: { ids: [entries[0]!.id] }, treeSize: 9 }), { treeSize: 9, entries: 1 })
  t.match(await verifyLedgerBundle(older, { trustedKeys: trusted }), { ok: true, checkpointsVerified: 1 })

  const cases: Array<[string, string, (text: string) => number, RegExp]> = [
    ['entries.jsonl', 'a payload character', (s) => s.indexOf('Washington') + 3, /entries\.jsonl:\d+: entry .*payload hashes to/],
    ['entries.jsonl', 'an envelope field', (s) => s.indexOf('"actor":"platform:') + 20, /entries\.jsonl:\d+: entry .*not proven to be leaf/],
    ['entries.jsonl', 'a proof hash', (s) => s.indexOf('"inclusionProof":["') + 25, /entries\.jsonl:\d+: .*not proven/],
    ['checkpoint.txt', 'the signed root', (s) => s.split('\n').slice(0, 2).join('\n').length + 3, /checkpoint\.txt: signature does not verify/],
    ['checkpoints.jsonl', 'an earlier checkpoint', (s) => s.indexOf('"consistencyProof":["') + 25, /checkpoints\.jsonl:1: the tree of size 27 is not proven to extend/],
  ]
  for (const [file, what, pick, expected] of cases) {
    const dir = fresh()
    cpSync(all, dir, { recursive: true })
    flipByte(join(dir, file), pick)
    const plain = await verifyLedgerBundle(dir, { trustedKeys: trusted })
    t.notOk(plain.ok, `${what} changed in ${file}`)
    t.ok(plain.problems.some((p) => p.item === file && /SHA-256 is/.test(p.problem)), `the manifest catches ${file}`)
    // An attacker who also rewrites the manifest is still caught by the signatures and proofs.
    rewriteManifest(dir)
    const forged = await verifyLedgerBundle(dir, { trustedKeys: trusted })
    t.notOk(forged.ok, `${what} changed and the manifest rewritten`)
    t.ok(forged.problems.some((p) => expected.test(`${p.item}: ${p.problem}`)), `named: ${forged.problems.map((p) => `${p.item}: ${p.problem}`).join(' | ')}`)
  }

  const keys = fresh()
  cpSync(all, keys, { recursive: true })
  // After the second '+' (name+keyid+base64): the base64 itself may contain '+'.
  flipByte(join(keys, BUNDLE_FILES.keys), (s) => s.split('+').slice(0, 2).join('+').length + 10)
  rewriteManifest(keys)
  t.match(await verifyLedgerBundle(keys), { ok: false, problems: [{ item: 'public-keys.txt' }] }, 'a forged key in the bundle')
  t.match(await verifyLedgerBundle(keys, { trustedKeys: trusted }), { ok: true }, 'the trusted key is what counts')

  const manifestOnly = fresh()
  cpSync(all, manifestOnly, { recursive: true })
  flipByte(join(manifestOnly, BUNDLE_FILES.manifest), (s) => s.indexOf('"sha256": "') + 12)
  t.match(await verifyLedgerBundle(manifestOnly, { trustedKeys: trusted }), { ok: false, problems: [{ item: /\.(txt|jsonl)$/, problem: /the manifest says/ }] }, 'a changed manifest')

  t.test('npm run verify: exit 0 when intact, 1 naming the failing item', async (t) => {
    const ok = await run(tsx, ['scripts/verify.ts', all, '--key', trusted[0]!], { cwd: PROJECT_ROOT })
    t.match(ok.stdout, /OK: 27 entries and 3 checkpoint\(s\) verified against the signed tree of size 27/)
    const broken = fresh()
    cpSync(all, broken, { recursive: true })
    flipByte(join(broken, BUNDLE_FILES.entries), (s) => s.indexOf('Washington') + 3)
    const failed = await run(tsx, ['scripts/verify.ts', broken], { cwd: PROJECT_ROOT }).then(
      () => null,
      (e: { code: number; stdout: string }) => e,
    )
    t.equal(failed?.code, 1)
    t.match(failed?.stdout, /FAIL entries\.jsonl: SHA-256 is/)
    t.match(failed?.stdout, /FAIL entries\.jsonl:\d+: entry [0-9a-f-]+: payload hashes to/)
  })
})
