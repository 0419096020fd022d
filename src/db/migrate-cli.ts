// `npm run db:migrate`: creates the database if needed and applies pending migrations.
// Without DATABASE_URL: the embedded database (the running service's, or opened here).
import { ConfigError, embeddedConfig, loadDotEnv, EnvSchema, MIGRATIONS_DIR } from '../config.js'
import { openEmbedded } from './embedded.js'
import { ensureDatabaseExists, migrate } from './migrate.js'

loadDotEnv()
const env = EnvSchema.safeParse(process.env)
if (!env.success) {
  console.error(new ConfigError(env.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)).message)
  process.exit(1)
}
const serverUrl = env.data.MIGRATION_DATABASE_URL ?? env.data.DATABASE_URL
const embedded = serverUrl ? null : await openEmbedded(embeddedConfig(env.data))
const url = serverUrl ?? embedded!.url
try {
  if (!embedded && (await ensureDatabaseExists(url))) console.log(`created database ${new URL(url).pathname.slice(1)}`)
  const { applied } = await migrate(url, MIGRATIONS_DIR, (m) => console.log(m))
  console.log(applied.length ? `${applied.length} migration(s) applied` : 'database is up to date')
} catch (error) {
  console.error(error instanceof Error ? error.message : error)
  process.exitCode = 1
} finally {
  await embedded?.stop()
}
