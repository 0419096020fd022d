// `npm run ledger:export -- --out <directory> [--entry <id> ...] [--tree-size N]`
// Writes a ledger bundle (all sealed entries, or the named ones) for offline verification.
import { parseArgs } from 'node:util'
import { ConfigError, loadConfig, loadDotEnv } from '../src/config.js'
import { createDatabase } from '../src/db/client.js'
import { devJwtSecret } from '../src/dev-secrets.js'
import { writeLedgerBundle } from '../src/ledger/bundle.js'

loadDotEnv()
const { values } = parseArgs({
  options: { out: { type: 'string' }, entry: { type: 'string', multiple: true }, 'tree-size': { type: 'string' } },
})
if (!values.out) {
  console.error('usage: npm run ledger:export -- --out <directory> [--entry <id> ...] [--tree-size N]')
  process.exit(2)
}
let config
try {
  config = loadConfig(process.env, { devJwtSecret: devJwtSecret(process.env.DATA_DIR || '.data') })
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error)
  process.exit(1)
}
const db = createDatabase(config.databaseUrl, { poolSize: 2 })
try {
  const manifest = await writeLedgerBundle(db.pool, values.out, {
    selection: values.entry ? { ids: values.entry } : { all: true },
    ...(values['tree-size'] ? { treeSize: Number(values['tree-size']) } : {}),
  })
  console.log(`wrote ${manifest.entries} entries proven against the checkpoint of size ${manifest.treeSize} to ${values.out}`)
} catch (error) {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
} finally {
  await db.close()
}
