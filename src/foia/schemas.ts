import { z } from 'zod'
import { RecordQuery } from '../records/query.js'
import { isIsoDate } from './business-days.js'
import { CITATION_PATTERN } from './production-files.js'

export const IsoDate = z.string().refine(isIsoDate, 'must be a date YYYY-MM-DD').describe('A calendar date in Illinois, YYYY-MM-DD')

export const FoiaStatus = z.enum(['received', 'in_progress', 'extended', 'fulfilled', 'partially_denied', 'denied'])
export type FoiaStatus = z.infer<typeof FoiaStatus>
/** Statuses that close a request: no further change. */
export const FINAL_STATUSES: readonly FoiaStatus[] = ['fulfilled', 'partially_denied', 'denied']

/** The reasons 5 ILCS 140/3(e) allows for one extension, with their citation and text. */
export const EXTENSION_REASONS = {
  other_locations: {
    citation: '5 ILCS 140/3(e)(i)',
    text: 'the requested records are stored in whole or in part at other locations than the office having charge of the requested records',
  },
  substantial_number: { citation: '5 ILCS 140/3(e)(ii)', text: 'the request requires the collection of a substantial number of specified records' },
  categorical_terms: {
    citation: '5 ILCS 140/3(e)(iii)',
    text: 'the request is couched in categorical terms and requires an extensive search for the records responsive to it',
  },
  not_located: {
    citation: '5 ILCS 140/3(e)(iv)',
    text: 'the requested records have not been located in the course of routine search and additional efforts are being made to locate them',
  },
  exemption_review: {
    citation: '5 ILCS 140/3(e)(v)',
    text: 'the requested records require examination and evaluation by personnel having the necessary competence and discretion to determine if they are exempt from disclosure under Section 7 of this Act or should be revealed only with appropriate deletions',
  },
  undue_burden: {
    citation: '5 ILCS 140/3(e)(vi)',
    text: 'the request for records cannot be complied with by the public body within the time limits prescribed by subsection (d) of this Section without unduly burdening or interfering with the operations of the public body',
  },
  consultation: {
    citation: '5 ILCS 140/3(e)(vii)',
    text: 'there is a need for consultation, which shall be conducted with all practicable speed, with another public body or among two or more components of a public body having a substantial interest in the determination or in the subject matter of the request',
  },
} as const
export const ExtensionReason = z.enum(Object.keys(EXTENSION_REASONS) as [keyof typeof EXTENSION_REASONS, ...Array<keyof typeof EXTENSION_REASONS>])
export type ExtensionReason = z.infer<typeof ExtensionReason>

export const CreateFoiaRequest = z
  .object({
    requester: z
      .object({
        name: z.string().trim().min(1).max(200),
        contact: z.string().trim().min(1).max(500).optional().describe('How to reach the requester (e-mail or postal address); kept minimal'),
      })
      .strict(),
    receivedOn: IsoDate.describe('The day the request was received (not counted: the deadline runs from the next business day)'),
    description: z.string().trim().min(1).max(10_000).describe('The records asked for, in the requester\'s words'),
    commercial: z.boolean().describe('For a commercial purpose (5 ILCS 140/3.1): 21 business days instead of 5'),
  })
  .strict()
  .meta({ id: 'FoiaRequestCreate' })

export const StatusChange = z
  .object({
    status: FoiaStatus.exclude(['received', 'extended']).describe('extended is set by the extension route'),
    note: z.string().trim().min(1).max(5000).optional(),
  })
  .strict()
  .meta({ id: 'FoiaStatusChange' })

export const Extension = z
  .object({
    reason: ExtensionReason.describe('One of the reasons of 5 ILCS 140/3(e)(i)-(vii)'),
    note: z.string().trim().min(1).max(5000).optional().describe('What the requester was told'),
  })
  .strict()
  .meta({ id: 'FoiaExtension' })

export const RecurrentDecision = z
  .object({
    recurrent: z.boolean(),
    reason: z.string().trim().min(1).max(2000).describe('Why, e.g. "the requester is a news media organization (2(g) excludes it)"'),
  })
  .strict()
  .meta({ id: 'FoiaRecurrentDecision' })

export const StatusHistoryItem = z.object({ status: FoiaStatus, at: z.iso.datetime(), by: z.string(), note: z.string().nullable() })

export const TrackingNumber = z
  .string()
  .regex(/^\d{4}-\d{4,}$/, 'a tracking number YYYY-NNNN, e.g. 2026-0042')
  .describe('The FOIA tracking number: the year of receipt and a number, gap-free within the year, e.g. 2026-0042')

export const FoiaRequest = z
  .object({
    id: z.uuid(),
    trackingNumber: TrackingNumber,
    requester: z.object({ name: z.string(), contact: z.string().nullable() }),
    description: z.string(),
    commercial: z.boolean(),
    receivedOn: IsoDate,
    businessDays: z.number().int().describe('Business days allowed for the first response: 5, or 21 when commercial'),
    originalDueOn: IsoDate,
    dueOn: IsoDate.describe('The deadline in force (moved by the extension)'),
    calendar: z.string().describe('The business-day calendar the deadline was computed with: illinois-490-v1 (State of Illinois holidays by rule), +city-<digest> when the city\'s own closing and open days apply (docs/foia.md, "Deadlines")'),
    recurrent: z.boolean().describe('From a recurrent requester (5 ILCS 140/2(g)): 21 business days (3.2), no 3(e) extension'),
    source: z.enum(['clerk', 'public']).describe('clerk: logged by a clerk; public: filed by the requester through the public route'),
    status: FoiaStatus,
    extension: z
      .object({ reason: ExtensionReason, citation: z.string(), reasonText: z.string(), note: z.string().nullable(), at: z.iso.datetime(), by: z.string() })
      .nullable(),
    history: z.array(StatusHistoryItem).describe('Every status the request had, oldest first'),
    records: z.number().int().describe('Records (comments) attached'),
    createdAt: z.iso.datetime(),
    createdBy: z.string(),
  })
  .meta({ id: 'FoiaRequest' })

export const ListQuery = z
  .object({
    due_before: IsoDate.optional().describe('Only open requests due before this date (strictly)'),
    status: FoiaStatus.optional(),
    limit: z.coerce.number().int().min(1).max(200).default(50),
    cursor: z.string().optional(),
  })
  .strict()

export const FoiaRequestList = z.object({ items: z.array(FoiaRequest), nextCursor: z.string().nullable() }).meta({ id: 'FoiaRequestList' })

export const RequestParams = z.object({ id: z.uuid() })
export const RequestLookupParams = z.object({ id: z.union([z.uuid(), TrackingNumber]).describe('The request\'s id or its tracking number (2026-0042)') })
export const DetachRecord = z
  .object({ reason: z.string().trim().min(1).max(2000).describe('Why the record leaves the request; recorded in the ledger (foia.record_detached)') })
  .strict()
  .meta({ id: 'FoiaDetachRecord' })
export const DetachResult = z
  .object({ commentId: z.uuid(), ledgerEntryId: z.uuid().describe('The foia.record_detached ledger entry'), records: z.number().int().describe('Records still attached') })
  .meta({ id: 'FoiaDetachResult' })

export const AttachRecords = z
  .object({
    query: RecordQuery.optional().describe('A records search; kept with the request and resolved now to a fixed list of comments'),
    commentIds: z.array(z.uuid()).min(1).max(10_000).optional().describe('Comments attached by id'),
  })
  .strict()
  .refine((b) => b.query !== undefined || b.commentIds !== undefined, { message: 'give query, commentIds or both' })
  .meta({ id: 'FoiaAttachRecords' })

export const FoiaSearch = z
  .object({
    id: z.uuid(),
    query: RecordQuery,
    matched: z.number().int().describe('Comments the search matched when it ran (kept as a fixed list)'),
    runAt: z.iso.datetime(),
    runBy: z.string(),
    rerunOf: z.uuid().nullable(),
  })
  .meta({ id: 'FoiaSearch' })

export const AttachResult = z
  .object({
    search: FoiaSearch.nullable(),
    attached: z.number().int().describe('Comments newly attached by this call'),
    records: z.number().int().describe('Comments attached to the request in all'),
  })
  .meta({ id: 'FoiaAttachResult' })

export const SearchParams = z.object({ id: z.uuid(), searchId: z.uuid() })
export const Rerun = z
  .object({ attach: z.boolean().default(false).describe('Also keep this run as a search and attach what it matches now') })
  .strict()
  .meta({ id: 'FoiaRerun' })
export const RerunResult = z
  .object({
    matchedThen: z.number().int(),
    matchedNow: z.number().int(),
    newMatches: z.number().int().describe('Comments matching now that the kept run did not match'),
    noLongerMatching: z.number().int().describe('Comments the kept run matched that no longer match'),
    search: FoiaSearch.nullable().describe('The new kept search, when attach was true'),
    attached: z.number().int(),
  })
  .meta({ id: 'FoiaRerunResult' })

export const RecordsQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100), cursor: z.string().optional() }).strict()
export const AttachedRecordList = z
  .object({
    items: z.array(
      z.object({
        commentId: z.uuid(),
        searchId: z.uuid().nullable(),
        platform: z.string(),
        externalId: z.string().describe("The platform's id of the comment"),
        authorName: z.string().nullable().describe('null once disposed'),
        excerpt: z.string().nullable().describe('The first 200 characters of its current text; null once disposed'),
        status: z.string().describe('The comment\'s status on the platform (e.g. active, hidden, deleted)'),
        byCity: z.boolean(),
        firstPlatformAt: z.iso.datetime(),
        lastPlatformAt: z.iso.datetime(),
        versions: z.number().int(),
        attachedAt: z.iso.datetime(),
        attachedBy: z.string(),
        disposedAt: z.iso.datetime().nullable().describe('Its content was destroyed by a disposal: a production lists it as disposed, with its disposal entries'),
        withheld: z
          .object({ citation: z.string(), note: z.string().nullable(), decidedAt: z.iso.datetime(), decidedBy: z.string() })
          .nullable()
          .describe('Withheld in full: a production lists it as withheld with this exemption, and gives none of its content'),
      }),
    ),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'FoiaAttachedRecords' })

// ---------------------------------------------------------------------------------------------
// Redactions

export const RedactionCategory = z.enum(['email', 'phone', 'ssn', 'address', 'access_code', 'other'])
export const RedactionStatus = z.enum(['suggested', 'accepted', 'rejected'])

/** An exemption of 5 ILCS 140/7 or 7.5, e.g. 5 ILCS 140/7(1)(b). */
export const Citation = z
  .string()
  .regex(CITATION_PATTERN, 'cite an exemption of 5 ILCS 140/7 or 7.5, e.g. 5 ILCS 140/7(1)(b)')
  .describe('The exemption, e.g. 5 ILCS 140/7(1)(b) (private information) or 5 ILCS 140/7(1)(c) (personal privacy)')

export const RecordParams = z.object({ id: z.uuid(), commentId: z.uuid() })
export const WithholdRecord = z
  .object({
    citation: Citation,
    note: z.string().max(2000).optional().describe('The factual basis for the denial (5 ILCS 140/9(a)); produced with the citation'),
  })
  .strict()
  .meta({ id: 'FoiaWithholdRecord' })
export const WithholdingResult = z
  .object({ commentId: z.uuid(), withheld: z.boolean(), citation: z.string().nullable(), note: z.string().nullable(), decidedAt: z.iso.datetime(), decidedBy: z.string() })
  .meta({ id: 'FoiaWithholding' })

export const Redaction = z
  .object({
    id: z.uuid(),
    commentId: z.uuid(),
    entryId: z.uuid().describe('The ledger entry whose payload is redacted in the produced copy'),
    path: z.string().describe('JSON Pointer (RFC 6901) of the string in the payload, e.g. /text'),
    start: z.number().int(),
    end: z.number().int().describe('The span [start, end) in UTF-16 code units'),
    text: z.string().describe('The original text of the span, for review; never in a production'),
    category: RedactionCategory,
    citation: z.string(),
    status: RedactionStatus,
    source: z.enum(['suggested', 'clerk']),
    note: z.string().nullable(),
    createdAt: z.iso.datetime(),
    createdBy: z.string(),
    decidedAt: z.iso.datetime().nullable(),
    decidedBy: z.string().nullable(),
  })
  .meta({ id: 'FoiaRedaction' })

export const SearchList = z.object({ items: z.array(FoiaSearch), nextCursor: z.string().nullable().describe('Always null: the whole list is one page') }).meta({ id: 'FoiaSearchList' })
export const RedactionList = z.object({ items: z.array(Redaction), nextCursor: z.string().nullable() }).meta({ id: 'FoiaRedactionList' })
export const RedactionsQuery = z
  .object({ status: RedactionStatus.optional(), limit: z.coerce.number().int().min(1).max(1000).default(100), cursor: z.string().optional() })
  .strict()

export const SuggestResult = z
  .object({ scanned: z.number().int().describe('Ledger entries scanned'), suggested: z.number().int().describe('New suggestions'), pending: z.number().int() })
  .meta({ id: 'FoiaSuggestResult' })

export const AddRedaction = z
  .object({
    entryId: z.uuid(),
    path: z.string().regex(/^(\/[^/]*)+$/, 'a JSON Pointer such as /text').describe('JSON Pointer (RFC 6901) of a string in the payload'),
    start: z.number().int().min(0).optional().describe('Default 0'),
    end: z.number().int().min(1).optional().describe('Default: the end of the string'),
    category: RedactionCategory.default('other'),
    citation: Citation,
    note: z.string().trim().min(1).max(5000).optional(),
  })
  .strict()
  .meta({ id: 'FoiaRedactionCreate' })

export const DecideRedaction = z
  .object({
    status: z.enum(['accepted', 'rejected']),
    citation: Citation.optional().describe('Replaces the suggested citation'),
    note: z.string().trim().min(1).max(5000).optional(),
  })
  .strict()
  .meta({ id: 'FoiaRedactionDecision' })

export const RedactionParams = z.object({ id: z.uuid(), redactionId: z.uuid() })

// ---------------------------------------------------------------------------------------------
// Productions

export const Production = z
  .object({
    id: z.uuid(),
    requestId: z.uuid(),
    format: z.literal('tar'),
    status: z
      .enum(['sealing', 'complete'])
      .describe(
        "sealing: its foia.production ledger entry is not covered by a signed checkpoint yet, and the archive is not served (409 with Retry-After); complete: the archive carries production-proof.json, the proof of that entry, and verifies with the city's key alone",
      ),
    fileName: z.string(),
    archiveBytes: z.number().int().describe('Size of the archive before its proof (the download is this archive with production-proof.json appended)'),
    archiveSha256: z.string().describe('SHA-256 of the archive before its proof: every member but production-proof.json, then the two end blocks; recorded in the ledger entry'),
    manifestSha256: z.string().describe('SHA-256 of manifest.json: recorded in the ledger entry of the production'),
    treeSize: z.number().int().describe('The signed checkpoint every proof in the bundle targets'),
    proofTreeSize: z.number().int().nullable().describe("The first signed checkpoint covering the production's own ledger entry, which production-proof.json proves it against; null while sealing"),
    records: z.number().int(),
    entries: z.number().int(),
    redactions: z.number().int(),
    ledgerEntryId: z.uuid().describe('The foia.production ledger entry'),
    createdAt: z.iso.datetime(),
    createdBy: z.string(),
    downloadUrl: z.string(),
  })
  .meta({ id: 'FoiaProduction' })

export const ProductionList = z.object({ items: z.array(Production), nextCursor: z.string().nullable().describe('Always null: the whole list is one page') }).meta({ id: 'FoiaProductionList' })
export const ProductionParams = z.object({ id: z.uuid(), productionId: z.uuid() })

export const Archive = z.unknown().describe('The production: a POSIX tar archive (application/x-tar)')
