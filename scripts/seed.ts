// `npm run db:seed`: loads the default comment policy and publishes it (idempotent).
import { ConfigError, loadConfig, loadDotEnv } from '../src/config.js'
import { createDatabase } from '../src/db/client.js'
import { inTransaction } from '../src/db/tx.js'
import { devJwtSecret } from '../src/dev-secrets.js'
import { systemClock } from '../src/ledger/append.js'
import { seedDefaultPolicy } from '../src/policy/seed.js'

loadDotEnv()
let config
try {
  config = loadConfig(process.env, { devJwtSecret: devJwtSecret(process.env.DATA_DIR || '.data') })
} catch (error) {
  console.error(error instanceof ConfigError ? error.message : error)
  process.exit(1)
}
const db = createDatabase(config.databaseUrl, { poolSize: 2 })
try {
  const result = await inTransaction(db.prisma, (tx) => seedDefaultPolicy(tx, systemClock))
  console.log(
    result.created
      ? `published version ${result.version} of the default policy (${result.policyId}), in force now`
      : `the default policy exists already (${result.policyId}); nothing changed`,
  )
} catch (error) {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
} finally {
  await db.close()
}
