import { buildApp, loggerOptions } from './app.js'
import { loadConfigOrExit } from './cli.js'
import { ensureDatabaseExists, migrate } from './db/migrate.js'

const config = loadConfigOrExit()

try {
  await ensureDatabaseExists(config.migrationDatabaseUrl)
  await migrate(config.migrationDatabaseUrl, config.migrationsDir, (m) => console.log(m))
} catch (error) {
  console.error(`Cannot prepare the database: ${error instanceof Error ? error.message : String(error)}`)
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
