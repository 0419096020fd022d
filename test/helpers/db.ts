import { createHash, randomBytes } from 'node:crypto'
import pg from 'pg'
import { MIGRATIONS_DIR } from '../../src/config.js'
import { migrate, readMigrationFiles } from '../../src/db/migrate.js'

/** The PostgreSQL server tests use: TEST_DATABASE_URL, or the local one (see ENVIRONMENT.md). */
export const SERVER_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'

export function databaseUrl(name: string): string {
  const url = new URL(SERVER_URL)
  url.pathname = '/' + name
  return url.toString()
}

/** Named after the migrations it holds, so a changed migration set gets a fresh template. */
export function templateName(dir = MIGRATIONS_DIR): string {
  const files = readMigrationFiles(dir)
  const digest = createHash('sha256').update(files.map((f) => `${f.name}:${f.checksum}`).join('\n')).digest('hex')
  return `townsquare_tpl_${digest.slice(0, 16)}`
}

export async function withServer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: SERVER_URL })
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
  return name
}

/** A private database for one test file, cloned from the migrated template. */
export async function createTestDatabase(): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
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
    drop: () => withServer(async (admin) => void (await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))),
  }
}

/** An empty database (no migrations), for migrator tests. */
export async function createEmptyDatabase(): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  const name = `townsquare_test_${randomBytes(6).toString('hex')}`
  await withServer(async (admin) => void (await admin.query(`CREATE DATABASE ${name}`)))
  return {
    name,
    url: databaseUrl(name),
    drop: () => withServer(async (admin) => void (await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))),
  }
}
