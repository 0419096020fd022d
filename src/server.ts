import { pino } from 'pino'
import { buildApp, loggerOptions } from './app.js'
import { loadConfigOrExit } from './cli.js'
import { resolveDatabase } from './config.js'
import { startEmbedded, type EmbeddedDatabase } from './db/embedded.js'
import { ensureDatabaseExists, migrate } from './db/migrate.js'

const loaded = loadConfigOrExit()
// Messages before the app exists (embedded database, migrations) go through the same JSON logger.
const log = pino(loggerOptions(loaded) as pino.LoggerOptions)

let embedded: EmbeddedDatabase | null = null
if (loaded.embedded) {
  // The first line says it, so nobody mistakes an evaluation for a production setup.
  log.warn(
    { database: 'embedded', dataDir: loaded.embedded.dataDir },
    `running on the embedded PostgreSQL (PGlite) in ${loaded.embedded.dataDir}: for evaluation only, one process, not for production; set DATABASE_URL to use a PostgreSQL server`,
  )
}
let config
try {
  if (loaded.embedded) embedded = await startEmbedded(loaded.embedded.dataDir)
  config = resolveDatabase(loaded, embedded?.url)
  if (!embedded) await ensureDatabaseExists(config.migrationDatabaseUrl)
  await migrate(config.migrationDatabaseUrl, config.migrationsDir, (m) => log.info(m))
} catch (error) {
  log.fatal(`Cannot prepare the database: ${error instanceof Error ? error.message : String(error)}`)
  await embedded?.stop().catch(() => {})
  process.exit(1)
}

const app = await buildApp(config, { logger: loggerOptions(config) })
// Explicit timeouts: a slow or stalled client must not hold a connection forever.
app.server.requestTimeout = 30_000
app.server.headersTimeout = 10_000
app.server.keepAliveTimeout = 5_000

let closing = false
async function shutdown(signal: string) {
  if (closing) return
  closing = true
  app.log.info({ signal }, 'shutting down: no new connections, finishing in-flight requests')
  const force = setTimeout(() => {
    app.log.error('in-flight requests did not finish within 25 s; exiting')
    process.exit(1)
  }, 25_000)
  force.unref()
  try {
    await app.close()
    // After the app: the sealer and the worker finish their work on it first.
    await embedded?.stop()
    process.exit(0)
  } catch (error) {
    app.log.error({ err: error }, 'error while closing')
    process.exit(1)
  }
}
process.on('SIGTERM', () => void shutdown('SIGTERM'))
process.on('SIGINT', () => void shutdown('SIGINT'))

try {
  await app.listen({ host: config.host, port: config.port })
} catch (error) {
  app.log.fatal({ err: error }, 'cannot listen')
  process.exit(1)
}
