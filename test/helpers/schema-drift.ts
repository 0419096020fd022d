import prismaSchemaWasm from '@prisma/prisma-schema-wasm'
import type pg from 'pg'

interface DmmfField {
  name: string
  dbName?: string | null
  kind: 'scalar' | 'object' | 'enum' | 'unsupported'
  type: string
  isList: boolean
  isRequired: boolean
  nativeType?: [string, string[]] | null
  relationFromFields?: string[]
}
interface DmmfModel {
  name: string
  dbName: string | null
  fields: DmmfField[]
}
interface DmmfIndex {
  model: string
  type: 'id' | 'unique' | 'normal' | 'fulltext'
  fields: Array<{ name: string }>
}
interface Dmmf {
  datamodel: { models: DmmfModel[]; enums: Array<{ name: string; dbName?: string | null }>; indexes: DmmfIndex[] }
}

/** The parsed schema.prisma, from Prisma's own WebAssembly schema parser (works offline). */
export function readDmmf(schema: string): Dmmf {
  return JSON.parse(prismaSchemaWasm.get_dmmf(JSON.stringify({ prismaSchema: schema }))) as Dmmf
}

/** The PostgreSQL type Prisma Migrate would create for a field, as `format_type` prints it. */
export function expectedColumnType(field: DmmfField, enums: Map<string, string>): string {
  const [native, args = []] = field.nativeType ?? []
  let type: string
  if (field.kind === 'enum') type = enums.get(field.type) ?? field.type
  else if (native) {
    const withArgs = (name: string) => (args.length ? `${name}(${args.join(',')})` : name)
    const byNative: Record<string, () => string> = {
      Uuid: () => 'uuid',
      Text: () => 'text',
      VarChar: () => withArgs('character varying'),
      Char: () => withArgs('character'),
      SmallInt: () => 'smallint',
      Integer: () => 'integer',
      BigInt: () => 'bigint',
      Timestamptz: () => `timestamp(${args[0] ?? 3}) with time zone`,
      Timestamp: () => `timestamp(${args[0] ?? 3}) without time zone`,
      Date: () => 'date',
      JsonB: () => 'jsonb',
      Json: () => 'json',
      ByteA: () => 'bytea',
      Inet: () => 'inet',
      Boolean: () => 'boolean',
      DoublePrecision: () => 'double precision',
      Decimal: () => withArgs('numeric'),
    }
    const map = byNative[native]
    if (!map) throw new Error(`schema-drift: native type @db.${native} is not mapped yet; add it here`)
    type = map()
  } else {
    const byScalar: Record<string, string> = {
      String: 'text',
      Int: 'integer',
      BigInt: 'bigint',
      Boolean: 'boolean',
      DateTime: 'timestamp(3) without time zone',
      Json: 'jsonb',
      Bytes: 'bytea',
      Float: 'double precision',
      Decimal: 'numeric(65,30)',
    }
    const mapped = byScalar[field.type]
    if (!mapped) throw new Error(`schema-drift: scalar ${field.type} is not mapped yet; add it here`)
    type = mapped
  }
  return field.isList ? `${type}[]` : type
}

/**
 * Lists every difference between schema.prisma and a migrated database: missing tables and
 * columns, type and nullability mismatches, missing primary keys, unique constraints and indexes,
 * and tables the schema does not describe. An empty list means they agree.
 */
export async function schemaDrift(schema: string, db: Pick<pg.ClientBase, 'query'>): Promise<string[]> {
  const dmmf = readDmmf(schema)
  const enums = new Map(dmmf.datamodel.enums.map((e) => [e.name, e.dbName ?? e.name]))
  const problems: string[] = []
  const { rows: columns } = await db.query<{ table_name: string; column_name: string; type: string; not_null: boolean }>(`
    SELECT c.relname AS table_name, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped`)
  const { rows: indexes } = await db.query<{ table_name: string; columns: string[]; is_unique: boolean; is_primary: boolean }>(`
    SELECT t.relname AS table_name, i.indisunique AS is_unique, i.indisprimary AS is_primary,
           array(SELECT a.attname FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns
    FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE n.nspname = 'public'`)
  const tables = new Map<string, Map<string, { type: string; notNull: boolean }>>()
  for (const c of columns) {
    if (!tables.has(c.table_name)) tables.set(c.table_name, new Map())
    tables.get(c.table_name)!.set(c.column_name, { type: c.type, notNull: c.not_null })
  }
  const tableOf = new Map<string, DmmfModel>()
  for (const model of dmmf.datamodel.models) {
    const table = model.dbName ?? model.name
    tableOf.set(model.name, model)
    const dbColumns = tables.get(table)
    if (!dbColumns) {
      problems.push(`model ${model.name}: table "${table}" does not exist`)
      continue
    }
    for (const field of model.fields) {
      if (field.kind === 'object' || field.kind === 'unsupported') continue
      const column = field.dbName ?? field.name
      const actual = dbColumns.get(column)
      if (!actual) {
        problems.push(`${model.name}.${field.name}: column "${table}"."${column}" does not exist`)
        continue
      }
      const expected = expectedColumnType(field, enums)
      if (actual.type !== expected) problems.push(`${model.name}.${field.name}: column type is ${actual.type}, schema says ${expected}`)
      // Prisma Migrate creates scalar-list columns (String[]) nullable, whatever isRequired says.
      const notNull = field.isList ? false : field.isRequired
      if (actual.notNull !== notNull) {
        problems.push(`${model.name}.${field.name}: column is ${actual.notNull ? 'NOT NULL' : 'nullable'}, schema says ${notNull ? 'required' : 'optional'}`)
      }
    }
  }
  for (const index of dmmf.datamodel.indexes) {
    const model = tableOf.get(index.model)
    if (!model) continue
    const table = model.dbName ?? model.name
    const wanted = index.fields.map((f) => {
      const field = model.fields.find((m) => m.name === f.name)
      return field?.dbName ?? f.name
    })
    const found = indexes.some(
      (i) =>
        i.table_name === table &&
        i.columns.join(',') === wanted.join(',') &&
        (index.type !== 'id' || i.is_primary) &&
        (index.type !== 'unique' || i.is_unique),
    )
    if (!found) problems.push(`${index.model}: ${index.type === 'normal' ? 'index' : index.type} on (${wanted.join(', ')}) does not exist in "${table}"`)
  }
  const described = new Set(dmmf.datamodel.models.map((m) => m.dbName ?? m.name))
  for (const table of tables.keys()) {
    if (table !== '_prisma_migrations' && !described.has(table)) problems.push(`table "${table}" exists in the database but no model describes it`)
  }
  return problems
}
