import { randomUUID } from 'node:crypto'
import type { Tx } from '../db/tx.js'
import { Prisma, type LegalHold } from '../generated/prisma/client.js'
import { appendEntries, type Clock } from '../ledger/append.js'
import { ConflictError, NotFoundError, ValidationProblem } from '../plugins/errors.js'
import { recordConditions, RecordQuery } from '../records/query.js'

/**
 * Holds and disposals take this lock first, in their own transaction (docs/retention.md, "The hold
 * race"). The database also takes it in a trigger on every hold change and in dispose_records, so
 * the guarantee does not depend on this code remembering to.
 */
export async function takeRetentionLock(tx: Tx): Promise<void> {
  await tx.$executeRaw`SELECT retention_lock()`
}

export interface HoldView {
  hold: LegalHold
  recordCount: number
  recordIds?: string[]
  alreadyDisposed: string[]
}

async function holdView(tx: Tx, hold: LegalHold, withIds: boolean): Promise<HoldView> {
  const rows = await tx.$queryRaw<Array<{ comment_id: string; disposed: boolean }>>`
    SELECT hr.comment_id::text, c.disposed_at IS NOT NULL AS disposed
      FROM legal_hold_record hr JOIN comment c ON c.id = hr.comment_id
     WHERE hr.hold_id = ${hold.id}::uuid ORDER BY hr.comment_id`
  return {
    hold,
    recordCount: rows.length,
    ...(withIds ? { recordIds: rows.map((r) => r.comment_id) } : {}),
    alreadyDisposed: rows.filter((r) => r.disposed).map((r) => r.comment_id),
  }
}

/**
 * Places a legal hold on explicit records or on a search. A search hold covers what matches now
 * (resolved and kept at placement) and, while active, whatever matches it later: every eligibility
 * check and disposal evaluates it again. Appended to the ledger as `hold.placed`.
 */
export async function placeHold(
  tx: Tx,
  actor: string,
  input: { reason: string; query?: RecordQuery | undefined; recordIds?: string[] | undefined },
  clock: Clock,
): Promise<HoldView> {
  await takeRetentionLock(tx)
  const now = clock()
  let ids: string[]
  if (input.query) {
    const rows = await tx.$queryRaw<Array<{ id: string }>>`SELECT c.id::text FROM comment c WHERE ${recordConditions(input.query)} ORDER BY c.id`
    ids = rows.map((r) => r.id)
  } else {
    ids = [...new Set(input.recordIds ?? [])].sort()
    const found = new Set((await tx.$queryRaw<Array<{ id: string }>>`SELECT id::text FROM comment WHERE id = ANY(${ids}::uuid[])`).map((r) => r.id))
    const unknown = ids.filter((id) => !found.has(id))
    if (unknown.length > 0) {
      throw new ValidationProblem(
        `No record ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''}; nothing was held.`,
        unknown.slice(0, 20).map((id) => ({ path: 'body:$.recordIds', message: `unknown record ${id}` })),
      )
    }
  }
  const id = randomUUID()
  const [entry] = await appendEntries(
    tx,
    [{ kind: 'hold.placed', subject: id, actor, payload: { holdId: id, reason: input.reason, query: input.query ?? null, recordIds: ids } }],
  )
  const hold = await tx.legalHold.create({
    data: { id, reason: input.reason, query: input.query ?? Prisma.DbNull, status: 'active', placedBy: actor, placedAt: now, placedEntryId: entry!.id },
  })
  if (ids.length > 0) await tx.legalHoldRecord.createMany({ data: ids.map((commentId) => ({ holdId: id, commentId, source: 'placement', addedAt: now })) })
  return holdView(tx, hold, true)
}

export async function releaseHold(tx: Tx, actor: string, id: string, reason: string, clock: Clock): Promise<HoldView> {
  await takeRetentionLock(tx)
  const now = clock()
  const hold = await tx.legalHold.findUnique({ where: { id } })
  if (!hold) throw new NotFoundError(`No legal hold ${id}.`)
  if (hold.status !== 'active') throw new ConflictError(`Legal hold ${id} was already released on ${hold.releasedAt?.toISOString()}.`, 'hold-released')
  const [entry] = await appendEntries(tx, [{ kind: 'hold.released', subject: id, actor, payload: { holdId: id, reason } }])
  const released = await tx.legalHold.update({
    where: { id },
    data: { status: 'released', releasedBy: actor, releasedAt: now, releaseReason: reason, releasedEntryId: entry!.id },
  })
  return holdView(tx, released, true)
}

export async function getHold(tx: Tx, id: string): Promise<HoldView> {
  const hold = await tx.legalHold.findUnique({ where: { id } })
  if (!hold) throw new NotFoundError(`No legal hold ${id}.`)
  return holdView(tx, hold, true)
}

/** Newest first; the cursor is the last hold's (placedAt, id). */
export async function listHolds(tx: Tx, filter: { status?: string | undefined }, page: { limit: number; after?: { placedAt: Date; id: string } | undefined }) {
  const rows = await tx.legalHold.findMany({
    where: {
      ...(filter.status ? { status: filter.status } : {}),
      ...(page.after ? { OR: [{ placedAt: { lt: page.after.placedAt } }, { placedAt: page.after.placedAt, id: { lt: page.after.id } }] } : {}),
    },
    orderBy: [{ placedAt: 'desc' }, { id: 'desc' }],
    take: page.limit + 1,
  })
  const items = await Promise.all(rows.slice(0, page.limit).map((h) => holdView(tx, h, false)))
  return { items, more: rows.length > page.limit }
}

/**
 * The condition "under an active legal hold" on a comment (alias `c`): listed in a hold, or
 * matching the search of an active search hold (so records that arrived after placement count).
 */
export async function heldConditionSql(tx: Tx): Promise<Prisma.Sql> {
  const searches = await activeSearchHolds(tx)
  const parts = [
    Prisma.sql`EXISTS (SELECT 1 FROM legal_hold_record hr JOIN legal_hold h ON h.id = hr.hold_id WHERE h.status = 'active' AND hr.comment_id = c.id)`,
    ...searches.map((s) => Prisma.sql`(${recordConditions(s.query)})`),
  ]
  return Prisma.sql`(${Prisma.join(parts, ' OR ')})`
}

async function activeSearchHolds(tx: Tx): Promise<Array<{ id: string; query: RecordQuery }>> {
  const rows = await tx.legalHold.findMany({ where: { status: 'active', NOT: { query: { equals: Prisma.DbNull } } }, select: { id: true, query: true } })
  return rows.map((r) => ({ id: r.id, query: RecordQuery.parse(r.query) }))
}

/**
 * For records about to be disposed: records later matches of active search holds as covered by
 * them (source `search`, so the hold's record list shows them and the database guard sees them),
 * then returns, per record, the active holds that cover it. Call under the retention lock.
 */
export async function holdsCovering(tx: Tx, commentIds: string[], clock: Clock): Promise<Map<string, string[]>> {
  if (commentIds.length === 0) return new Map()
  const now = clock()
  for (const search of await activeSearchHolds(tx)) {
    await tx.$executeRaw`
      INSERT INTO legal_hold_record (hold_id, comment_id, source, added_at)
      SELECT ${search.id}::uuid, c.id, 'search', ${now} FROM comment c
       WHERE c.id = ANY(${commentIds}::uuid[]) AND ${recordConditions(search.query)}
      ON CONFLICT DO NOTHING`
  }
  const rows = await tx.$queryRaw<Array<{ comment_id: string; holds: string[] }>>`
    SELECT hr.comment_id::text, array_agg(h.id::text ORDER BY h.id) AS holds
      FROM legal_hold_record hr JOIN legal_hold h ON h.id = hr.hold_id
     WHERE h.status = 'active' AND hr.comment_id = ANY(${commentIds}::uuid[])
     GROUP BY hr.comment_id`
  return new Map(rows.map((r) => [r.comment_id, r.holds]))
}
