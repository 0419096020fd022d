import { z } from 'zod'
import { CommentStatus, LedgerCheck, ModerationStatus, Platform, VerifiedFields } from '../comments/schemas.js'
import { DecisionAction, RecordKind, RecordQueryString } from './query.js'

export const RecordSearchQuery = RecordQueryString.extend({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().optional().describe('nextCursor of the previous page'),
}).strict()

export const RecordParams = z.object({ id: z.uuid() })

export const RecordEvent = z
  .object({
    id: z.uuid().describe('The comment event id'),
    kind: z.enum(['created', 'edited', 'deleted_by_author', 'hidden_on_platform', 'unhidden_on_platform']),
    text: z.string().nullable(),
    platformTime: z.iso.datetime(),
    receivedAt: z.iso.datetime(),
    ledgerEntryId: z.uuid().describe('GET /v1/ledger/entries/{id} proves it'),
    ...VerifiedFields,
  })
  .meta({ id: 'RecordEvent' })

export const RecordPlatformAction = z
  .object({
    id: z.uuid(),
    operation: z.enum(['delete', 'hide', 'unhide', 'reply', 'email']).describe('reply and email are the notice to the author'),
    status: z.enum(['pending', 'succeeded', 'failed']),
    attempts: z.number().int(),
    lastError: z.string().nullable(),
    createdAt: z.iso.datetime(),
    completedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'RecordPlatformAction' })

export const RecordDecision = z
  .object({
    id: z.uuid(),
    versionId: z.uuid().describe('The comment version decided on'),
    action: DecisionAction,
    actor: z.string().describe('system, or user:<sub>'),
    automatic: z.boolean(),
    platformAction: z.enum(['delete', 'hide', 'unhide', 'none']),
    policyVersionId: z.uuid().nullable(),
    policyVersion: z.number().int().nullable().describe('The number of policyVersionId ("version 3")'),
    ruleCodes: z.array(z.string()),
    note: z.string().nullable(),
    noticeText: z.string().nullable().describe('The exact notice sent to the author'),
    decidedAt: z.iso.datetime(),
    ledgerEntryId: z.uuid(),
    actions: z.array(RecordPlatformAction).describe('Carrying it out on the platform, and the notices, oldest first'),
  })
  .meta({ id: 'RecordDecision' })

export const CommentRecord = z
  .object({
    id: z.uuid(),
    recordKind: RecordKind,
    platform: Platform,
    account: z.string(),
    externalId: z.string(),
    postId: z.string().nullable(),
    parentId: z.uuid().nullable(),
    parentExternalId: z.string().nullable(),
    author: z.object({ id: z.string().nullable(), name: z.string().nullable(), email: z.string().nullable() }),
    byCity: z.boolean(),
    status: CommentStatus,
    moderationStatus: ModerationStatus,
    text: z.string().nullable().describe('The current version'),
    versionCount: z.number().int(),
    firstPlatformAt: z.iso.datetime(),
    lastPlatformAt: z.iso.datetime(),
    versions: z.array(RecordEvent).describe('Every text the comment had (created, edited), oldest first by platform time'),
    stateChanges: z.array(RecordEvent).describe('Deleted by its author, hidden or unhidden on the platform, oldest first'),
    decisions: z.array(RecordDecision).describe('Every moderation decision, oldest first'),
    ledger: LedgerCheck,
  })
  .meta({ id: 'CommentRecord' })

export const RecordSearchResult = z
  .object({
    total: z.number().int().describe('How many comments match, on every page'),
    items: z.array(CommentRecord),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'RecordSearchResult' })

export const CommentRecordDetail = CommentRecord.extend({
  thread: z.object({
    parentId: z.uuid().nullable(),
    replyIds: z.array(z.uuid()).describe('Replies known to Townsquare, oldest first; each is a record of its own'),
  }),
}).meta({ id: 'CommentRecordDetail' })

export const ProjectionDivergence = z
  .object({
    commentId: z.string().describe('The comment (for field `comment` with no row: the ledger entries\' subject)'),
    field: z
      .enum([
        'comment', 'platform', 'externalId', 'account', 'postId', 'parentExternalId', 'authorId', 'authorName', 'authorEmail', 'byCity', 'currentText',
        'versionCount', 'status', 'moderationStatus', 'firstPlatformAt', 'lastPlatformAt', 'disposedAt', 'event', 'event.kind', 'event.text',
        'event.platformTime', 'event.eventKey', 'ledger.payload',
      ])
      .describe('What disagrees: a column of the comment, a field of one of its events, or a missing event, entry or row'),
    eventId: z.string().nullable(),
    ledgerEntryId: z.string().nullable(),
    projection: z.string().nullable().optional().describe('What the tables hold; omitted for content (text, author): GET /v1/records/{id} shows it'),
    ledger: z.string().nullable().optional().describe('What the ledger gives ("a | b": any of them); omitted for content'),
  })
  .meta({ id: 'ProjectionDivergence' })

export const Reconciliation = z
  .object({
    id: z.uuid(),
    ok: z.boolean().describe('Every comment projection agrees with the ledger'),
    trigger: z.enum(['schedule', 'request', 'command']),
    actor: z.string().describe('system, or user:<sub>'),
    startedAt: z.iso.datetime(),
    finishedAt: z.iso.datetime(),
    commentsChecked: z.number().int(),
    eventsChecked: z.number().int(),
    entriesChecked: z.number().int(),
    disposedComments: z.number().int().describe('Comments whose content a lawful disposal destroyed: checked on what the ledger envelopes keep, not divergent'),
    divergentComments: z.number().int(),
    divergenceCount: z.number().int(),
    divergences: z.array(ProjectionDivergence).describe('The first 1,000 divergences, in comment id order'),
  })
  .meta({ id: 'Reconciliation' })

export const LedgerStatus = z
  .object({
    reconciliation: Reconciliation.nullable().describe('The latest reconciliation, or null when none has run'),
    reconcileSchedule: z.string().nullable().describe('RECONCILE_SCHEDULE (cron, UTC); null when this instance schedules none'),
  })
  .meta({ id: 'LedgerStatus' })
