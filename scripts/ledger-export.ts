// `npm run ledger:export -- --out <directory> [--entry <id> ...] [--tree-size N]`
// Writes a ledger bundle (all sealed entries, or the named ones) for offline verification.
import { parseArgs } from 'node:util'
import { loadConfigOrExit, withDatabase } from '../src/cli.js'
import { writeLedgerBundle } from '../src/ledger/bundle.js'

const { values } = parseArgs({
  options: { out: { type: 'string' }, entry: { type: 'string', multiple: true }, 'tree-size': { type: 'string' } },
})
if (!values.out) {
  console.error('usage: npm run ledger:export -- --out <directory> [--entry <id> ...] [--tree-size N]')
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
