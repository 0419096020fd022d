import type pg from 'pg'
import type { Tx } from './tx.js'

/**
 * A statement PostgreSQL may prepare once per connection and run again with a cached plan (`pg`'s
 * named statements; Prisma runs it unnamed). Only for statements with one sensible plan whatever
 * the statistics: plain inserts, lookups by a unique key. A cached generic plan for a join against
 * a table that was small when it was planned keeps its hash join or scan after the table has grown
 * (measured: a thread-link join planned on a new database took 430 ms per 50-comment delivery).
 */
export interface PreparedStatement {
  name: string
  text: string
}

export function prepared(name: string, text: string): PreparedStatement {
  return { name, text }
}

/**
 * The one thing shared SQL code needs from a transaction: run a parameterized statement and get its
 * rows. Both a Prisma interactive transaction and a `pg` client opened by `inPgTransaction` give it,
 * so ledger, moderation and ingestion SQL is written once (asSql). Results are `pg`'s types; write
 * casts in the SQL (`::text`, `::int`) where Prisma and `pg` would read a column differently
 * (bigint, numeric).
 */
export interface SqlClient {
  query<R = Record<string, unknown>>(statement: string | PreparedStatement, values?: readonly unknown[]): Promise<R[]>
}

/** What shared SQL code accepts: either kind of transaction. */
export type Queryable = Tx | SqlClient

export function asSql(q: Queryable): SqlClient {
  if ('$queryRawUnsafe' in q) {
    return {
      query: <R>(statement: string | PreparedStatement, values: readonly unknown[] = []) =>
        q.$queryRawUnsafe<R[]>(typeof statement === 'string' ? statement : statement.text, ...values),
    }
  }
  return q
}

/** A SqlClient over one checked-out `pg` client. */
export function pgSql(client: pg.ClientBase): SqlClient {
  return {
    async query<R>(statement: string | PreparedStatement, values: readonly unknown[] = []): Promise<R[]> {
      const config = typeof statement === 'string' ? { text: statement } : { name: statement.name, text: statement.text }
      const result = await client.query({ ...config, values: values as unknown[] })
      return result.rows as R[]
    },
  }
}

/**
 * Runs `work` in one transaction on a client of the shared pool, without Prisma's per-statement
 * overhead (about 0.3 ms of CPU per statement in an interactive transaction; docs/performance.md):
 * committed when it returns, rolled back when it throws. Same isolation as `inTransaction` (the
 * database default, READ COMMITTED) unless `isolation` asks for one snapshot. Nothing a caller acknowledges may happen before this resolves.
 */
export async function inPgTransaction<T>(
  pool: pg.Pool,
  work: (sql: SqlClient, client: pg.PoolClient) => Promise<T>,
  options: { statementTimeoutMs?: number; isolation?: 'REPEATABLE READ' } = {},
): Promise<T> {
  // Bounds a statement stuck on a lock, as Prisma's 30 s transaction timeout did; sent with BEGIN
  // in one message, so it costs no round trip.
  const timeoutMs = Math.floor(options.statementTimeoutMs ?? 30_000)
  const client = await pool.connect()
  // Set when the connection's state is unknown (BEGIN, COMMIT or ROLLBACK failed, or the
  // connection died): it is then destroyed instead of going back to the pool.
  let broken: Error | undefined
  // A checked-out client has no 'error' listener of the pool's: without this one, a connection
  // lost mid-transaction (server restart) would be an uncaught 'error' event and end the process.
  // The statement in flight is rejected with the same error, so the caller still sees it.
  const onError = (error: Error) => {
    broken = error
  }
  client.on('error', onError)
  try {
    try {
      await client.query(`BEGIN${options.isolation ? ` ISOLATION LEVEL ${options.isolation}` : ''}; SET LOCAL statement_timeout = ${timeoutMs}`)
    } catch (error) {
      broken = error as Error
      throw error
    }
    let result: T
    try {
      result = await work(pgSql(client), client)
    } catch (error) {
      try {
        await client.query('ROLLBACK')
      } catch (rollbackError) {
        broken = rollbackError as Error
      }
      throw error
    }
    try {
      await client.query('COMMIT')
    } catch (error) {
      broken = error as Error
      throw error
    }
    return result
  } finally {
    client.removeListener('error', onError)
    client.release(broken)
  }
}
