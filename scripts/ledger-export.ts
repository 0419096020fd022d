// `npm run ledger:export -- --out <directory> [--entry <id> ...] [--tree-size N]`
// Writes a ledger bundle (all sealed entries, or the named ones) for offline verification.
import { loadConfigOrExit, withDatabase } from '../src/cli.js'
import { writeLedgerBundle } from '../src/ledger/bundle.js'
import { cliArgs } from '../src/cli-args.js'

const USAGE = 'usage: npm run ledger:export -- --out <directory> [--entry <id> ...] [--tree-size N]\n\nWrites a ledger bundle (all sealed entries, or the named ones) for offline verification (npm run verify).'
const { values } = cliArgs(USAGE, {
  options: { out: { type: 'string' }, entry: { type: 'string', multiple: true }, 'tree-size': { type: 'string' } },
})
if (!values.out) {
  console.error(USAGE)
  process.exit(2)
}
const out = values.out
await withDatabase(loadConfigOrExit(), async (db) => {
  const manifest = await writeLedgerBundle(db.pool, out, {
    selection: values.entry ? { ids: values.entry } : { all: true },
    ...(values['tree-size'] ? { treeSize: Number(values['tree-size']) } : {}),
  })
  console.log(`wrote ${manifest.entries} entries proven against the checkpoint of size ${manifest.treeSize} to ${out}`)
})
