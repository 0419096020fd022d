import { createHash, randomUUID } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { Logger, runMigrations } from 'graphile-worker'
import pg from 'pg'

/** The advisory lock key Prisma Migrate itself takes, so our migrator and Prisma's exclude each other. */
const PRISMA_MIGRATE_LOCK = 72707369

export interface MigrationFile {
  name: string
  sql: string
  /** SHA-256 hex of the file's bytes, as Prisma records it. */
  checksum: string
}

export interface AppliedMigration {
  name: string
  checksum: string
  finishedAt: Date | null
  rolledBackAt: Date | null
  logs: string | null
}

export class MigrationError extends Error {
  override name = 'MigrationError'
}

export class MigrationChecksumError extends MigrationError {
  constructor(
    readonly migration: string,
    readonly recordedChecksum: string,
    readonly fileChecksum: string,
  ) {
    super(
      `Migration ${migration} was changed after it was applied: the database recorded checksum ` +
        `${recordedChecksum} but the file now has ${fileChecksum}. Restore the file and add a new migration instead.`,
    )
  }
}

export function readMigrationFiles(dir: string): MigrationFile[] {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  return names
    .filter((name) => statSync(join(dir, name)).isDirectory())
    .sort()
    .map((name) => {
      const bytes = readFileSync(join(dir, name, 'migration.sql'))
      return { name, sql: bytes.toString('utf8'), checksum: createHash('sha256').update(bytes).digest('hex') }
    })
}

const CREATE_MIGRATIONS_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum"            VARCHAR(64) NOT NULL,
  "finished_at"         TIMESTAMPTZ,
  "migration_name"      VARCHAR(255) NOT NULL,
  "logs"                TEXT,
  "rolled_back_at"      TIMESTAMPTZ,
  "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`

export async function readAppliedMigrations(client: Pick<pg.ClientBase, 'query'>): Promise<AppliedMigration[] | null> {
  const exists = await client.query<{ present: boolean }>(`SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS present`)
  if (!exists.rows[0]?.present) return null
  const { rows } = await client.query<{
    migration_name: string
    checksum: string
    finished_at: Date | null
    rolled_back_at: Date | null
    logs: string | null
  }>(`SELECT migration_name, checksum, finished_at, rolled_back_at, logs FROM "_prisma_migrations" ORDER BY started_at, migration_name`)
  return rows.map((r) => ({
    name: r.migration_name,
    checksum: r.checksum,
    finishedAt: r.finished_at,
    rolledBackAt: r.rolled_back_at,
    logs: r.logs,
  }))
}

export interface MigrationPlan {
  pending: MigrationFile[]
  /** Problems that forbid migrating (and make the service not ready). */
  problems: MigrationError[]
}

/** Compares the files with what the database recorded; pure, so status checks and the migrator agree. */
export function planMigrations(files: MigrationFile[], applied: AppliedMigration[]): MigrationPlan {
  const problems: MigrationError[] = []
  const live = applied.filter((m) => m.rolledBackAt === null)
  const byName = new Map(files.map((f) => [f.name, f]))
  const done = new Set<string>()
  for (const m of live) {
    if (m.finishedAt === null) {
      problems.push(
        new MigrationError(
          `Migration ${m.name} failed earlier and is recorded as unfinished: ${m.logs ?? 'no log'}. ` +
            `Repair the database, then mark it rolled back (UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = '${m.name}') before migrating again.`,
        ),
      )
      continue
    }
    const file = byName.get(m.name)
    if (!file) {
      problems.push(new MigrationError(`Migration ${m.name} is applied in the database but missing from the migrations directory.`))
      continue
    }
    if (file.checksum !== m.checksum) problems.push(new MigrationChecksumError(m.name, m.checksum, file.checksum))
    done.add(m.name)
  }
  return { pending: files.filter((f) => !done.has(f.name)), problems }
}

export interface MigrateResult {
  applied: string[]
}

/**
 * Applies pending migrations in name order, each in its own transaction, under Prisma's advisory
 * lock so instances starting together apply nothing twice. Rows in `_prisma_migrations` are kept as
 * Prisma keeps them, so `prisma migrate status` agrees wherever the Prisma engine is available.
 */
export async function migrate(
  url: string,
  dir: string,
  log: (message: string) => void = () => {},
): Promise<MigrateResult> {
  const client = new pg.Client({ connectionString: url, application_name: 'townsquare-migrate' })
  await client.connect()
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK])
    await client.query(CREATE_MIGRATIONS_TABLE)
    const files = readMigrationFiles(dir)
    const plan = planMigrations(files, (await readAppliedMigrations(client)) ?? [])
    if (plan.problems.length > 0) throw plan.problems[0]
    const applied: string[] = []
    for (const file of plan.pending) {
      const id = randomUUID()
      try {
        await client.query('BEGIN')
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())`,
          [id, file.checksum, file.name],
        )
        await client.query(file.sql)
        await client.query(
          `UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1`,
          [id],
        )
        await client.query('COMMIT')
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {})
        const message = error instanceof Error ? error.message : String(error)
        // Recorded outside the failed transaction, as Prisma does, so the next run refuses until repaired.
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, logs) VALUES ($1, $2, $3, now(), $4)`,
          [id, file.checksum, file.name, message],
        )
        throw new MigrationError(`Migration ${file.name} failed: ${message}`, { cause: error })
      }
      log(`applied migration ${file.name}`)
      applied.push(file.name)
    }
    await installJobQueue(client, url)
    return { applied }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK]).catch(() => {})
    await client.end()
  }
}

/**
 * graphile-worker keeps its own schema (graphile_worker) and versions it with its own migrations,
 * which it applies under its own lock. They run here, as the schema owner, so the service never
 * needs DDL rights; the runtime role gets exactly what the worker does at run time: it reads the
 * worker's version, adds, takes, completes and fails jobs. graphile-worker enables row-level
 * security on its tables with no policy, which only the tables' owner passes, so the runtime role
 * gets a policy of its own on each (without one, adding a job fails with "new row violates
 * row-level security policy for table _private_tasks").
 */
async function installJobQueue(client: pg.Client, url: string): Promise<void> {
  await runMigrations({ connectionString: url, logger: silentLogger })
  // The role comes with the first migration; a database without it (migrator tests) skips this.
  await client.query(`
    DO $$
    DECLARE t record;
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'townsquare_runtime') THEN RETURN; END IF;
      GRANT USAGE ON SCHEMA graphile_worker TO townsquare_runtime;
      GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA graphile_worker TO townsquare_runtime;
      -- The worker's own version: readable, so a runtime role never migrates it.
      REVOKE INSERT, UPDATE, DELETE ON graphile_worker.migrations FROM townsquare_runtime;
      GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA graphile_worker TO townsquare_runtime;
      GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA graphile_worker TO townsquare_runtime;
      FOR t IN
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'graphile_worker' AND c.relkind = 'r' AND c.relrowsecurity
          AND NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'townsquare_runtime')
      LOOP
        EXECUTE format('CREATE POLICY townsquare_runtime ON graphile_worker.%I TO townsquare_runtime USING (true) WITH CHECK (true)', t.relname);
      END LOOP;
    END $$;`)
}

const silentLogger = new Logger(() => () => {})

/** Creates the database named in `url` when it does not exist (`npm start` on a fresh machine). */
export async function ensureDatabaseExists(url: string): Promise<boolean> {
  const target = new URL(url)
  const name = decodeURIComponent(target.pathname.slice(1))
  if (!name) throw new MigrationError(`DATABASE_URL names no database: ${target.origin}`)
  const admin = new URL(url)
  admin.pathname = '/postgres'
  const client = new pg.Client({ connectionString: admin.toString() })
  await client.connect()
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])
    if (rowCount) return false
    try {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`)
    } catch (error) {
      // Another instance created it at the same moment.
      if ((error as { code?: string }).code === '42P04') return false
      throw error
    }
    return true
  } finally {
    await client.end()
  }
}
