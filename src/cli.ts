// What every command-line entry point (server, scripts) does first.
import { ConfigError, loadConfig, loadDotEnv, type Config } from './config.js'
import { createDatabase, type Database } from './db/client.js'
import { devJwtSecret } from './dev-secrets.js'

/** Reads .env and the environment; on a bad configuration prints every problem and exits 1. */
export function loadConfigOrExit(): Config {
  loadDotEnv()
  try {
    const production = process.env.NODE_ENV === 'production'
    return loadConfig(process.env, production ? {} : { devJwtSecret: devJwtSecret(process.env.DATA_DIR || '.data') })
  } catch (error) {
    console.error(error instanceof ConfigError ? error.message : error)
    process.exit(1)
  }
}

/** Runs `work` with a small database handle; an error is printed (message only) and exits 1. */
export async function withDatabase(config: Config, work: (db: Database) => Promise<void>): Promise<void> {
  const db = createDatabase(config.databaseUrl, { poolSize: 2 })
  try {
    await work(db)
  } catch (error) {
    console.error(error instanceof Error ? error.message : error)
    process.exitCode = 1
  } finally {
    await db.close()
  }
}
