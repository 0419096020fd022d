import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import t from 'tap'
import { PROJECT_ROOT } from '../../src/paths.js'
import { createTestDatabase } from '../helpers/db.js'
import { readDmmf, schemaDrift } from '../helpers/schema-drift.js'

const schema = readFileSync(join(PROJECT_ROOT, 'prisma', 'schema.prisma'), 'utf8')

t.test('schema.prisma and the migrated database agree', async (t) => {
  const database = await createTestDatabase()
  t.teardown(database.drop)
  const client = new pg.Client({ connectionString: database.url })
  await client.connect()
  t.teardown(() => client.end())

  t.ok(readDmmf(schema).datamodel.models.length > 0, 'the schema has models to compare')
  t.same(await schemaDrift(schema, client), [], 'no drift: add a migration for every schema change')

  t.test('drift is reported, not ignored', async (t) => {
    const drifted = schema
      .replace('kind          String', 'kind          String?')
      .replace('  actor         String\n', '  actor         String\n  reviewer      String\n')
      .replace('@@index([subject])', '@@index([subject, actor])')
      .replace('@db.Char(64)', '@db.Char(40)')
    t.same((await schemaDrift(drifted, client)).sort(), [
      'LedgerEntry.kind: column is NOT NULL, schema says optional',
      'LedgerEntry.payloadSha256: column type is character(64), schema says character(40)',
      'LedgerEntry.reviewer: column "ledger_entry"."reviewer" does not exist',
      'LedgerEntry: index on (subject, actor) does not exist in "ledger_entry"',
    ])
    await client.query('CREATE TABLE stray (id int)')
    t.same(await schemaDrift(schema, client), ['table "stray" exists in the database but no model describes it'])
  })
})
