// Child process of bench/foia-production.ts: one production through createProduction in a fresh
// process (as the service would run it), sampling this process's RSS and heap. Prints one JSON line.
import { createDatabase } from '../../src/db/client.js'
import { createProduction } from '../../src/foia/productions.js'
import { systemClock } from '../../src/ledger/append.js'

const [url, requestId, productionsDir] = process.argv.slice(2)
const database = createDatabase(url!, { poolSize: 4 })
await database.prisma.$queryRawUnsafe('SELECT 1') // load the query compiler before measuring
const startRss = process.memoryUsage().rss
let peakRss = startRss
let peakHeap = process.memoryUsage().heapUsed
const sampler = setInterval(() => {
  const m = process.memoryUsage()
  peakRss = Math.max(peakRss, m.rss)
  peakHeap = Math.max(peakHeap, m.heapUsed)
}, 20)
const start = performance.now()
const production = await createProduction({ pool: database.pool, prisma: database.prisma, clock: systemClock, productionsDir: productionsDir! }, requestId!, 'user:bench')
const ms = performance.now() - start
clearInterval(sampler)
await database.close()
console.log(JSON.stringify({ ms, startRss, peakRss, peakHeap, bytes: Number(production.archiveBytes), fileName: production.fileName }))
