// `npm run ledger:reconcile [-- --batch-size N]`
// Checks every comment projection against the ledger (docs/ledger.md, "Reconciliation"), stores
// the result (GET /v1/ledger/status) and prints it: ids and field names, never content. Exits 1
// when anything diverges.
import { loadConfigOrExit, withDatabase } from '../src/cli.js'
import { systemClock } from '../src/ledger/append.js'
import { runReconciliation } from '../src/records/reconcile.js'
import { cliArgs } from '../src/cli-args.js'

const USAGE =
  'usage: npm run ledger:reconcile [-- --batch-size N]\n\nChecks every comment projection against the ledger, stores and prints the result (ids and field names, never content). Exits 1 when anything diverges.'
const { values } = cliArgs(USAGE, { options: { 'batch-size': { type: 'string' } } })
const batchSize = values['batch-size'] ? Number(values['batch-size']) : undefined
if (batchSize !== undefined && !(Number.isInteger(batchSize) && batchSize > 0)) {
  console.error(USAGE)
  process.exit(2)
}
const quiet = { info: () => {}, error: () => {} }
await withDatabase(loadConfigOrExit(), async (db) => {
  const report = await runReconciliation({ pool: db.pool, clock: systemClock, log: quiet }, { trigger: 'command', actor: 'system' }, batchSize ? { batchSize } : {})
  const seconds = (Date.parse(report.finishedAt) - Date.parse(report.startedAt)) / 1000
  console.log(
    `${report.ok ? 'OK' : 'DIVERGENT'}: ${report.commentsChecked} comments (${report.disposedComments} disposed), ${report.eventsChecked} events, ` +
      `${report.entriesChecked} ledger entries checked in ${seconds} s; ${report.divergenceCount} divergence(s) in ${report.divergentComments} comment(s) (reconciliation ${report.id})`,
  )
  for (const d of report.divergences) {
    const values = 'projection' in d ? ` (tables: ${d.projection ?? 'null'}; ledger: ${d.ledger ?? 'null'})` : ''
    console.log(`DIVERGES ${d.commentId} ${d.field}${d.eventId ? ` event ${d.eventId}` : ''}${d.ledgerEntryId ? ` entry ${d.ledgerEntryId}` : ''}${values}`)
  }
  if (!report.ok) process.exitCode = 1
})
