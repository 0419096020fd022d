// Throwaway databases for benchmarks: created, migrated with the service's own migrator, and
// dropped again when the run ends, fails, or is interrupted (SIGINT/SIGTERM).
//
// The server: with `--embedded` (or BENCH_EMBEDDED=1), a fresh durable embedded PostgreSQL
// (src/db/embedded.ts, what `npm start` runs when DATABASE_URL is unset) started for this run in a
// temporary directory and removed at the end; otherwise BENCH_DATABASE_URL, else TEST_DATABASE_URL,
// else the local server on 127.0.0.1:5432. Every benchmark that imports this module accepts the
// flag. cleanUp() is the one way out: the benchmark's own steps (registered with beforeCleanUp),
// then the databases, the run's login role, and the embedded server with its directory.
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { MIGRATIONS_DIR } from '../../src/config.js'
import { startEmbedded, type EmbeddedDatabase } from '../../src/db/embedded.js'
import { migrate } from '../../src/db/migrate.js'
import { ensureRuntimeLogin } from '../../src/db/roles.js'
import { Args } from './args.js'

Args.acceptEverywhere('embedded')

interface Server {
  /** The superuser (or the owner): creates, migrates and drops the databases. */
  url: string
  /** What the header says about where the figures come from. */
  description: string
  embedded: EmbeddedDatabase | null
  dataDir: string | null
}

let server: Promise<Server> | null = null

function chooseServer(): Promise<Server> {
  server ??= (async (): Promise<Server> => {
    if (!new Args().flag('embedded')) {
      const url = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres'
      const { host, pathname } = new URL(url)
      return { url, description: `server ${host}${pathname === '/' ? '' : pathname}`, embedded: null, dataDir: null }
    }
    // As root, the embedded server runs as the `postgres` user: a directory of its own under the
    // system's temporary directory (0700, handed over by startEmbedded), on the same disk as /var.
    const dataDir = mkdtempSync(join(tmpdir(), 'townsquare-bench-pg-'))
    const started = Date.now()
    try {
      const embedded = await startEmbedded({ dataDir, durable: true, log: (m) => console.error(`[bench db] ${m}`) })
      console.error(`[bench db] embedded PostgreSQL ready on 127.0.0.1:${embedded.port} in ${Date.now() - started} ms (durable; data in ${dataDir}, removed at the end)`)
      // Benchmarks run as child processes (bench:foia runs bench:foia:production) use this server.
      process.env.BENCH_DATABASE_URL = embedded.url
      return { url: embedded.url, description: `embedded, started for this run (durable, ${dataDir})`, embedded, dataDir }
    } catch (error) {
      rmSync(dataDir, { recursive: true, force: true })
      throw error
    }
  })()
  return server
}

function withPath(url: string, name: string): string {
  const u = new URL(url)
  u.pathname = '/' + name
  return u.toString()
}

async function withAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: (await chooseServer()).url, application_name: 'townsquare-bench-admin' })
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

// ---------------------------------------------------------------------------------------------
// The runtime login role: a member of townsquare_runtime and nothing more, as production runs the
// service (README "Database roles"). The embedded server has one (townsquare_app); on another
// server a login role is made for this run and dropped at the end.

let runLogin: Promise<{ role: string; password: string }> | null = null
let runLoginToDrop: string | null = null

/** `name` as the runtime login role: what a service under test connects with (the owner migrates). */
export async function runtimeDatabaseUrl(name: string): Promise<string> {
  const { embedded, url } = await chooseServer()
  if (embedded) return withPath(embedded.runtimeUrl, name)
  runLogin ??= (async () => {
    const login = { role: `townsquare_bench_${randomBytes(4).toString('hex')}_app`, password: randomBytes(18).toString('base64url') }
    runLoginToDrop = login.role
    await ensureRuntimeLogin(url, login.role, login.password)
    return login
  })()
  const { role, password } = await runLogin
  const u = new URL(withPath(url, name))
  u.username = role
  u.password = password
  return u.toString()
}

// ---------------------------------------------------------------------------------------------
// Cleaning up

const firstSteps: Array<() => Promise<void>> = []

/** A step cleanUp runs before it drops the databases (stopping the servers that use them, say). */
export function beforeCleanUp(step: () => Promise<void>): void {
  firstSteps.push(step)
}

let cleaning: Promise<void> | null = null

/**
 * Runs the benchmark's own steps, drops every database this process created and has not dropped
 * yet and the run's login role, then stops the embedded server and removes its directory. Once:
 * later calls wait for the first. Errors are reported, not thrown.
 */
export function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    const report = (what: string, error: unknown) => console.error(`could not ${what}: ${(error as Error).message}`)
    for (const step of firstSteps) await step().catch((error: unknown) => report('clean up', error))
    for (const name of [...live]) await dropDatabase(name).catch((error: unknown) => report(`drop benchmark database ${name}`, error))
    if (runLoginToDrop) {
      const role = runLoginToDrop
      await withAdmin((admin) => admin.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(role)}`)).catch((error: unknown) => report(`drop the login role ${role}`, error))
    }
    if (server) {
      const s = await server.catch(() => null)
      if (s?.embedded) {
        await s.embedded.stop().catch((error: unknown) => report('stop the embedded PostgreSQL', error))
        rmSync(s.dataDir!, { recursive: true, force: true })
      }
    }
  })()
  return cleaning
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: cleaning up (servers, benchmark databases${server ? ', the embedded PostgreSQL' : ''})`)
    void cleanUp().finally(() => process.exit(130))
  })
}

// ---------------------------------------------------------------------------------------------
// Databases

export interface BenchDatabase {
  name: string
  url: string
  drop(): Promise<void>
}

/** A database, empty or a copy of `template`, dropped by cleanUp. */
async function createDatabase(name: string, template?: string): Promise<string> {
  const copy = template === undefined ? '' : ` TEMPLATE ${pg.escapeIdentifier(template)}`
  await withAdmin(async (admin) => void (await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}${copy}`)))
  live.add(name)
  return withPath((await chooseServer()).url, name)
}

/** An empty database, dropped by cleanUp; its URL is the owner's. */
export const createEmptyDatabase = (name: string): Promise<string> => createDatabase(name)

const benchDatabaseName = (prefix: string) => `${prefix}_${randomBytes(5).toString('hex')}`

/** Creates `<prefix>_<random>` and applies the migrations with src/db/migrate.ts. */
export async function createBenchDatabase(prefix = 'townsquare_bench'): Promise<BenchDatabase> {
  const name = benchDatabaseName(prefix)
  const url = await createDatabase(name)
  await migrate(url, MIGRATIONS_DIR)
  return { name, url, drop: () => dropDatabase(name) }
}

/**
 * A copy of `source` (CREATE DATABASE ... TEMPLATE), dropped by cleanUp. Nothing may be connected
 * to `source` while it is copied.
 */
export async function cloneDatabase(source: string, prefix = 'townsquare_bench'): Promise<BenchDatabase> {
  const name = benchDatabaseName(prefix)
  const url = await createDatabase(name, source)
  return { name, url, drop: () => dropDatabase(name) }
}

/** Where the benchmark runs (embedded or which server), its version, and the settings that shape the figures. */
export async function serverInfo(): Promise<{ server: string; version: string; settings: Record<string, string> }> {
  const { description } = await chooseServer()
  return withAdmin(async (admin) => {
    const version = (await admin.query<{ v: string }>('SELECT version() AS v')).rows[0]!.v
    const names = ['shared_buffers', 'synchronous_commit', 'fsync', 'full_page_writes', 'max_wal_size', 'work_mem']
    const { rows } = await admin.query<{ name: string; setting: string }>(
      `SELECT name, current_setting(name) AS setting FROM pg_settings WHERE name = ANY($1)`,
      [names],
    )
    return { server: description, version, settings: Object.fromEntries(rows.map((r) => [r.name, r.setting])) }
  })
}
