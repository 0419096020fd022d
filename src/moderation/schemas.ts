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

export const PlatformActionSummary = z
  .object({
    id: z.uuid(),
    operation: z
      .enum(['delete', 'hide', 'unhide', 'reply', 'email', 'email_appellant'])
      .describe("reply: the notice on the platform; email: to the author's address; email_appellant: an appeal's outcome to the contact the appellant gave"),
    status: z.enum(['pending', 'succeeded', 'failed', 'resolved']).describe('resolved: marked done by hand, with a reason (resolution)'),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    text: z.string().nullable().describe("The exact text this delivery sends, when it is not the decision's noticeText (a short public reply, an appeal's outcome)"),
    appealId: z.uuid().nullable().describe("The appeal whose outcome this delivery carries"),
    resolvedBy: z.string().nullable(),
    resolution: z.string().nullable(),
  })
  .meta({ id: 'PlatformAction' })

export const NoticeDelivery = z
  .object({
    channels: z
      .array(z.object({ channel: z.enum(['private_reply', 'public_reply', 'website', 'email']), to: z.enum(['author', 'appellant']).optional() }))
      .describe('How the notice is sent; each delivery\'s outcome is in actions and in the ledger (notice.delivery)'),
    platformNotTold: z.string().nullable().describe('Why the platform does not tell the author (then the notice is only published under the appeal reference, and e-mailed where an address is known); null when it does'),
  })
  .meta({ id: 'NoticeDelivery' })

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
    noticeText: z.string().nullable().describe('The notice, exactly as recorded in the ledger, sent where the platform allows it and published under the appeal reference'),
    noticeDelivery: NoticeDelivery.nullable(),
    ledgerEntryId: z.uuid(),
    decidedAt: z.iso.datetime(),
    actions: z.array(PlatformActionSummary).describe('Carrying it out on the platform, and the notices'),
  })
  .meta({ id: 'ModerationDecision' })

export const DecisionList = z.object({ items: z.array(Decision), nextCursor: z.string().nullable().describe('Always null: the whole list is one page') })

export const DecisionPreview = z
  .object({
    action: z.enum(['remove', 'hide', 'approve', 'restore']),
    platformAction: z.enum(['delete', 'hide', 'unhide', 'none']),
    policyVersionId: z.uuid().nullable(),
    policyVersion: z.number().int().nullable(),
    ruleCodes: z.array(z.string()),
    noticeText: z.string().nullable().describe('The exact notice the decision would record, with XXXXX-XXXXX where the author\'s appeal reference will be'),
    deliveries: z
      .array(z.object({ channel: z.string(), operation: z.string(), text: z.string(), to: z.enum(['author', 'appellant']).optional() }))
      .describe('Each delivery and its exact text'),
    platformNotTold: z.string().nullable(),
    sameAsDecisionId: z.uuid().nullable().describe('The decision in force that this one repeats: deciding it changes nothing and sends nothing'),
  })
  .meta({ id: 'DecisionPreview' })

export const ActionParams = z.object({ actionId: z.uuid() })
export const ResolveInput = z.strictObject({ reason: z.string().trim().min(3).max(5000).describe('What was done instead, e.g. "hidden by hand in the Meta Business Suite"') }).meta({ id: 'PlatformActionResolution' })

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
    notice: z.string().nullable().describe('The notice of the decision, exactly as recorded and sent (published here for authors the platform could not tell)'),
    noticeDelivery: NoticeDelivery.nullable().describe('How the notice was to reach the author'),
    outcome: z.string().nullable().describe("The appeal's outcome notice, once decided"),
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
    outcomeText: z.string().nullable().describe('The outcome notice sent to the author and published under the reference'),
    outcomeDelivery: NoticeDelivery.nullable(),
  })
  .meta({ id: 'Appeal' })

export const AppealList = z.object({ items: z.array(Appeal), nextCursor: z.string().nullable().describe('Always null: at most 500 appeals, oldest first') })
export const AppealQuery = z.object({ status: z.enum(['open', 'upheld', 'reversed']).optional() })
export const AppealParams = z.object({ id: z.uuid() })
export const AppealDecisionInput = z.object({ outcome: z.enum(['uphold', 'reverse']), reason: z.string().min(1).max(5000) }).meta({ id: 'AppealDecisionRequest' })
