import { z } from 'zod'
import { RecordKind, RecordQuery } from '../records/query.js'

const Reason = z.string().trim().min(3).max(2000)

// ---------------------------------------------------------------------------------------------
// Schedules

export const ScheduleParams = z.object({ kind: RecordKind })

export const ScheduleRequest = z
  .object({
    retentionDays: z.number().int().min(1).max(36_500).describe('How long a record of this kind is kept after its last activity, in days'),
    scheduleReference: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .describe("The Local Records Commission's approved application and item number for this record series, e.g. 'Application 23-0042, item 7'"),
    note: z.string().trim().max(2000).optional(),
  })
  .strict()
  .meta({ id: 'RetentionScheduleRequest' })

export const Schedule = z
  .object({
    recordKind: RecordKind,
    adopted: z.boolean().describe('False: no schedule was entered; the period shown is the documented example and nothing of this kind is eligible'),
    retentionDays: z.number().int(),
    scheduleReference: z.string().nullable(),
    note: z.string().nullable(),
    updatedAt: z.iso.datetime().nullable(),
    updatedBy: z.string().nullable(),
    ledgerEntryId: z.uuid().nullable(),
  })
  .meta({ id: 'RetentionSchedule' })

export const ScheduleList = z.object({ items: z.array(Schedule), nextCursor: z.string().nullable().describe('Always null: the whole list is one page') }).meta({ id: 'RetentionScheduleList' })

// ---------------------------------------------------------------------------------------------
// Eligibility

export const EligibleQuery = z.object({
  kind: RecordKind.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().optional().describe('nextCursor of the previous page'),
})

export const EligibleRecord = z
  .object({
    recordId: z.uuid().describe('The comment'),
    recordKind: RecordKind,
    platform: z.string(),
    externalId: z.string(),
    firstPlatformAt: z.iso.datetime(),
    lastActivityAt: z.iso.datetime().describe('Latest of: platform activity, moderation decision, appeal filed or decided'),
    retentionDays: z.number().int(),
    scheduleReference: z.string(),
    retainUntil: z.iso.datetime(),
  })
  .meta({ id: 'EligibleRecord' })

export const EligibleList = z
  .object({ asOf: z.iso.datetime(), items: z.array(EligibleRecord), nextCursor: z.string().nullable() })
  .meta({ id: 'EligibleRecordList' })

// ---------------------------------------------------------------------------------------------
// Holds

export const HoldRequest = z
  .object({
    reason: Reason.describe('Why the records must be kept, e.g. the case or request it is for'),
    query: RecordQuery.optional().describe('Hold everything matching this search: now, and records matching it later'),
    recordIds: z.array(z.uuid()).min(1).max(10_000).optional().describe('Hold exactly these records (comment ids)'),
  })
  .strict()
  .refine((b) => (b.query === undefined) !== (b.recordIds === undefined), { message: 'give either query or recordIds, not both', path: ['query'] })
  .meta({ id: 'HoldRequest' })

export const ReleaseRequest = z.object({ reason: Reason.describe('Why the hold ends, e.g. the case closed') }).strict().meta({ id: 'HoldReleaseRequest' })

export const HoldParams = z.object({ id: z.uuid() })

export const Hold = z
  .object({
    id: z.uuid(),
    status: z.enum(['active', 'released']),
    reason: z.string(),
    query: RecordQuery.nullable().describe('A hold on a search also covers records that match it later'),
    recordCount: z.number().int().describe('Records resolved so far: at placement, plus later matches found by disposals'),
    recordIds: z.array(z.uuid()).optional().describe('In GET /v1/holds/{id} only'),
    alreadyDisposed: z.array(z.uuid()).describe('Records it names whose content a disposal had already destroyed'),
    placedBy: z.string(),
    placedAt: z.iso.datetime(),
    placedEntryId: z.uuid(),
    releasedBy: z.string().nullable(),
    releasedAt: z.iso.datetime().nullable(),
    releaseReason: z.string().nullable(),
    releasedEntryId: z.uuid().nullable(),
  })
  .meta({ id: 'LegalHold' })

export const HoldListQuery = z.object({
  status: z.enum(['active', 'released']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().optional().describe('nextCursor of the previous page'),
})

export const HoldList = z.object({ items: z.array(Hold), nextCursor: z.string().nullable() }).meta({ id: 'LegalHoldList' })

// ---------------------------------------------------------------------------------------------
// Disposals

export const DisposalRequest = z
  .object({
    kinds: z.array(RecordKind).min(1).optional().describe('Only these record kinds (default: every adopted kind)'),
    limit: z.number().int().min(1).max(10_000).default(10_000).describe('At most this many records on the certificate'),
    note: z.string().trim().max(2000).optional(),
  })
  .strict()
  .meta({ id: 'DisposalRequest' })

export const ApprovalRequest = z
  .object({
    approvalReference: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .describe("The authorization on the Records Disposal Certificate, e.g. the Local Records Commission's certificate number"),
    approvedOn: z.iso.date().describe('The date the disposal was authorized (YYYY-MM-DD)'),
    note: z.string().trim().max(2000).optional(),
  })
  .strict()
  .meta({ id: 'DisposalApprovalRequest' })

export const DisposalParams = z.object({ id: z.uuid() })

export const DisposalOutcome = z.enum(['pending', 'disposed', 'skipped_hold', 'skipped_activity', 'skipped_ineligible', 'already_disposed'])

export const DisposalRecord = z
  .object({
    recordId: z.uuid(),
    recordKind: RecordKind,
    platform: z.string(),
    externalId: z.string(),
    firstPlatformAt: z.iso.datetime(),
    lastActivityAt: z.iso.datetime(),
    retentionDays: z.number().int(),
    scheduleReference: z.string(),
    retainUntil: z.iso.datetime(),
    outcome: DisposalOutcome,
    heldBy: z.array(z.uuid()).describe('The holds that kept it, when skipped_hold'),
  })
  .meta({ id: 'DisposalRecord' })

export const Disposal = z
  .object({
    id: z.uuid(),
    status: z.enum(['listed', 'approved', 'executed']),
    noticeDays: z.number().int(),
    note: z.string().nullable(),
    createdBy: z.string(),
    createdAt: z.iso.datetime(),
    listedEntryId: z.uuid(),
    approvedBy: z.string().nullable(),
    approvedAt: z.iso.datetime().nullable(),
    approvedOn: z.iso.date().nullable(),
    approvalReference: z.string().nullable(),
    approvalEntryId: z.uuid().nullable(),
    noticeEndsAt: z.iso.datetime().nullable().describe('Execution is refused before this time'),
    executedBy: z.string().nullable(),
    executedAt: z.iso.datetime().nullable(),
    executionEntryId: z.uuid().nullable().describe('The `disposal` ledger entry listing what was destroyed'),
    counts: z.partialRecord(DisposalOutcome, z.number().int()).describe('Records by outcome'),
  })
  .meta({ id: 'Disposal' })

export const DisposalDetail = Disposal.extend({ records: z.array(DisposalRecord) }).meta({ id: 'DisposalDetail' })

export const DisposalListQuery = z.object({
  status: z.enum(['listed', 'approved', 'executed']).optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().optional().describe('nextCursor of the previous page'),
})

export const DisposalList = z.object({ items: z.array(Disposal), nextCursor: z.string().nullable() }).meta({ id: 'DisposalList' })

export const CertificateQuery = z.object({ format: z.enum(['json', 'csv']).default('json') })

export const ExecutionReport = z
  .object({
    disposal: Disposal,
    replayed: z.boolean().describe('True when the disposal had already been executed: nothing was done again'),
    disposed: z.array(z.uuid()),
    skipped: z.array(z.object({ recordId: z.uuid(), outcome: DisposalOutcome, heldBy: z.array(z.uuid()) })),
    destroyedLedgerEntries: z.number().int(),
    destroyedDeliveries: z.number().int(),
    keptDeliveries: z.array(z.object({ id: z.uuid(), retainedFor: z.array(z.uuid()) })).describe('Raw deliveries kept because they also carry retained comments'),
  })
  .meta({ id: 'DisposalExecution' })
