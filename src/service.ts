// Starting the service: the database (embedded or a server), migrations, the app, listening.
// Shared by src/server.ts (npm start) and scripts/demo.ts (npm run demo).
import type { FastifyInstance } from 'fastify'
import { pino } from 'pino'
import { buildApp, loggerOptions } from './app.js'
import { resolveDatabase, type Config, type LoadedConfig } from './config.js'
import { startEmbedded, type EmbeddedDatabase } from './db/embedded.js'
import { ensureDatabaseExists, migrate } from './db/migrate.js'

export interface Service {
  app: FastifyInstance
  config: Config
  embedded: EmbeddedDatabase | null
  /** Stops listening, finishes in-flight requests, the sealer and jobs, then the embedded database. */
  close(): Promise<void>
}

/** Prepares the database and builds the app; throws with a message fit for the log when it cannot. */
export async function startService(loaded: LoadedConfig): Promise<Service> {
  // Messages before the app exists (embedded database, migrations) go through the same JSON logger.
  const log = pino(loggerOptions(loaded) as pino.LoggerOptions)
  let embedded: EmbeddedDatabase | null = null
  if (loaded.embedded) {
    // The first line says it, so nobody mistakes an evaluation for a production setup.
    log.warn(
      { database: 'embedded', dataDir: loaded.embedded.dataDir },
      `running on the embedded PostgreSQL in ${loaded.embedded.dataDir}: for evaluation only (one machine, no backups), not for production; set DATABASE_URL to use a PostgreSQL server`,
    )
  }
  let config: Config
  try {
    if (loaded.embedded) embedded = await startEmbedded({ ...loaded.embedded, log: (m) => log.info(m) })
    config = resolveDatabase(loaded, embedded ?? undefined)
    if (!embedded) await ensureDatabaseExists(config.migrationDatabaseUrl)
    await migrate(config.migrationDatabaseUrl, config.migrationsDir, (m) => log.info(m))
  } catch (error) {
    await embedded?.stop().catch(() => {})
    throw new Error(`Cannot prepare the database: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
  }

  const app = await buildApp(config, { logger: loggerOptions(config) })
  // Explicit timeouts: a slow or stalled client must not hold a connection forever.
  app.server.requestTimeout = 30_000
  app.server.headersTimeout = 10_000
  app.server.keepAliveTimeout = 5_000
  try {
    await app.listen({ host: config.host, port: config.port })
  } catch (error) {
    await app.close().catch(() => {})
    await embedded?.stop().catch(() => {})
    throw new Error(`Cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`, { cause: error })
  }
  return {
    app,
    config,
    embedded,
    async close() {
      await app.close()
      // After the app: the sealer and the worker finish their work on it first.
      await embedded?.stop()
    },
  }
}
