import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { MIGRATIONS_DIR } from '../../src/config.js'
import { testApp, testConfig } from '../helpers/app.js'
import { createTestDatabase, serviceDatabaseEnv } from '../helpers/db.js'

t.test('healthz and readyz on a migrated database', async (t) => {
  const { app } = await testApp(t)
  const health = await app.inject('/healthz')
  t.equal(health.statusCode, 200)
  t.same(health.json(), { status: 'ok' })
  const ready = await app.inject('/readyz')
  t.equal(ready.statusCode, 200)
  t.same(ready.json(), { status: 'ready', checks: { database: 'ok', migrations: 'current' } })
})

t.test('readyz is 503 while the database is unreachable, healthz stays 200', async (t) => {
  // Port 1 on loopback: nothing listens, as when the server is stopped.
  const app = await buildApp(testConfig({ DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/townsquare' }))
  t.teardown(() => app.close())
  const ready = await app.inject('/readyz')
  t.equal(ready.statusCode, 503)
  t.match(ready.json(), { status: 'not_ready', checks: { database: 'unreachable', migrations: 'unknown' } })
  t.equal((await app.inject('/healthz')).statusCode, 200)
})

t.test('readyz is 503 while a migration is pending', async (t) => {
  const database = await createTestDatabase()
  t.teardown(database.drop)
  const dir = mkdtempSync(join(tmpdir(), 'townsquare-pending-'))
  cpSync(MIGRATIONS_DIR, dir, { recursive: true })
  mkdirSync(join(dir, '29991231000000_future'))
  writeFileSync(join(dir, '29991231000000_future', 'migration.sql'), 'SELECT 1;')
  const app = await buildApp(testConfig(serviceDatabaseEnv(database), { migrationsDir: dir }))
  t.teardown(() => app.close())
  const ready = await app.inject('/readyz')
  t.equal(ready.statusCode, 503)
  t.same(ready.json(), {
    status: 'not_ready',
    checks: { database: 'ok', migrations: 'pending' },
    detail: 'pending migrations: 29991231000000_future',
  })
})
