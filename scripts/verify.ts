// `npm run verify -- <directory or production.tar> [--key <verifier key or file>] [--manifest-sha256 <hex>]`
// Verifies a ledger bundle or a FOIA production (a directory or its .tar archive) offline: files and
// a public key, no server. Exits 0 when everything verifies, 1 naming each failing item, 2 on usage errors.
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { BUNDLE_FILES, FOIA_PRODUCTION_FORMAT, FOIA_PRODUCTION_FORMAT_1, verifyLedgerBundle } from '../src/ledger/bundle.js'
import { verifyProduction, verifyProductionArchive } from '../src/foia/verify-production.js'
import { cliArgs } from '../src/cli-args.js'

const USAGE =
  'usage: npm run verify -- <directory or production .tar> [--key <signed-note verifier key, or a file of them>] [--manifest-sha256 <hex>]\n\n' +
  'Verifies a ledger bundle or a FOIA production offline. Exits 0 when everything verifies, 1 naming each failing item, 2 on usage errors.'
const { values, positionals } = cliArgs(USAGE, {
  allowPositionals: true,
  options: { key: { type: 'string', multiple: true }, 'manifest-sha256': { type: 'string' } },
})
const target = positionals[0]
if (!target || positionals.length > 1 || !existsSync(target)) {
  console.error(USAGE)
  process.exit(2)
}
const trustedKeys = values.key?.flatMap((k) => (existsSync(k) ? readFileSync(k, 'utf8').split('\n') : [k]))
const options = { ...(trustedKeys ? { trustedKeys } : {}), ...(values['manifest-sha256'] ? { manifestSha256: values['manifest-sha256'] } : {}) }

const isDirectory = statSync(target).isDirectory()
const format = isDirectory ? readFormat(join(target, BUNDLE_FILES.manifest)) : FOIA_PRODUCTION_FORMAT
if (!trustedKeys) {
  console.log(
    'note: checked against the key that signed the bundle\'s checkpoint (and the keys it endorsed or was endorsed by); ' +
      'pass --key with the city\'s published key (GET /v1/ledger/public-key, verifierKey) to trust nothing in it',
  )
}
if (format === FOIA_PRODUCTION_FORMAT || format === FOIA_PRODUCTION_FORMAT_1) {
  const report = isDirectory ? await verifyProduction(target, options) : await verifyProductionArchive(target, options)
  for (const p of report.problems) console.log(`FAIL ${p.item}: ${p.problem}`)
  if (report.ok && isDirectory) {
    console.log('note: a folder was checked, not the archive: the bytes of the tar itself (headers, padding) were not; verify the .tar to check every byte')
  }
  console.log(
    report.ok
      ? `OK: FOIA production of ${report.records} record(s): ${report.entriesVerified} ledger entries proven against the signed tree of size ${report.treeSize}, ${report.redactedEntries} redacted (${report.redactions} redaction(s), each with its exemption and a commitment)` +
          (report.proven
            ? `; complete: its foia.production entry (leaf ${report.proven.leafIndex}) is proven in the signed tree of size ${report.proven.treeSize} and commits to this manifest${isDirectory ? '' : ' and every byte of the archive'}`
            : '; its manifest matched the given --manifest-sha256')
      : `FAILED: ${report.problems.length} problem(s); ${report.entriesVerified} entries verified`,
  )
  process.exit(report.ok ? 0 : 1)
}

const report = await verifyLedgerBundle(target, trustedKeys ? { trustedKeys } : {})
for (const p of report.problems) console.log(`FAIL ${p.item}: ${p.problem}`)
console.log(
  report.ok
    ? `OK: ${report.entriesVerified} entries and ${report.checkpointsVerified} checkpoint(s) verified against the signed tree of size ${report.treeSize}` +
        (report.entriesDisposed > 0 ? ` (${report.entriesDisposed} with payloads destroyed by a recorded disposal)` : '')
    : `FAILED: ${report.problems.length} problem(s); ${report.entriesVerified} entries verified`,
)
process.exit(report.ok ? 0 : 1)

function readFormat(path: string): string | null {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { format?: string }).format ?? null
  } catch {
    return null // verifyLedgerBundle names the problem
  }
}
