import { createHash, randomUUID, timingSafeEqual } from 'node:crypto'
import type { Tx } from '../db/tx.js'
import { appendEntries, type Clock } from '../ledger/append.js'
import { NotFoundError, ProblemError } from '../plugins/errors.js'
import { illinoisDate } from './business-days.js'
import { RequestClosedError } from './requests.js'
import { FINAL_STATUSES, type FoiaStatus } from './schemas.js'

/**
 * What a requester can do without an account: find their request by its tracking number and the
 * contact they gave (both needed: tracking numbers are sequential, so guessable), read its status,
 * letters and messages, and write to the clerk.
 */

const normalize = (contact: string) => contact.trim().toLowerCase().replace(/\s+/g, ' ')
const digest = (s: string) => createHash('sha256').update(s).digest()

/** The same answer (404) whether the number does not exist or the contact does not match. */
export async function findByTrackingAndContact(tx: Tx, trackingNumber: string, contact: string) {
  const row = await tx.foiaRequest.findUnique({ where: { trackingNumber } })
  // Compared in constant time over digests, so the answer's timing says nothing of the contact.
  const given = digest(normalize(contact))
  const kept = digest(row?.requesterContact ? normalize(row.requesterContact) : '\0no contact')
  if (!row || !row.requesterContact || !timingSafeEqual(given, kept)) {
    throw new NotFoundError('No FOIA request with this tracking number and contact.')
  }
  return row
}

export async function addMessage(tx: Tx, requestId: string, author: 'requester' | 'clerk', body: string, by: string, clock: Clock) {
  const id = randomUUID()
  return tx.foiaMessage.create({ data: { id, requestId, author, body, at: clock(), by } })
}

export async function listMessages(tx: Tx, requestId: string) {
  return tx.foiaMessage.findMany({ where: { requestId }, orderBy: { seq: 'asc' } })
}

// ---------------------------------------------------------------------------------------------
// Fees (5 ILCS 140/6)

export interface FeeSchedule {
  perPageCents: number
  mediumCents: number
}

/**
 * The fee for a production: electronic, the cost of the medium only (6(a); 0 when e-mailed or
 * downloaded); on paper, the first 50 black-and-white letter or legal pages free, then the
 * schedule's fee per page, at most 15 cents (6(b)).
 */
export function estimateFee(schedule: FeeSchedule, input: { pages: number; electronic: boolean }): number {
  if (input.electronic) return schedule.mediumCents
  return Math.max(0, input.pages - 50) * Math.min(schedule.perPageCents, 15)
}

export async function recordFee(
  tx: Tx,
  requestId: string,
  input: { pages: number; electronic: boolean; waived: boolean; waiverReason?: string | undefined },
  schedule: FeeSchedule,
  actor: string,
  clock: Clock,
) {
  const row = await tx.foiaRequest.findUnique({ where: { id: requestId }, select: { status: true } })
  if (!row) throw new NotFoundError(`No FOIA request ${requestId}.`)
  if (FINAL_STATUSES.includes(row.status as FoiaStatus)) throw new RequestClosedError(requestId, row.status)
  const amountCents = estimateFee(schedule, input)
  return tx.foiaFee.create({
    data: {
      requestId,
      pages: input.pages,
      electronic: input.electronic,
      amountCents,
      waived: input.waived,
      waiverReason: input.waived ? input.waiverReason ?? null : null,
      schedule: { ...schedule, freePages: 50, maxPerPageCents: 15 },
      at: clock(),
      by: actor,
    },
  })
}

export async function latestFee(tx: Tx, requestId: string) {
  return tx.foiaFee.findFirst({ where: { requestId }, orderBy: { seq: 'desc' } })
}

// ---------------------------------------------------------------------------------------------
// Reviews by the Public Access Counselor (5 ILCS 140/9.5)

export class ReviewDateInFutureError extends ProblemError {
  constructor(onDate: string, today: string) {
    super(422, 'foia-review-date-in-future', 'Date in the future', `onDate ${onDate} is after today (${today} in Illinois).`)
  }
}

export interface ReviewInput {
  kind: 'requested' | 'document' | 'outcome'
  onDate: string
  pacReference?: string | undefined
  note?: string | undefined
  outcome?: string | undefined
  document?: { name: string; contentBase64: string } | undefined
}

/**
 * Records a step of a review by the Public Access Counselor against the request: the request for
 * review (with the PAC's file number), each document exchanged (kept, with its SHA-256), and the
 * outcome. Each is a `foia.review` ledger entry with the document's hash.
 */
export async function recordReview(tx: Tx, requestId: string, input: ReviewInput, actor: string, clock: Clock) {
  const row = await tx.foiaRequest.findUnique({ where: { id: requestId }, select: { trackingNumber: true } })
  if (!row) throw new NotFoundError(`No FOIA request ${requestId}.`)
  const now = clock()
  const today = illinoisDate(now)
  if (input.onDate > today) throw new ReviewDateInFutureError(input.onDate, today)
  const document = input.document ? Buffer.from(input.document.contentBase64, 'base64') : null
  const documentSha256 = document ? createHash('sha256').update(document).digest('hex') : null
  const id = randomUUID()
  const [entry] = await appendEntries(tx, [
    {
      kind: 'foia.review',
      subject: requestId,
      actor,
      payload: {
        requestId,
        trackingNumber: row.trackingNumber,
        reviewEventId: id,
        reviewKind: input.kind,
        onDate: input.onDate,
        ...(input.pacReference ? { pacReference: input.pacReference } : {}),
        ...(input.outcome ? { outcome: input.outcome } : {}),
        ...(documentSha256 ? { documentName: input.document!.name, documentSha256 } : {}),
      },
    },
  ])
  return tx.foiaReviewEvent.create({
    data: {
      id,
      requestId,
      kind: input.kind,
      pacReference: input.pacReference ?? null,
      onDate: new Date(input.onDate + 'T00:00:00Z'),
      note: input.note ?? null,
      documentName: input.document?.name ?? null,
      documentSha256,
      document: document ? new Uint8Array(document) : null,
      outcome: input.outcome ?? null,
      ledgerEntryId: entry!.id,
      at: now,
      by: actor,
    },
    omit: { document: true },
  })
}

export async function listReviews(tx: Tx, requestId: string) {
  return tx.foiaReviewEvent.findMany({ where: { requestId }, orderBy: { seq: 'asc' }, omit: { document: true } })
}

// ---------------------------------------------------------------------------------------------
// The central index of denial notices (5 ILCS 140/9(b))

export async function listDenials(tx: Tx, filter: { citation?: string | undefined }, page: { limit: number; after?: bigint | undefined }) {
  const rows = await tx.foiaLetter.findMany({
    where: {
      kind: 'denial',
      ...(filter.citation ? { exemptions: { some: { citation: filter.citation } } } : {}),
      ...(page.after ? { seq: { gt: page.after } } : {}),
    },
    orderBy: { seq: 'asc' },
    take: page.limit + 1,
    select: { id: true, seq: true, createdAt: true, publicText: true, textSha256: true, ledgerEntryId: true, details: true, exemptions: { select: { citation: true } }, request: { select: { trackingNumber: true } } },
  })
  return { items: rows.slice(0, page.limit), more: rows.length > page.limit }
}

/** Exemptions with the number of denial notices citing each, for the index's table of contents. */
export async function denialCitations(tx: Tx) {
  const rows = await tx.foiaDenialExemption.groupBy({ by: ['citation'], _count: { letterId: true }, orderBy: { citation: 'asc' } })
  return rows.map((r) => ({ citation: r.citation, notices: r._count.letterId }))
}

/**
 * One CSV cell (RFC 4180). A cell starting with =, +, -, @, a tab or a carriage return would run as
 * a formula in a spreadsheet (CSV injection): it is prefixed with ' and quoted.
 */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
  return /[",\r\n]/.test(safe) || safe !== value ? `"${safe.replace(/"/g, '""')}"` : safe
}
