import { z } from 'zod'
import { DateParam } from '../http/dates.js'

export const Platform = z.enum(['facebook', 'instagram', 'x', 'linkedin', 'website'])
export const CommentStatus = z.enum(['active', 'deleted_by_author', 'hidden_on_platform'])
/** Written by the policy (src/moderation/automatic.ts) and by decisions (STATUS_AFTER in src/moderation/decisions.ts). */
export const ModerationStatus = z
  .enum(['unevaluated', 'allowed', 'flagged', 'removed', 'hidden', 'approved', 'restored', 'city'])
  .describe('What the city did last: unevaluated, allowed, flagged, removed, hidden, approved, restored; city for its own')
export type ModerationStatusValue = z.infer<typeof ModerationStatus>

export const CommentListQuery = z.object({
  platform: Platform.optional(),
  account: z.string().optional(),
  postId: z.string().optional(),
  authorId: z.string().optional(),
  status: CommentStatus.optional(),
  byCity: z.enum(['true', 'false']).transform((v) => v === 'true').optional().describe('Only the city\'s own comments, or only the public\'s'),
  from: DateParam.optional().describe('Latest activity on the platform at or after this time (a plain date: from the start of that day)'),
  to: DateParam.optional().describe('Latest activity on the platform before this time (a plain date: that day included)'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().optional().describe('nextCursor of the previous page'),
})

export const CommentSummary = z
  .object({
    id: z.uuid(),
    platform: Platform,
    account: z.string(),
    externalId: z.string(),
    postId: z.string().nullable(),
    parentId: z.uuid().nullable().describe('The parent comment in Townsquare, once known'),
    parentExternalId: z.string().nullable(),
    author: z.object({ id: z.string().nullable(), name: z.string().nullable() }),
    byCity: z.boolean(),
    status: CommentStatus.describe('Its state on the platform'),
    moderationStatus: ModerationStatus,
    text: z.string().nullable().describe('The current version; null once disposed'),
    versionCount: z.number().int(),
    firstPlatformAt: z.iso.datetime(),
    lastPlatformAt: z.iso.datetime(),
    disposedAt: z.iso.datetime().nullable().describe('When a disposal destroyed its text and author details (docs/retention.md); ids, times and hashes remain'),
    disposalId: z.uuid().nullable().describe('GET /v1/disposals/{id}'),
  })
  .meta({ id: 'CommentSummary' })

export const CommentList = z.object({ items: z.array(CommentSummary), nextCursor: z.string().nullable() }).meta({ id: 'CommentList' })

export const CommentEvent = z
  .object({
    id: z.uuid(),
    kind: z.enum(['created', 'edited', 'deleted_by_author', 'hidden_on_platform', 'unhidden_on_platform']),
    platformTime: z.iso.datetime(),
    receivedAt: z.iso.datetime(),
    text: z.string().nullable().describe('Null for state changes, and once disposed'),
    deliveryId: z.uuid(),
    ledgerEntryId: z.uuid().describe('GET /v1/ledger/entries/{id} proves it'),
  })
  .meta({ id: 'CommentEvent' })

/** A version or event as read, checked against its ledger entry (src/records/reconcile.ts). */
export const VerifiedFields = {
  verified: z
    .boolean()
    .describe("Its kind, text and time equal its ledger entry's payload (whose hash the sealed leaf commits to); also true for a disposed record's event, whose text is gone from both"),
  ledgerText: z.string().nullable().optional().describe('Only when not verified: the text its ledger entry holds'),
}

/** A comment as read, checked against the ledger in the same snapshot (docs/ledger.md, "Reconciliation"). */
export const LedgerCheck = z
  .object({
    verified: z.boolean().describe('Every field that the ledger determines agrees with it'),
    disposed: z.boolean().describe('A lawful disposal destroyed its content: only what the ledger envelopes keep was checked'),
    divergentFields: z.array(z.string()).describe('The fields that do not agree (as the reconciliation names them), e.g. currentText, status, event.text'),
    text: z.string().nullable().optional().describe('Only when currentText diverges: the current text the ledger gives'),
  })
  .describe("The values of the comment are the tables'; this says whether the ledger agrees, and where not")
  .meta({ id: 'LedgerCheck' })

export const VerifiedCommentEvent = CommentEvent.extend(VerifiedFields).meta({ id: 'VerifiedCommentEvent' })

export const CommentDetail = CommentSummary.extend({
  authorEmail: z.string().nullable(),
  versions: z.array(VerifiedCommentEvent).describe('Every text the comment had, oldest first by platform time'),
  events: z.array(VerifiedCommentEvent).describe('Everything that happened to it on the platform, oldest first'),
  ledger: LedgerCheck,
  thread: z.object({
    parent: CommentSummary.nullable(),
    replies: z.array(CommentSummary),
  }),
}).meta({ id: 'CommentDetail' })

export const CommentParams = z.object({ id: z.uuid() })
