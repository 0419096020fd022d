// `npm run db:seed`: loads the default comment policy and publishes it (idempotent).
import { loadConfigOrExit, withDatabase } from '../src/cli.js'
import { inTransaction } from '../src/db/tx.js'
import { systemClock } from '../src/ledger/append.js'
import { seedDefaultPolicy } from '../src/policy/seed.js'
import { cliArgs } from '../src/cli-args.js'

cliArgs('usage: npm run db:seed\n\nLoads the default comment policy and publishes it, in force now (idempotent).', { options: {} })

await withDatabase(loadConfigOrExit(), async (db) => {
  const result = await inTransaction(db.prisma, (tx) => seedDefaultPolicy(tx, systemClock))
  console.log(
    result.created
      ? `published version ${result.version} of the default policy (${result.policyId}), in force now`
      : `the default policy exists already (${result.policyId}); nothing changed`,
  )
})
