// `npm run verify -- <directory> [--key <verifier key or file>]`
// Verifies a ledger bundle or FOIA production offline: files and a public key, no server.
// Exits 0 when everything verifies, 1 naming each failing item, 2 on usage errors.
import { existsSync, readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { verifyLedgerBundle } from '../src/ledger/bundle.js'

const { values, positionals } = parseArgs({ allowPositionals: true, options: { key: { type: 'string', multiple: true } } })
const dir = positionals[0]
if (!dir || positionals.length > 1) {
  console.error('usage: npm run verify -- <directory> [--key <signed-note verifier key, or a file of them>]')
  process.exit(2)
}
const trustedKeys = values.key?.flatMap((k) => (existsSync(k) ? readFileSync(k, 'utf8').split('\n') : [k]))
const report = await verifyLedgerBundle(dir, trustedKeys ? { trustedKeys } : {})
if (!trustedKeys) {
  console.log('note: checked against the keys inside the bundle; pass --key with the city\'s published key (GET /v1/ledger/public-key, verifierKey) to trust nothing in it')
}
for (const p of report.problems) console.log(`FAIL ${p.item}: ${p.problem}`)
console.log(
  report.ok
    ? `OK: ${report.entriesVerified} entries and ${report.checkpointsVerified} checkpoint(s) verified against the signed tree of size ${report.treeSize}` +
        (report.entriesDisposed > 0 ? ` (${report.entriesDisposed} with payloads destroyed by a recorded disposal)` : '')
    : `FAILED: ${report.problems.length} problem(s); ${report.entriesVerified} entries verified`,
)
process.exit(report.ok ? 0 : 1)
