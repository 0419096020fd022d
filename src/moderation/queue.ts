import { randomUUID } from 'node:crypto'
import type { Prisma } from '../generated/prisma/client.js'
import type { Tx } from '../db/tx.js'
import { asSql, prepared, type Queryable } from '../db/sql.js'
import { ConflictError, NotFoundError } from '../plugins/errors.js'

export type ReviewReason = 'flagged' | 'unevaluated' | 'action_failed'

export interface ReviewItemInput {
  commentId: string
  eventId: string
  policyVersionId: string | null
  ruleCodes: string[]
  evidence: unknown
  reason: ReviewReason
}

/** Opens the comment's review item, or updates the one already open (one open item per comment). */
export async function openReviewItem(tx: Queryable, item: ReviewItemInput, now: Date): Promise<void> {
  await openReviewItems(tx, [item], now)
}

const OPEN_REVIEW_ITEMS = prepared(
  'review_items_open',
  // Rule codes travel as JSON arrays: unnest would flatten a two-dimensional text[].
  `INSERT INTO review_item (id, comment_id, event_id, policy_version_id, rule_codes, evidence, reason, status, created_at)
   SELECT i.id, i.comment_id, i.event_id, i.policy_version_id, ARRAY(SELECT jsonb_array_elements_text(i.rule_codes)),
          i.evidence, i.reason, 'open', $7::timestamptz
     FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::jsonb[], $6::jsonb[], $8::text[])
          AS i(id, comment_id, event_id, policy_version_id, rule_codes, evidence, reason)
   ON CONFLICT (comment_id) WHERE status = 'open'
   DO UPDATE SET event_id = EXCLUDED.event_id, policy_version_id = COALESCE(EXCLUDED.policy_version_id, review_item.policy_version_id),
                 rule_codes = EXCLUDED.rule_codes, evidence = EXCLUDED.evidence, reason = EXCLUDED.reason`,
)

/**
 * openReviewItem for several items in one statement, with the same result as opening them one
 * after the other in this order: one INSERT cannot touch the same open item twice, so items for one
 * comment are first merged as the successive updates would leave them (the last item's fields; its
 * policy version, or else the latest one given before it, or else the open item's).
 */
export async function openReviewItems(tx: Queryable, items: readonly ReviewItemInput[], now: Date): Promise<void> {
  if (items.length === 0) return
  const byComment = new Map<string, ReviewItemInput>()
  for (const item of items) {
    const earlier = byComment.get(item.commentId)
    byComment.set(item.commentId, earlier ? { ...item, policyVersionId: item.policyVersionId ?? earlier.policyVersionId } : item)
  }
  const merged = [...byComment.values()]
  await asSql(tx).query(OPEN_REVIEW_ITEMS, [
    merged.map(() => randomUUID()),
    merged.map((i) => i.commentId),
    merged.map((i) => i.eventId),
    merged.map((i) => i.policyVersionId),
    merged.map((i) => JSON.stringify(i.ruleCodes)),
    merged.map((i) => JSON.stringify(i.evidence)),
    now,
    merged.map((i) => i.reason),
  ])
}

export class ClaimConflictError extends ConflictError {
  constructor(by: string, until: Date) {
    super(`The item is claimed by ${by} until ${until.toISOString()}.`, 'claimed')
  }
}

export interface QueueFilter {
  platform?: string
  ruleCode?: string
  postId?: string
  reason?: ReviewReason
  /** Only items waiting at least this long. */
  olderThanMinutes?: number
}

/** Open items, oldest first, with their comment and the evidence that put them here. */
export async function listQueue(tx: Tx, filter: QueueFilter, page: { limit: number; after?: { createdAt: Date; id: string } }, now: Date) {
  const where: Prisma.ReviewItemWhereInput = {
    status: 'open',
    ...(filter.reason ? { reason: filter.reason } : {}),
    ...(filter.ruleCode ? { ruleCodes: { has: filter.ruleCode } } : {}),
    ...(filter.olderThanMinutes ? { createdAt: { lte: new Date(now.getTime() - filter.olderThanMinutes * 60_000) } } : {}),
    ...(page.after ? { OR: [{ createdAt: { gt: page.after.createdAt } }, { createdAt: page.after.createdAt, id: { gt: page.after.id } }] } : {}),
  }
  if (filter.platform || filter.postId) where.comment = { ...(filter.platform ? { platform: filter.platform } : {}), ...(filter.postId ? { postId: filter.postId } : {}) }
  const items = await tx.reviewItem.findMany({ where, include: { comment: true }, orderBy: [{ createdAt: 'asc' }, { id: 'asc' }], take: page.limit + 1 })
  return { items: items.slice(0, page.limit), more: items.length > page.limit }
}

async function requireOpenItem(tx: Tx, itemId: string) {
  const item = await tx.reviewItem.findUnique({ where: { id: itemId } })
  if (!item) throw new NotFoundError(`No review item ${itemId}.`)
  if (item.status !== 'open') throw new ConflictError(`Review item ${itemId} is closed: the comment was decided.`, 'review-item-closed')
  return item
}

/** Claims an item for `actor` until now + minutes; renewing one's own claim is allowed. */
export async function claimItem(tx: Tx, actor: string, itemId: string, minutes: number, now: Date) {
  await tx.$executeRaw`SELECT 1 FROM review_item WHERE id = ${itemId}::uuid FOR UPDATE`
  assertNotHeldByOther(await requireOpenItem(tx, itemId), actor, now)
  return tx.reviewItem.update({ where: { id: itemId }, data: { claimedBy: actor, claimExpiresAt: new Date(now.getTime() + minutes * 60_000) } })
}

export async function releaseItem(tx: Tx, actor: string, itemId: string, now: Date) {
  await tx.$executeRaw`SELECT 1 FROM review_item WHERE id = ${itemId}::uuid FOR UPDATE`
  assertNotHeldByOther(await requireOpenItem(tx, itemId), actor, now)
  return tx.reviewItem.update({ where: { id: itemId }, data: { claimedBy: null, claimExpiresAt: null } })
}

/** Refuses a decision on a comment whose open item someone else holds. */
export async function assertNotClaimedByOther(tx: Tx, actor: string, commentId: string, now: Date): Promise<void> {
  const rows = await tx.$queryRaw<Array<{ claimed_by: string | null; claim_expires_at: Date | null }>>`
    SELECT claimed_by, claim_expires_at FROM review_item WHERE comment_id = ${commentId}::uuid AND status = 'open' FOR UPDATE`
  if (rows[0]) assertNotHeldByOther({ claimedBy: rows[0].claimed_by, claimExpiresAt: rows[0].claim_expires_at }, actor, now)
}

/** A claim binds until it expires; one's own claim never stands in one's way. */
function assertNotHeldByOther(item: { claimedBy: string | null; claimExpiresAt: Date | null }, actor: string, now: Date): void {
  if (item.claimedBy && item.claimedBy !== actor && item.claimExpiresAt && item.claimExpiresAt > now) {
    throw new ClaimConflictError(item.claimedBy, item.claimExpiresAt)
  }
}
