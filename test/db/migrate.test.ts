import { createHash } from 'node:crypto'
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import t from 'tap'
import { MigrationChecksumError, MigrationError, migrate } from '../../src/db/migrate.js'
import { createEmptyDatabase } from '../helpers/db.js'

function migrationsDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'townsquare-migrations-'))
  for (const [name, sql] of Object.entries(files)) {
    mkdirSync(join(dir, name))
    writeFileSync(join(dir, name, 'migration.sql'), sql)
  }
  return dir
}

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return (await client.query<T>(sql)).rows
  } finally {
    await client.end()
  }
}

const first = '20260101000000_first'
const second = '20260102000000_second'

t.test('applies pending migrations in order and records them as Prisma does', async (t) => {
  const db = await createEmptyDatabase()
  t.teardown(db.drop)
  const dir = migrationsDir({
    [second]: 'ALTER TABLE thing ADD COLUMN label text;',
    [first]: 'CREATE TABLE thing (id int primary key);',
  })
  t.same(await migrate(db.url, dir), { applied: [first, second] })
  const rows = await query<{ migration_name: string; checksum: string; finished: boolean; applied_steps_count: number }>(
    db.url,
    `SELECT migration_name, checksum, finished_at IS NOT NULL AS finished, applied_steps_count FROM _prisma_migrations ORDER BY migration_name`,
  )
  t.same(
    rows.map((r) => [r.migration_name, r.finished, r.applied_steps_count]),
    [
      [first, true, 1],
      [second, true, 1],
    ],
  )
  // Prisma's checksum: SHA-256 hex of the file.
  t.equal(rows[0]!.checksum, createHash('sha256').update('CREATE TABLE thing (id int primary key);').digest('hex'))
  t.same(await migrate(db.url, dir), { applied: [] }, 'a second run applies nothing')
  t.same(await query(db.url, 'SELECT label FROM thing'), [])
})

t.test('two instances migrating at once apply each migration once', async (t) => {
  const db = await createEmptyDatabase()
  t.teardown(db.drop)
  const dir = migrationsDir({ [first]: 'SELECT pg_sleep(0.3); CREATE TABLE thing (id int primary key);' })
  const results = await Promise.all([migrate(db.url, dir), migrate(db.url, dir), migrate(db.url, dir)])
  t.same(results.map((r) => r.applied.length).sort(), [0, 0, 1])
  t.same(await query(db.url, 'SELECT count(*)::int AS n FROM _prisma_migrations'), [{ n: 1 }])
})

t.test('an applied migration whose file changed is refused, naming it and both checksums', async (t) => {
  const db = await createEmptyDatabase()
  t.teardown(db.drop)
  const dir = migrationsDir({ [first]: 'CREATE TABLE thing (id int primary key);' })
  await migrate(db.url, dir)
  const [recorded] = await query<{ checksum: string }>(db.url, 'SELECT checksum FROM _prisma_migrations')
  writeFileSync(join(dir, first, 'migration.sql'), 'CREATE TABLE thing (id bigint primary key);')
  mkdirSync(join(dir, second))
  writeFileSync(join(dir, second, 'migration.sql'), 'CREATE TABLE other (id int);')
  const error = await migrate(db.url, dir).then(
    () => null,
    (e: unknown) => e,
  )
  t.ok(error instanceof MigrationChecksumError, 'refused')
  const e = error as MigrationChecksumError
  t.equal(e.migration, first)
  t.equal(e.recordedChecksum, recorded!.checksum)
  t.not(e.fileChecksum, recorded!.checksum)
  t.match(e.message, new RegExp(`${first}.*${recorded!.checksum}.*${e.fileChecksum}`))
  t.same(await query(db.url, `SELECT to_regclass('other') IS NULL AS absent`), [{ absent: true }], 'nothing after it was applied')
})

t.test('a failing migration is rolled back, recorded with the database error, and blocks later runs', async (t) => {
  const db = await createEmptyDatabase()
  t.teardown(db.drop)
  const dir = migrationsDir({
    [first]: 'CREATE TABLE thing (id int primary key);',
    [second]: 'CREATE TABLE half (id int); SELECT no_such_function();',
  })
  const error = (await migrate(db.url, dir).catch((e: unknown) => e)) as MigrationError
  t.ok(error instanceof MigrationError)
  t.match(error.message, /20260102000000_second failed: function no_such_function\(\) does not exist/)
  t.same(await query(db.url, `SELECT to_regclass('half') IS NULL AS absent`), [{ absent: true }], 'its statements were rolled back')
  const rows = await query<{ migration_name: string; finished_at: Date | null; logs: string | null }>(
    db.url,
    'SELECT migration_name, finished_at, logs FROM _prisma_migrations ORDER BY migration_name',
  )
  t.equal(rows.length, 2)
  t.equal(rows[1]!.finished_at, null)
  t.match(rows[1]!.logs, /no_such_function/)
  const again = (await migrate(db.url, dir).catch((e: unknown) => e)) as MigrationError
  t.match(again.message, /20260102000000_second failed earlier/)
})
