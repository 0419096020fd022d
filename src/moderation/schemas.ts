import { z } from 'zod'
import { CommentSummary, LedgerCheck, Platform } from '../comments/schemas.js'

export const ReviewReason = z.enum(['flagged', 'unevaluated', 'action_failed'])

export const QueueQuery = z.object({
  platform: Platform.optional(),
  ruleCode: z.string().optional(),
  postId: z.string().optional(),
  reason: ReviewReason.optional(),
  olderThanMinutes: z.coerce.number().int().min(0).optional().describe('Only items waiting at least this long'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().optional(),
})

export const ReviewItem = z
  .object({
    id: z.uuid(),
    reason: ReviewReason,
    versionId: z.uuid().describe('The comment version that put it here; pass it as versionId when deciding'),
    policyVersionId: z.uuid().nullable(),
    policyVersion: z.number().int().nullable().describe('The number of policyVersionId ("version 3")'),
    ruleCodes: z.array(z.string()),
    evidence: z.unknown().describe('What the rules matched (offsets into the text), or the failed platform action'),
    createdAt: z.iso.datetime(),
    claimedBy: z.string().nullable(),
    claimExpiresAt: z.iso.datetime().nullable(),
    comment: CommentSummary,
    ledger: LedgerCheck.describe('The comment checked against the ledger as the queue was read (docs/ledger.md, "Reconciliation"): its values are the tables\''),
  })
  .meta({ id: 'ReviewItem' })

export const Queue = z.object({ items: z.array(ReviewItem), nextCursor: z.string().nullable() }).meta({ id: 'ReviewQueue' })
export const ItemParams = z.object({ itemId: z.uuid() })
export const CommentParams = z.object({ id: z.uuid() })

export const DecisionInput = z
  .object({
    action: z.enum(['remove', 'hide', 'approve', 'restore']).describe('remove deletes where the platform allows it; hide where it supports hiding'),
    versionId: z.uuid().describe('The comment version decided on (from the queue or the comment); a newer version makes the decision stale (409)'),
    ruleCodes: z.array(z.string().min(1)).max(20).optional().describe('Required for remove and hide: rules of the version in force when the comment was posted'),
    note: z.string().max(5000).optional().describe('For the record'),
  })
  .meta({ id: 'DecisionRequest' })

const PlatformActionSummary = z.object({
  id: z.uuid(),
  operation: z.enum(['delete', 'hide', 'unhide', 'reply', 'email']),
  status: z.enum(['pending', 'succeeded', 'failed']),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
})

export const Decision = z
  .object({
    id: z.uuid(),
    commentId: z.uuid(),
    versionId: z.uuid(),
    actor: z.string(),
    automatic: z.boolean(),
    action: z.enum(['remove', 'hide', 'approve', 'restore']),
    platformAction: z.enum(['delete', 'hide', 'unhide', 'none']),
    policyVersionId: z.uuid().nullable(),
    policyVersion: z.number().int().nullable().describe('The number of policyVersionId ("version 3")'),
    ruleCodes: z.array(z.string()),
    note: z.string().nullable(),
    noticeText: z.string().nullable().describe('The exact notice sent to the author'),
    ledgerEntryId: z.uuid(),
    decidedAt: z.iso.datetime(),
    actions: z.array(PlatformActionSummary).describe('Carrying it out on the platform, and the notices'),
  })
  .meta({ id: 'ModerationDecision' })

export const DecisionList = z.object({ items: z.array(Decision), nextCursor: z.string().nullable().describe('Always null: the whole list is one page') })

const Reference = z
  .string()
  .min(1)
  .max(64)
  .describe('The appeal reference in the notice the author received, e.g. 7KQ2M-XR4TB (case, hyphens and spaces do not matter; I and L read as 1, O as 0)')

export const AppealInput = z
  .strictObject({
    reference: Reference,
    contact: z.string().min(3).max(320).describe('How the city can answer: an e-mail address or a phone number'),
    statement: z.string().min(1).max(5000).describe('Why the removal should be reversed'),
  })
  .meta({ id: 'AppealRequest' })

export const ReferenceParams = z.object({ reference: Reference })

export const AppealStatus = z
  .object({
    status: z
      .enum(['not_filed', 'closed', 'open', 'upheld', 'reversed'])
      .describe('not_filed: it can still be appealed until appealableUntil; closed: it was not appealed in time, or a later decision replaced it; open: waiting for a decision; upheld or reversed: decided'),
    decidedAt: z.iso.datetime().describe('When the removal or hide was decided'),
    appealableUntil: z.iso.datetime(),
    filedAt: z.iso.datetime().nullable(),
    appealDecidedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'AppealStatus' })

export const AppealReceipt = z.object({ id: z.uuid(), status: z.literal('open'), filedAt: z.iso.datetime() }).meta({ id: 'AppealReceipt' })

export const Appeal = z
  .object({
    id: z.uuid(),
    decisionId: z.uuid(),
    commentId: z.uuid(),
    contact: z.string().nullable().describe('Null once the comment was disposed (docs/retention.md)'),
    statement: z.string().nullable().describe('Null once the comment was disposed'),
    status: z.enum(['open', 'upheld', 'reversed']),
    filedAt: z.iso.datetime(),
    decidedAt: z.iso.datetime().nullable(),
    decidedBy: z.string().nullable(),
    reason: z.string().nullable(),
    reversalDecisionId: z.uuid().nullable(),
  })
  .meta({ id: 'Appeal' })

export const AppealList = z.object({ items: z.array(Appeal), nextCursor: z.string().nullable().describe('Always null: at most 500 appeals, oldest first') })
export const AppealQuery = z.object({ status: z.enum(['open', 'upheld', 'reversed']).optional() })
export const AppealParams = z.object({ id: z.uuid() })
export const AppealDecisionInput = z.object({ outcome: z.enum(['uphold', 'reverse']), reason: z.string().min(1).max(5000) }).meta({ id: 'AppealDecisionRequest' })
