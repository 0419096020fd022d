// What every command-line entry point (server, scripts) does first.
import { ConfigError, loadConfig, loadDotEnv, resolveDatabase, type Config, type LoadedConfig } from './config.js'
import { createDatabase, type Database } from './db/client.js'
import { openEmbedded } from './db/embedded.js'
import { devJwtSecret } from './dev-secrets.js'

/** Reads .env and the environment; on a bad configuration prints every problem and exits 1. */
export function loadConfigOrExit(): LoadedConfig {
  loadDotEnv()
  try {
    const production = process.env.NODE_ENV === 'production'
    return loadConfig(process.env, production ? {} : { devJwtSecret: devJwtSecret(process.env.DATA_DIR || '.data') })
  } catch (error) {
    console.error(error instanceof ConfigError ? error.message : error)
    process.exit(1)
  }
}

/**
 * Runs `work` with a small database handle; an error is printed (message only) and exits 1.
 * Without DATABASE_URL it uses the embedded database: the running service's, or opened here.
 */
export async function withDatabase(loaded: LoadedConfig, work: (db: Database, config: Config) => Promise<void>): Promise<void> {
  const embedded = loaded.embedded && loaded.databaseUrl === null ? await openEmbedded(loaded.embedded) : null
  const config = resolveDatabase(loaded, embedded ?? undefined)
  const db = createDatabase(config.databaseUrl, { poolSize: 2 })
  try {
    await work(db, config)
  } catch (error) {
    console.error(error instanceof Error ? error.message : error)
    process.exitCode = 1
  } finally {
    await db.close()
    await embedded?.stop()
  }
}
