import { createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { MIGRATIONS_DIR } from '../../src/config.js'
import { ensureRuntimeLogin } from '../../src/db/roles.js'
import { migrate, readMigrationFiles } from '../../src/db/migrate.js'
import { PROJECT_ROOT } from '../../src/paths.js'

/**
 * The PostgreSQL server tests use, as its superuser: TEST_DATABASE_URL, which `npm run test:only`
 * (scripts/test.ts) sets to a throwaway embedded server when it is not given (docs/testing.md).
 * Read when a database is needed, not on import: benchmarks import the test factories without one.
 */
function serverUrl(): string {
  const url = process.env.TEST_DATABASE_URL
  if (!url) {
    throw new Error('TEST_DATABASE_URL is not set: run the tests with `npm run test:only -- [files]`, which starts an embedded PostgreSQL, or set TEST_DATABASE_URL to a server\'s superuser URL (docs/testing.md)')
  }
  return url
}

/**
 * The login role the service under test connects as: a member of townsquare_runtime and nothing
 * more, as README "Database roles" tells a city to run it. Migrations and the tests' own setup
 * and checks use the owner (TEST_DATABASE_URL's user).
 */
export const RUNTIME_LOGIN = { role: 'townsquare_test_app', password: 'townsquare-test-app' }

/** `name` on the test server, as the owner. */
export function databaseUrl(name: string): string {
  const url = new URL(serverUrl())
  url.pathname = '/' + name
  return url.toString()
}

/** `name` on the test server, as the runtime login role. */
export function runtimeDatabaseUrl(name: string): string {
  const url = new URL(databaseUrl(name))
  url.username = RUNTIME_LOGIN.role
  url.password = RUNTIME_LOGIN.password
  return url.toString()
}

/**
 * Named after the migrations it holds and the migrator that applied them (it also installs the job
 * queue and its grants), so a change to either gets a fresh template on a long-lived server.
 */
export function templateName(dir = MIGRATIONS_DIR): string {
  const files = readMigrationFiles(dir)
  const migrator = readFileSync(join(PROJECT_ROOT, 'src', 'db', 'migrate.ts'))
  const digest = createHash('sha256').update(files.map((f) => `${f.name}:${f.checksum}`).join('\n')).update(migrator).digest('hex')
  return `townsquare_tpl_${digest.slice(0, 16)}`
}

export async function withServer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl() })
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

/** Creates and migrates the template once per migration set; safe when several runs start together. */
export async function ensureTemplate(): Promise<string> {
  const name = templateName()
  await withServer(async (admin) => {
    await admin.query('SELECT pg_advisory_lock(hashtext($1))', [name])
    try {
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])
      if (exists.rowCount) return
      const building = `${name}_build`
      await admin.query(`DROP DATABASE IF EXISTS ${building} WITH (FORCE)`)
      await admin.query(`CREATE DATABASE ${building}`)
      await migrate(databaseUrl(building), MIGRATIONS_DIR)
      // Renamed only once complete, so a half-migrated template is never cloned.
      await admin.query(`ALTER DATABASE ${building} RENAME TO ${name}`)
    } finally {
      await admin.query('SELECT pg_advisory_unlock(hashtext($1))', [name])
    }
  })
  await ensureRuntimeLogin(serverUrl(), RUNTIME_LOGIN.role, RUNTIME_LOGIN.password)
  return name
}

export interface TestDatabase {
  name: string
  /** As the owner: migrations, and a test's own setup and checks. */
  url: string
  /** As the runtime login role: what the service under test connects with. */
  runtimeUrl: string
  drop: () => Promise<void>
}

/** A private database for one test file, cloned from the migrated template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const template = await ensureTemplate()
  const name = `townsquare_test_${randomBytes(6).toString('hex')}`
  await withServer(async (admin) => {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`)
    // Durability is irrelevant for throwaway test data and costs seconds on a shared disk.
    await admin.query(`ALTER DATABASE ${name} SET synchronous_commit = off`)
  })
  return {
    name,
    url: databaseUrl(name),
    runtimeUrl: runtimeDatabaseUrl(name),
    drop: () => withServer(async (admin) => void (await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))),
  }
}

/** An empty database (no migrations), for migrator tests. */
export async function createEmptyDatabase(): Promise<TestDatabase> {
  await ensureTemplate() // for the runtime login role
  const name = `townsquare_test_${randomBytes(6).toString('hex')}`
  await withServer(async (admin) => void (await admin.query(`CREATE DATABASE ${name}`)))
  return {
    name,
    url: databaseUrl(name),
    runtimeUrl: runtimeDatabaseUrl(name),
    drop: () => withServer(async (admin) => void (await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))),
  }
}

/** The environment that runs the service on `database` as production does: runtime role, owner migrates. */
export function serviceDatabaseEnv(database: Pick<TestDatabase, 'url' | 'runtimeUrl'>): { DATABASE_URL: string; MIGRATION_DATABASE_URL: string } {
  return { DATABASE_URL: database.runtimeUrl, MIGRATION_DATABASE_URL: database.url }
}
