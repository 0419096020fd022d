import { randomUUID } from 'node:crypto'
import type { Tx } from '../db/tx.js'
import { appendEntries, type Clock } from '../ledger/append.js'
import { ConflictError, NotFoundError, ValidationProblem } from '../plugins/errors.js'
import { RecordQuery, recordConditions } from '../records/query.js'
import { RequestClosedError } from './requests.js'
import { FINAL_STATUSES, type FoiaStatus } from './schemas.js'

export interface KeptSearch {
  id: string
  query: RecordQuery
  matched: number
  runAt: Date
  runBy: string
  rerunOf: string | null
}

async function openRequest(tx: Tx, requestId: string): Promise<void> {
  const row = await tx.foiaRequest.findUnique({ where: { id: requestId }, select: { status: true } })
  if (!row) throw new NotFoundError(`No FOIA request ${requestId}.`)
  if (FINAL_STATUSES.includes(row.status as FoiaStatus)) throw new RequestClosedError(requestId, row.status)
}

/** Keeps a search with the request and resolves it now to a fixed list of comments, attached too. */
async function keepSearch(tx: Tx, requestId: string, query: RecordQuery, actor: string, now: Date, rerunOf: string | null): Promise<{ search: KeptSearch; attached: number }> {
  const conditions = recordConditions(query)
  const id = randomUUID()
  await tx.foiaSearch.create({ data: { id, requestId, query, runAt: now, runBy: actor, rerunOf } })
  const matched = await tx.$executeRaw`INSERT INTO foia_search_result (search_id, comment_id) SELECT ${id}::uuid, c.id FROM comment c WHERE ${conditions}`
  const attached = await tx.$executeRaw`
    INSERT INTO foia_request_record (request_id, comment_id, search_id, attached_at, attached_by)
    SELECT ${requestId}::uuid, r.comment_id, r.search_id, ${now}, ${actor} FROM foia_search_result r WHERE r.search_id = ${id}::uuid
    ON CONFLICT (request_id, comment_id) DO UPDATE
      SET detached_at = NULL, detached_by = NULL, detach_reason = NULL, attached_at = EXCLUDED.attached_at, attached_by = EXCLUDED.attached_by, search_id = EXCLUDED.search_id
      WHERE foia_request_record.detached_at IS NOT NULL`
  return { search: { id, query, matched, runAt: now, runBy: actor, rerunOf }, attached }
}

/**
 * Attaches records to a request: the comments a search matches now (the search is kept with the
 * list it resolved to, so it can be re-run and compared) and/or comments by id.
 */
export async function attachRecords(
  tx: Tx,
  requestId: string,
  input: { query?: RecordQuery | undefined; commentIds?: string[] | undefined },
  actor: string,
  clock: Clock,
): Promise<{ search: KeptSearch | null; attached: number; records: number }> {
  await openRequest(tx, requestId)
  const now = clock()
  let attached = 0
  if (input.commentIds) {
    const ids = [...new Set(input.commentIds)]
    const found = await tx.$queryRaw<Array<{ id: string }>>`SELECT id::text FROM comment WHERE id = ANY(${ids}::uuid[])`
    const known = new Set(found.map((r) => r.id))
    const missing = input.commentIds.map((id, i) => ({ id, i })).filter((m) => !known.has(m.id))
    if (missing.length > 0) {
      throw new ValidationProblem(
        `${missing.length} comment id(s) are unknown; nothing was attached.`,
        missing.slice(0, 20).map((m) => ({ path: `body:$.commentIds[${m.i}]`, message: `no comment ${m.id}` })),
      )
    }
    attached += await tx.$executeRaw`
      INSERT INTO foia_request_record (request_id, comment_id, search_id, attached_at, attached_by)
      SELECT ${requestId}::uuid, id, NULL, ${now}, ${actor} FROM unnest(${ids}::uuid[]) AS id
      ON CONFLICT (request_id, comment_id) DO UPDATE
      SET detached_at = NULL, detached_by = NULL, detach_reason = NULL, attached_at = EXCLUDED.attached_at, attached_by = EXCLUDED.attached_by, search_id = EXCLUDED.search_id
      WHERE foia_request_record.detached_at IS NOT NULL`
  }
  let search: KeptSearch | null = null
  if (input.query) {
    const kept = await keepSearch(tx, requestId, input.query, actor, now, null)
    search = kept.search
    attached += kept.attached
  }
  const records = await tx.foiaRequestRecord.count({ where: { requestId, detachedAt: null } })
  return { search, attached, records }
}

async function loadSearch(tx: Tx, requestId: string, searchId: string): Promise<KeptSearch> {
  const row = await tx.foiaSearch.findFirst({ where: { id: searchId, requestId }, include: { _count: { select: { results: true } } } })
  if (!row) throw new NotFoundError(`No search ${searchId} kept with FOIA request ${requestId}.`)
  const query = RecordQuery.safeParse(row.query)
  if (!query.success) throw new ConflictError(`The kept search ${searchId} no longer reads as a records query: ${query.error.message}`, 'foia-search-outdated')
  return { id: row.id, query: query.data, matched: row._count.results, runAt: row.runAt, runBy: row.runBy, rerunOf: row.rerunOf }
}

export async function listSearches(tx: Tx, requestId: string): Promise<KeptSearch[]> {
  const rows = await tx.foiaSearch.findMany({ where: { requestId }, orderBy: [{ runAt: 'asc' }, { id: 'asc' }], include: { _count: { select: { results: true } } } })
  if (rows.length === 0 && !(await tx.foiaRequest.findUnique({ where: { id: requestId }, select: { id: true } }))) throw new NotFoundError(`No FOIA request ${requestId}.`)
  return rows.map((row) => ({ id: row.id, query: RecordQuery.parse(row.query), matched: row._count.results, runAt: row.runAt, runBy: row.runBy, rerunOf: row.rerunOf }))
}

/**
 * Runs a kept search again and compares with the list it resolved to then; with `attach`, keeps
 * this run too and attaches what it matches now.
 */
export async function rerunSearch(tx: Tx, requestId: string, searchId: string, attach: boolean, actor: string, clock: Clock) {
  const kept = await loadSearch(tx, requestId, searchId)
  const conditions = recordConditions(kept.query)
  const [counts] = await tx.$queryRaw<Array<{ now: bigint; fresh: bigint; gone: bigint }>>`
    SELECT (SELECT count(*) FROM comment c WHERE ${conditions}) AS now,
           (SELECT count(*) FROM comment c WHERE ${conditions}
               AND NOT EXISTS (SELECT 1 FROM foia_search_result r WHERE r.search_id = ${searchId}::uuid AND r.comment_id = c.id)) AS fresh,
           (SELECT count(*) FROM foia_search_result r WHERE r.search_id = ${searchId}::uuid
               AND NOT EXISTS (SELECT 1 FROM comment c WHERE c.id = r.comment_id AND ${conditions})) AS gone`
  let search: KeptSearch | null = null
  let attached = 0
  if (attach) {
    await openRequest(tx, requestId)
    const run = await keepSearch(tx, requestId, kept.query, actor, clock(), searchId)
    search = run.search
    attached = run.attached
  }
  return { matchedThen: kept.matched, matchedNow: Number(counts!.now), newMatches: Number(counts!.fresh), noLongerMatching: Number(counts!.gone), search, attached }
}

export interface Withholding {
  commentId: string
  withheld: boolean
  citation: string | null
  note: string | null
  decidedAt: Date
  decidedBy: string
}

/**
 * Withholds an attached record in full from the request's productions, citing the exemption
 * (withheld: true), or releases it (false). Kept as history: the latest decision counts.
 */
export async function setWithholding(
  tx: Tx,
  requestId: string,
  commentId: string,
  input: { withheld: boolean; citation?: string | undefined; note?: string | undefined },
  actor: string,
  clock: Clock,
): Promise<Withholding> {
  await openRequest(tx, requestId)
  const attached = await tx.foiaRequestRecord.findUnique({ where: { requestId_commentId: { requestId, commentId } }, select: { detachedAt: true } })
  if (!attached || attached.detachedAt) {
    throw new NotFoundError(`Comment ${commentId} is not attached to FOIA request ${requestId}.`)
  }
  const row = await tx.foiaWithholding.create({
    data: { requestId, commentId, withheld: input.withheld, citation: input.withheld ? input.citation ?? null : null, note: input.note ?? null, decidedAt: clock(), decidedBy: actor },
  })
  return { commentId, withheld: row.withheld, citation: row.citation, note: row.note, decidedAt: row.decidedAt, decidedBy: row.decidedBy }
}

/** The latest withholding decision of each of the given attached records that is withheld now. */
export async function currentWithholdings(tx: Tx, requestId: string, commentIds: string[]): Promise<Map<string, Withholding>> {
  if (commentIds.length === 0) return new Map()
  const rows = await tx.$queryRaw<Array<{ comment_id: string; withheld: boolean; citation: string | null; note: string | null; decided_at: Date; decided_by: string }>>`
    SELECT DISTINCT ON (comment_id) comment_id::text, withheld, citation, note, decided_at, decided_by FROM foia_withholding
     WHERE request_id = ${requestId}::uuid AND comment_id = ANY(${commentIds}::uuid[]) ORDER BY comment_id, seq DESC`
  return new Map(
    rows.filter((r) => r.withheld).map((r) => [r.comment_id, { commentId: r.comment_id, withheld: true, citation: r.citation, note: r.note, decidedAt: r.decided_at, decidedBy: r.decided_by }]),
  )
}

export async function listAttached(tx: Tx, requestId: string, page: { limit: number; after?: string }) {
  if (!(await tx.foiaRequest.findUnique({ where: { id: requestId }, select: { id: true } }))) throw new NotFoundError(`No FOIA request ${requestId}.`)
  const rows = await tx.foiaRequestRecord.findMany({
    where: { requestId, detachedAt: null, ...(page.after ? { commentId: { gt: page.after } } : {}) },
    orderBy: { commentId: 'asc' },
    take: page.limit + 1,
    include: {
      comment: {
        select: { disposedAt: true, platform: true, externalId: true, authorName: true, currentText: true, status: true, firstPlatformAt: true, lastPlatformAt: true, versionCount: true, byCity: true },
      },
    },
  })
  const items = rows.slice(0, page.limit)
  const withheld = await currentWithholdings(tx, requestId, items.map((r) => r.commentId))
  return { items: items.map((r) => ({ ...r, withholding: withheld.get(r.commentId) ?? null })), more: rows.length > page.limit }
}

/**
 * Detaches a record from an open request (attached by mistake, or outside the request): it leaves
 * the request's records and productions. The row stays, marked with who detached it, when and why,
 * and the detachment is a `foia.record_detached` ledger entry; attaching it again clears the mark
 * (the ledger keeps the detachment). A withholding or redaction of it stays in its history.
 */
export async function detachRecord(tx: Tx, requestId: string, commentId: string, reason: string, actor: string, clock: Clock): Promise<{ ledgerEntryId: string; records: number }> {
  await tx.$queryRaw`SELECT id FROM foia_request WHERE id = ${requestId}::uuid FOR UPDATE`
  await openRequest(tx, requestId)
  const row = await tx.foiaRequestRecord.findUnique({ where: { requestId_commentId: { requestId, commentId } }, select: { detachedAt: true } })
  if (!row || row.detachedAt) throw new NotFoundError(`Comment ${commentId} is not attached to FOIA request ${requestId}.`)
  const now = clock()
  await tx.foiaRequestRecord.update({ where: { requestId_commentId: { requestId, commentId } }, data: { detachedAt: now, detachedBy: actor, detachReason: reason } })
  const request = await tx.foiaRequest.findUniqueOrThrow({ where: { id: requestId }, select: { trackingNumber: true } })
  const [entry] = await appendEntries(tx, [
    { kind: 'foia.record_detached', subject: requestId, actor, payload: { requestId, trackingNumber: request.trackingNumber, commentId, reason } },
  ])
  const records = await tx.foiaRequestRecord.count({ where: { requestId, detachedAt: null } })
  return { ledgerEntryId: entry!.id, records }
}
