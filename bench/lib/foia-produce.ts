// Child process of bench/foia-production.ts: one production through createProduction in a fresh
// process (as the service would run it), sampling this process's RSS and heap. Prints one JSON line.
import { createDatabase } from '../../src/db/client.js'
import { createProduction } from '../../src/foia/productions.js'
import { systemClock } from '../../src/ledger/append.js'
import { measureMemory } from './stats.js'

const [url, requestId, productionsDir] = process.argv.slice(2)
const database = createDatabase(url!, { poolSize: 4 })
await database.prisma.$queryRawUnsafe('SELECT 1') // load the query compiler before measuring
const { result: production, ms, startRss, peakRss, peakHeap } = await measureMemory(() =>
  createProduction({ pool: database.pool, prisma: database.prisma, clock: systemClock, productionsDir: productionsDir! }, requestId!, 'user:bench'),
)
await database.close()
console.log(JSON.stringify({ ms, startRss, peakRss, peakHeap, bytes: Number(production.archiveBytes), fileName: production.fileName }))
