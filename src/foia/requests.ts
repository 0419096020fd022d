import { randomUUID } from 'node:crypto'
import type { Tx } from '../db/tx.js'
import type { FoiaRequest as FoiaRequestRow, FoiaRequestStatus as StatusRow } from '../generated/prisma/client.js'
import type { Clock } from '../ledger/append.js'
import { ConflictError, NotFoundError, ProblemError } from '../plugins/errors.js'
import { addBusinessDays, EXTENSION_DAYS, illinoisDate, responseDays, type HolidayCalendar } from './business-days.js'
import { EXTENSION_REASONS, FINAL_STATUSES, type ExtensionReason, type FoiaStatus } from './schemas.js'

export interface FoiaDeps {
  clock: Clock
  calendar: HolidayCalendar
}

export class RequestClosedError extends ConflictError {
  constructor(id: string, status: string) {
    super(`FOIA request ${id} is ${status}: a closed request does not change.`, 'foia-request-closed')
  }
}

const toDate = (day: string) => new Date(day + 'T00:00:00Z')
const toDay = (date: Date) => date.toISOString().slice(0, 10)

function deadline(date: string, n: number, calendar: HolidayCalendar): string {
  return addBusinessDays(date, n, calendar)
}

export interface NewRequest {
  requester: { name: string; contact?: string | undefined }
  receivedOn: string
  description: string
  commercial: boolean
}

export class ReceivedInFutureError extends ProblemError {
  constructor(receivedOn: string, today: string) {
    super(422, 'foia-received-in-future', 'Date of receipt in the future', `receivedOn ${receivedOn} is after today (${today} in Illinois): a request is logged on or after the day it arrives.`)
  }
}

/** The requester's e-mail address when the contact is one (lower case), else null. */
export function emailOf(contact: string | null | undefined): string | null {
  if (!contact) return null
  const text = contact.trim()
  return /^[^\s@<>(),;:"[\]]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/.test(text) ? text.toLowerCase() : null
}

/**
 * A recurrent requester (5 ILCS 140/2(g)): in the 12 months before this request, at least 50
 * requests, or 15 within a 30-day period, or 7 within a 7-day period, to this public body. Counted by
 * the requester's e-mail address (requests without one cannot be tied to a person and are not
 * counted). The statute's exclusions (news media, non-profit, scientific or academic organizations)
 * are the clerk's to apply: the flag is shown with the counts, not hidden.
 */
export async function recurrentCounts(
  tx: Tx,
  email: string | null,
  receivedOn: string,
): Promise<{ last12Months: number; max30Days: number; max7Days: number; recurrent: boolean }> {
  if (!email) return { last12Months: 0, max30Days: 0, max7Days: 0, recurrent: false }
  const from = new Date(toDate(receivedOn).getTime())
  from.setUTCFullYear(from.getUTCFullYear() - 1)
  const rows = await tx.foiaRequest.findMany({
    where: { requesterEmail: email, receivedOn: { gte: from, lt: toDate(receivedOn) } },
    select: { receivedOn: true },
    orderBy: { receivedOn: 'asc' },
  })
  const days = rows.map((r) => r.receivedOn.getTime() / 86_400_000)
  const maxWithin = (span: number) => {
    let best = 0
    for (let i = 0, j = 0; j < days.length; j++) {
      while (days[j]! - days[i]! >= span) i++
      best = Math.max(best, j - i + 1)
    }
    return best
  }
  const counts = { last12Months: days.length, max30Days: maxWithin(30), max7Days: maxWithin(7) }
  return { ...counts, recurrent: counts.last12Months >= 50 || counts.max30Days >= 15 || counts.max7Days >= 7 }
}

/**
 * The next tracking number of a year, YYYY-NNNN, taken from the year's counter row in the caller's
 * transaction: the row lock orders concurrent creations and a rollback gives the number back, so
 * the numbers of a year have no gap and no duplicate.
 */
export async function nextTrackingNumber(tx: Tx, year: number): Promise<string> {
  const [row] = await tx.$queryRaw<Array<{ last: number }>>`
    INSERT INTO foia_tracking_counter (year, last) VALUES (${year}, 1)
    ON CONFLICT (year) DO UPDATE SET last = foia_tracking_counter.last + 1
    RETURNING last`
  return `${year}-${String(row!.last).padStart(4, '0')}`
}

/**
 * Logs a request received on `receivedOn` (not after today): due 5 business days later, 21 when
 * commercial (3.1) or from a recurrent requester (3.2). Returns its id and tracking number.
 */
export async function createRequest(
  tx: Tx,
  input: NewRequest,
  actor: string,
  deps: FoiaDeps,
  source: 'clerk' | 'public' = 'clerk',
): Promise<string> {
  const now = deps.clock()
  const today = illinoisDate(now)
  if (input.receivedOn > today) throw new ReceivedInFutureError(input.receivedOn, today)
  const email = emailOf(input.requester.contact)
  const { recurrent } = await recurrentCounts(tx, email, input.receivedOn)
  const due = deadline(input.receivedOn, responseDays(input.commercial, recurrent), deps.calendar)
  const id = randomUUID()
  const trackingNumber = await nextTrackingNumber(tx, Number(input.receivedOn.slice(0, 4)))
  await tx.foiaRequest.create({
    data: {
      id,
      trackingNumber,
      requesterName: input.requester.name,
      requesterContact: input.requester.contact ?? null,
      requesterEmail: email,
      description: input.description,
      commercial: input.commercial,
      recurrent,
      source,
      receivedOn: toDate(input.receivedOn),
      originalDueOn: toDate(due),
      dueOn: toDate(due),
      dueCalendar: deps.calendar.name,
      status: 'received',
      createdAt: now,
      createdBy: actor,
    },
  })
  const note = recurrent ? 'recurrent requester (5 ILCS 140/2(g)): 21 business days (3.2)' : null
  await tx.foiaRequestStatus.create({ data: { id: randomUUID(), requestId: id, status: 'received', at: now, by: actor, note } })
  return id
}

/** A request's id from its id or its tracking number (YYYY-NNNN). */
export async function resolveRequestId(tx: Tx, idOrTracking: string): Promise<string> {
  if (/^\d{4}-\d{4,}$/.test(idOrTracking)) {
    const row = await tx.foiaRequest.findUnique({ where: { trackingNumber: idOrTracking }, select: { id: true } })
    if (!row) throw new NotFoundError(`No FOIA request ${idOrTracking}.`)
    return row.id
  }
  return idOrTracking
}

async function lockRequest(tx: Tx, id: string): Promise<FoiaRequestRow> {
  await tx.$queryRaw`SELECT id FROM foia_request WHERE id = ${id}::uuid FOR UPDATE`
  const row = await tx.foiaRequest.findUnique({ where: { id } })
  if (!row) throw new NotFoundError(`No FOIA request ${id}.`)
  return row
}

/** Moves a request to a new status, kept in its history; a closed request (fulfilled, denied) stays closed. */
export async function changeStatus(tx: Tx, id: string, change: { status: FoiaStatus; note?: string | undefined }, actor: string, clock: Clock): Promise<void> {
  const row = await lockRequest(tx, id)
  if (FINAL_STATUSES.includes(row.status as FoiaStatus)) throw new RequestClosedError(id, row.status)
  if (row.status === change.status) throw new ConflictError(`FOIA request ${id} is already ${row.status}.`, 'foia-status-unchanged')
  const now = clock()
  await tx.foiaRequest.update({ where: { id }, data: { status: change.status } })
  await tx.foiaRequestStatus.create({ data: { id: randomUUID(), requestId: id, status: change.status, at: now, by: actor, note: change.note ?? null } })
}

/**
 * The one extension 5 ILCS 140/3(e) allows: 5 more business days from the original due date, for
 * one of its reasons, decided before the original deadline passes (the requester must be told
 * within the 5 business days). 3.1 (commercial requests) has no such extension.
 */
export async function extendRequest(tx: Tx, id: string, input: { reason: ExtensionReason; note?: string | undefined }, actor: string, deps: FoiaDeps): Promise<void> {
  const row = await lockRequest(tx, id)
  if (FINAL_STATUSES.includes(row.status as FoiaStatus)) throw new RequestClosedError(id, row.status)
  if (row.extendedAt) throw new ConflictError(`FOIA request ${id} was already extended on ${row.extendedAt.toISOString()}; the Act allows one extension.`, 'foia-already-extended')
  if (row.recurrent) {
    throw new ConflictError("A recurrent requester's request (5 ILCS 140/3.2) has 21 business days and no 3(e) extension.", 'foia-extension-not-allowed')
  }
  if (row.commercial) {
    throw new ConflictError('A commercial request (5 ILCS 140/3.1) has 21 business days and no 3(e) extension.', 'foia-extension-not-allowed')
  }
  const now = deps.clock()
  const today = illinoisDate(now)
  const originalDue = toDay(row.originalDueOn)
  if (today > originalDue) {
    throw new ConflictError(`The original deadline (${originalDue}) has passed: an extension must be made within the 5 business days (3(e)).`, 'foia-extension-too-late')
  }
  const dueOn = deadline(originalDue, EXTENSION_DAYS, deps.calendar)
  const reason = EXTENSION_REASONS[input.reason]
  await tx.foiaRequest.update({
    where: { id },
    data: { status: 'extended', dueOn: toDate(dueOn), dueCalendar: deps.calendar.name, extensionReason: input.reason, extensionNote: input.note ?? null, extendedAt: now, extendedBy: actor },
  })
  await tx.foiaRequestStatus.create({
    data: { id: randomUUID(), requestId: id, status: 'extended', at: now, by: actor, note: `${reason.citation}: ${reason.text}${input.note ? ` (${input.note})` : ''}` },
  })
}

/**
 * A clerk's decision on the recurrent-requester flag (5 ILCS 140/2(g) excludes news media,
 * non-profit, scientific and academic organizations, which counting by address cannot see): the
 * deadline is computed again from the date of receipt (5 or 21 business days), with the reason
 * kept in the history. Not once extended: the extension's date stands.
 */
export async function setRecurrent(tx: Tx, id: string, input: { recurrent: boolean; reason: string }, actor: string, deps: FoiaDeps): Promise<void> {
  const row = await lockRequest(tx, id)
  if (FINAL_STATUSES.includes(row.status as FoiaStatus)) throw new RequestClosedError(id, row.status)
  if (row.recurrent === input.recurrent) throw new ConflictError(`FOIA request ${row.trackingNumber} is ${row.recurrent ? 'already' : 'not'} flagged recurrent.`, 'foia-status-unchanged')
  if (row.extendedAt) throw new ConflictError(`FOIA request ${row.trackingNumber} was extended: its deadline stands.`, 'foia-already-extended')
  const due = deadline(toDay(row.receivedOn), responseDays(row.commercial, input.recurrent), deps.calendar)
  await tx.foiaRequest.update({ where: { id }, data: { recurrent: input.recurrent, originalDueOn: toDate(due), dueOn: toDate(due), dueCalendar: deps.calendar.name } })
  await tx.foiaRequestStatus.create({
    data: {
      id: randomUUID(),
      requestId: id,
      status: row.status,
      at: deps.clock(),
      by: actor,
      note: `${input.recurrent ? 'flagged' : 'not'} a recurrent requester (5 ILCS 140/2(g)): ${input.reason}; due ${due}`,
    },
  })
}

export interface RequestView {
  row: FoiaRequestRow
  history: StatusRow[]
  records: number
}

export async function getRequest(tx: Tx, id: string): Promise<RequestView> {
  const row = await tx.foiaRequest.findUnique({ where: { id }, include: { history: { orderBy: { seq: 'asc' } } } })
  if (!row) throw new NotFoundError(`No FOIA request ${id}.`)
  const records = await tx.foiaRequestRecord.count({ where: { requestId: id, detachedAt: null } })
  const { history, ...rest } = row
  return { row: rest, history, records }
}

/** Requests by due date (then age); with dueBefore, only open ones due before that date. */
export async function listRequests(
  tx: Tx,
  filter: { dueBefore?: string | undefined; status?: FoiaStatus | undefined },
  page: { limit: number; after?: { dueOn: string; seq: bigint } },
): Promise<{ items: RequestView[]; more: boolean }> {
  const rows = await tx.foiaRequest.findMany({
    where: {
      ...(filter.status ? { status: filter.status } : {}),
      ...(filter.dueBefore ? { dueOn: { lt: toDate(filter.dueBefore) }, status: filter.status ?? { notIn: [...FINAL_STATUSES] } } : {}),
      ...(page.after
        ? { OR: [{ dueOn: { gt: toDate(page.after.dueOn) } }, { dueOn: toDate(page.after.dueOn), seq: { gt: page.after.seq } }] }
        : {}),
    },
    orderBy: [{ dueOn: 'asc' }, { seq: 'asc' }],
    take: page.limit + 1,
    include: { history: { orderBy: { seq: 'asc' } }, _count: { select: { records: { where: { detachedAt: null } } } } },
  })
  const items = rows.slice(0, page.limit).map(({ history, _count, ...row }) => ({ row, history, records: _count.records }))
  return { items, more: rows.length > page.limit }
}

export { toDay }
