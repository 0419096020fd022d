import type { z } from 'zod'
import type { Tx } from '../db/tx.js'
import { Prisma } from '../generated/prisma/client.js'
import { recordConditions, recordKindSql, type RecordQuery } from './query.js'
import { eventCheckView, groupBy, ledgerCheckView, reconcileComments } from './reconcile.js'
import type * as S from './schemas.js'
import { numberOf, versionNumbers } from '../policy/version-numbers.js'

export type CommentRecord = z.infer<typeof S.CommentRecord>
export type CommentRecordDetail = z.infer<typeof S.CommentRecordDetail>

export interface SearchPage {
  limit: number
  /** The seq of the last comment of the previous page. */
  afterSeq?: bigint | undefined
}

export interface SearchResult {
  total: number
  items: CommentRecord[]
  /** The seq to continue after, or null on the last page. */
  next: bigint | null
}

/**
 * The comments matching a clerk's query, newest first by arrival (seq): a comment that arrives
 * later gets a higher seq, so it never shifts a later page. One pass over the matches gives both
 * the exact total and the page (a materialized CTE, so the text index is read once), then the
 * page's details in a few set-based queries. Run it in a transaction, in one snapshot (see loggedRead);
 * it switches JIT compilation off for the rest of that transaction.
 */
export async function searchRecords(tx: Tx, query: RecordQuery, page: SearchPage): Promise<SearchResult> {
  return searchWhere(tx, recordConditions(query), page)
}

/** searchRecords over any conditions on `c`: the benchmark's ILIKE baseline goes through it too. */
export async function searchWhere(tx: Tx, conditions: Prisma.Sql, page: SearchPage): Promise<SearchResult> {
  // A broad search (say, every comment never removed) has a plan cost above jit_above_cost, and
  // compiling it would cost a clerk 100-200 ms more than running it.
  await tx.$executeRaw`SET LOCAL jit = off`
  const rows = await tx.$queryRaw<Array<{ total: number; id: string | null; seq: bigint | null }>>(matchesSql(conditions, page))
  const total = rows[0]?.total ?? 0
  const hits = rows.filter((r): r is { total: number; id: string; seq: bigint } => r.id !== null)
  const shown = hits.slice(0, page.limit)
  return {
    total,
    items: await recordsByIds(tx, shown.map((h) => h.id)),
    next: hits.length > page.limit ? shown[shown.length - 1]!.seq : null,
  }
}

/**
 * The total and the page's ids (one more than the limit, to tell whether a next page exists) in one
 * pass over the matches; always at least one row, with a null id when the page is empty.
 */
export function matchesSql(conditions: Prisma.Sql, page: SearchPage): Prisma.Sql {
  const after = page.afterSeq === undefined ? Prisma.empty : Prisma.sql`WHERE m.seq < ${page.afterSeq}`
  return Prisma.sql`
    WITH m AS MATERIALIZED (SELECT c.id, c.seq FROM comment c WHERE ${conditions})
    SELECT t.total, p.id, p.seq
      FROM (SELECT count(*)::int AS total FROM m) t
      LEFT JOIN LATERAL (SELECT m.id, m.seq FROM m ${after} ORDER BY m.seq DESC LIMIT ${page.limit + 1}) p ON true
     ORDER BY p.seq DESC`
}

/** One record with its thread links, or null. */
export async function getRecord(tx: Tx, id: string): Promise<CommentRecordDetail | null> {
  const [record] = await recordsByIds(tx, [id])
  if (!record) return null
  const replies = await tx.comment.findMany({ where: { parentId: id }, select: { id: true }, orderBy: [{ firstPlatformAt: 'asc' }, { seq: 'asc' }] })
  return { ...record, thread: { parentId: record.parentId, replyIds: replies.map((r) => r.id) } }
}

interface CommentRow {
  id: string
  record_kind: CommentRecord['recordKind']
  platform: CommentRecord['platform']
  account: string
  external_id: string
  post_id: string | null
  parent_id: string | null
  parent_external_id: string | null
  author_id: string | null
  author_name: string | null
  author_email: string | null
  by_city: boolean
  status: CommentRecord['status']
  moderation_status: CommentRecord['moderationStatus']
  current_text: string | null
  version_count: number
  first_platform_at: Date
  last_platform_at: Date
}

/**
 * Full records for the given comment ids, in the order given: the comment, every event, every
 * decision and its platform actions. Four queries whatever the number of ids.
 */
export async function recordsByIds(tx: Tx, ids: readonly string[]): Promise<CommentRecord[]> {
  if (ids.length === 0) return []
  const comments = await tx.$queryRaw<CommentRow[]>`
    SELECT c.id, (${recordKindSql}) AS record_kind, c.platform, c.account, c.external_id, c.post_id, c.parent_id, c.parent_external_id,
           c.author_id, c.author_name, c.author_email, c.by_city, c.status, c.moderation_status, c.current_text, c.version_count,
           c.first_platform_at, c.last_platform_at
      FROM comment c WHERE c.id = ANY(${[...ids]}::uuid[])`
  const events = await tx.commentEvent.findMany({
    where: { commentId: { in: [...ids] } },
    orderBy: [{ platformTime: 'asc' }, { receivedAt: 'asc' }, { id: 'asc' }],
  })
  const decisions = await tx.moderationDecision.findMany({ where: { commentId: { in: [...ids] } }, orderBy: [{ decidedAt: 'asc' }, { id: 'asc' }] })
  const actions = decisions.length
    ? await tx.platformAction.findMany({ where: { decisionId: { in: decisions.map((d) => d.id) } }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] })
    : []
  // A decision's actions share one creation time; list them in the order they were created.
  actions.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || OPERATION_ORDER.indexOf(a.operation) - OPERATION_ORDER.indexOf(b.operation))

  // Each record checked against the ledger in the same snapshot (src/records/reconcile.ts).
  const checks = await reconcileComments(tx, ids)
  const eventsOf = groupBy(events, (e) => e.commentId)
  const decisionsOf = groupBy(decisions, (d) => d.commentId)
  const numbers = await versionNumbers(tx, decisions.map((d) => d.policyVersionId))
  const actionsOf = groupBy(actions, (a) => a.decisionId)
  const byId = new Map(comments.map((c) => [c.id, c]))
  return ids.flatMap((id) => {
    const c = byId.get(id)
    if (!c) return []
    const check = checks.get(id)!
    const all = (eventsOf.get(id) ?? []).map((e) => ({
      id: e.id,
      kind: e.kind as CommentRecord['versions'][number]['kind'],
      text: e.text,
      platformTime: e.platformTime.toISOString(),
      receivedAt: e.receivedAt.toISOString(),
      ledgerEntryId: e.ledgerEntryId,
      ...eventCheckView(check, e.id),
    }))
    const record: CommentRecord = {
      id: c.id,
      recordKind: c.record_kind,
      platform: c.platform,
      account: c.account,
      externalId: c.external_id,
      postId: c.post_id,
      parentId: c.parent_id,
      parentExternalId: c.parent_external_id,
      author: { id: c.author_id, name: c.author_name, email: c.author_email },
      byCity: c.by_city,
      status: c.status,
      moderationStatus: c.moderation_status,
      text: c.current_text,
      versionCount: c.version_count,
      firstPlatformAt: c.first_platform_at.toISOString(),
      lastPlatformAt: c.last_platform_at.toISOString(),
      versions: all.filter((e) => e.kind === 'created' || e.kind === 'edited'),
      stateChanges: all.filter((e) => e.kind !== 'created' && e.kind !== 'edited'),
      decisions: (decisionsOf.get(id) ?? []).map((d) => ({
        id: d.id,
        versionId: d.eventId,
        action: d.action as CommentRecord['decisions'][number]['action'],
        actor: d.actor,
        automatic: d.automatic,
        platformAction: d.platformAction as CommentRecord['decisions'][number]['platformAction'],
        policyVersionId: d.policyVersionId,
        policyVersion: numberOf(numbers, d.policyVersionId),
        ruleCodes: d.ruleCodes,
        note: d.note,
        noticeText: d.noticeText,
        decidedAt: d.decidedAt.toISOString(),
        ledgerEntryId: d.ledgerEntryId,
        actions: (actionsOf.get(d.id) ?? []).map((a) => ({
          id: a.id,
          operation: a.operation as CommentRecord['decisions'][number]['actions'][number]['operation'],
          status: a.status as CommentRecord['decisions'][number]['actions'][number]['status'],
          attempts: a.attempts,
          lastError: a.lastError,
          createdAt: a.createdAt.toISOString(),
          completedAt: a.completedAt?.toISOString() ?? null,
        })),
      })),
      ledger: ledgerCheckView(check),
    }
    return [record]
  })
}

const OPERATION_ORDER = ['delete', 'hide', 'unhide', 'reply', 'email']

