// Throwaway databases for benchmarks: created, migrated with the service's own migrator, and
// dropped again when the run ends, fails, or is interrupted (SIGINT/SIGTERM).
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { MIGRATIONS_DIR } from '../../src/config.js'
import { migrate } from '../../src/db/migrate.js'

/** The server to benchmark on: BENCH_DATABASE_URL, TEST_DATABASE_URL or the local one. */
export const SERVER_URL = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'

export function databaseUrl(name: string): string {
  const url = new URL(SERVER_URL)
  url.pathname = '/' + name
  return url.toString()
}

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: SERVER_URL, application_name: 'townsquare-bench-admin' })
  await client.connect()
  try {
    return await work(client)
  } finally {
    await client.end()
  }
}

const live = new Set<string>()

async function dropDatabase(name: string): Promise<void> {
  await withAdmin(async (admin) => void (await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`)))
  live.delete(name)
}

/** Drops every database this process created and has not dropped yet. */
export async function dropAll(): Promise<void> {
  for (const name of [...live]) {
    try {
      await dropDatabase(name)
    } catch (error) {
      console.error(`could not drop benchmark database ${name}: ${(error as Error).message}`)
    }
  }
}

let handlersInstalled = false
function installSignalHandlers() {
  if (handlersInstalled) return
  handlersInstalled = true
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: dropping benchmark databases`)
      void dropAll().finally(() => process.exit(130))
    })
  }
}

export interface BenchDatabase {
  name: string
  url: string
  drop(): Promise<void>
}

/** A database, empty or a copy of `template`, dropped by dropAll (the caller's exit handling must call it). */
async function createDatabase(name: string, template?: string): Promise<string> {
  const copy = template === undefined ? '' : ` TEMPLATE ${pg.escapeIdentifier(template)}`
  await withAdmin(async (admin) => void (await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}${copy}`)))
  live.add(name)
  return databaseUrl(name)
}

/** An empty database, dropped by dropAll (the caller's exit handling must call it). */
export const createEmptyDatabase = (name: string): Promise<string> => createDatabase(name)

const benchDatabaseName = (prefix: string) => `${prefix}_${randomBytes(5).toString('hex')}`

/** Creates `<prefix>_<random>` and applies the migrations with src/db/migrate.ts. */
export async function createBenchDatabase(prefix = 'townsquare_bench'): Promise<BenchDatabase> {
  installSignalHandlers()
  const name = benchDatabaseName(prefix)
  const url = await createDatabase(name)
  await migrate(url, MIGRATIONS_DIR)
  return { name, url, drop: () => dropDatabase(name) }
}

/**
 * A copy of `source` (CREATE DATABASE ... TEMPLATE), dropped by dropAll. Nothing may be connected
 * to `source` while it is copied.
 */
export async function cloneDatabase(source: string, prefix = 'townsquare_bench'): Promise<BenchDatabase> {
  installSignalHandlers()
  const name = benchDatabaseName(prefix)
  const url = await createDatabase(name, source)
  return { name, url, drop: () => dropDatabase(name) }
}

/** Server version and the settings that shape the figures. */
export async function serverInfo(): Promise<{ version: string; settings: Record<string, string> }> {
  return withAdmin(async (admin) => {
    const version = (await admin.query<{ v: string }>('SELECT version() AS v')).rows[0]!.v
    const names = ['shared_buffers', 'synchronous_commit', 'fsync', 'max_wal_size', 'work_mem']
    const { rows } = await admin.query<{ name: string; setting: string }>(
      `SELECT name, current_setting(name) AS setting FROM pg_settings WHERE name = ANY($1)`,
      [names],
    )
    return { version, settings: Object.fromEntries(rows.map((r) => [r.name, r.setting])) }
  })
}
