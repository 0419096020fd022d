import { randomUUID } from 'node:crypto'
import type { FastifyRequest } from 'fastify'
import type pg from 'pg'
import { inPgTransaction, type SqlClient } from '../db/sql.js'
import type { Tx } from '../db/tx.js'
import { Prisma, type AccessLogEntry, type PrismaClient } from '../generated/prisma/client.js'

/**
 * The access log: every read of retained records by a person (DESIGN principle 7). Rows are
 * append-only in the database (triggers), like the ledger. A read is served only after its entry
 * is committed: callers write the entry in the transaction that read the records.
 */

export type AccessAction = 'records.search' | 'records.read' | 'audit.access' | (string & {})

export interface AccessEntry {
  /** `user:<sub>`. */
  actor: string
  roles: readonly string[]
  at: Date
  /** What was done, e.g. `records.search`; other domains add theirs (e.g. `foia.production`). */
  action: AccessAction
  /** The route template, e.g. `GET /v1/records/search`. */
  route: string
  /** The filters and parameters as received (validated); stored as JSON. */
  query: unknown
  /**
   * Exactly the record ids returned, in the order returned; or, when there can be very many (a FOIA
   * production), a query that yields them (one uuid column), so they never pass through memory.
   */
  recordIds: readonly string[] | Prisma.Sql
  requestId: string
}

function accessInsert(entry: AccessEntry): { id: string; insert: Prisma.Sql } {
  const id = randomUUID()
  const ids = Array.isArray(entry.recordIds)
    ? Prisma.sql`${entry.recordIds}::uuid[]`
    : Prisma.sql`(SELECT coalesce(array_agg(r.id), '{}') FROM (${entry.recordIds as Prisma.Sql}) AS r(id))`
  const insert = Prisma.sql`
    INSERT INTO access_log (id, actor, roles, at, action, route, query, record_ids, count, request_id)
    SELECT ${id}::uuid, ${entry.actor}, ${[...entry.roles]}::text[], ${entry.at}, ${entry.action}, ${entry.route},
           ${JSON.stringify(entry.query ?? {})}::jsonb, ids.v, cardinality(ids.v), ${entry.requestId}
      FROM (SELECT ${ids} AS v) AS ids`
  return { id, insert }
}

/** Appends one entry in the caller's transaction (or on its own when given the client). */
export async function recordAccess(db: Tx | PrismaClient | SqlClient, entry: AccessEntry): Promise<{ id: string }> {
  const { id, insert } = accessInsert(entry)
  if ('$executeRaw' in db) await db.$executeRaw(insert)
  else await db.query(insert.text, insert.values)
  return { id }
}

/** Who read what, from an authenticated request: everything an entry needs but the ids. */
export function accessFrom(request: FastifyRequest, action: AccessAction, query: unknown, at: Date): Omit<AccessEntry, 'recordIds'> {
  return {
    actor: `user:${request.user.sub}`,
    roles: request.user.roles,
    at,
    action,
    route: `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`,
    query,
    requestId: request.id,
  }
}

/**
 * Runs a read and logs it in one transaction: the entry commits with the read or not at all, so a
 * read is never served without its entry. Repeatable read, so the read's queries (a count, a page,
 * the details) see one snapshot.
 */
export async function loggedRead<T>(
  prisma: PrismaClient,
  access: Omit<AccessEntry, 'recordIds'>,
  read: (tx: Tx) => Promise<{ value: T; recordIds: readonly string[] }>,
): Promise<T> {
  return prisma.$transaction(
    async (tx) => {
      const { value, recordIds } = await read(tx)
      await recordAccess(tx, { ...access, recordIds })
      return value
    },
    { isolationLevel: 'RepeatableRead', maxWait: 5_000, timeout: 30_000 },
  )
}

/**
 * loggedRead on a plain `pg` client of the pool, for reads written against `pg` (the ledger's
 * proofs): REPEATABLE READ, the entry committed with the read or not at all.
 */
export function loggedPgRead<T>(
  pool: pg.Pool,
  access: Omit<AccessEntry, 'recordIds'>,
  read: (client: pg.PoolClient) => Promise<{ value: T; recordIds: readonly string[] }>,
): Promise<T> {
  return inPgTransaction(
    pool,
    async (sql, client) => {
      const { value, recordIds } = await read(client)
      await recordAccess(sql, { ...access, recordIds })
      return value
    },
    { isolation: 'REPEATABLE READ' },
  )
}

export interface AccessFilter {
  /** `user:<sub>`, or the bare subject. */
  actor?: string | undefined
  action?: string | undefined
  from?: string | undefined
  to?: string | undefined
  /** Entries whose returned ids include this record. */
  recordId?: string | undefined
}

/** Newest first by insertion (seq), which new entries never reorder. */
export async function listAccess(db: Tx | PrismaClient, filter: AccessFilter, page: { limit: number; afterSeq?: bigint | undefined }) {
  const where: Prisma.AccessLogEntryWhereInput = {
    ...(filter.actor ? { actor: filter.actor.includes(':') ? filter.actor : `user:${filter.actor}` } : {}),
    ...(filter.action ? { action: filter.action } : {}),
    ...(filter.from || filter.to ? { at: { ...(filter.from ? { gte: new Date(filter.from) } : {}), ...(filter.to ? { lt: new Date(filter.to) } : {}) } } : {}),
    ...(filter.recordId ? { recordIds: { has: filter.recordId } } : {}),
    ...(page.afterSeq !== undefined ? { seq: { lt: page.afterSeq } } : {}),
  }
  const rows = await db.accessLogEntry.findMany({ where, orderBy: { seq: 'desc' }, take: page.limit + 1 })
  return { items: rows.slice(0, page.limit), next: rows.length > page.limit ? rows[page.limit - 1]!.seq : null }
}

export function toAccessView(e: AccessLogEntry) {
  return {
    id: e.id,
    actor: e.actor,
    roles: e.roles,
    at: e.at.toISOString(),
    action: e.action,
    route: e.route,
    query: e.query,
    recordIds: e.recordIds,
    count: e.count,
    requestId: e.requestId,
  }
}
