import { randomUUID } from 'node:crypto'
import type { Tx } from '../db/tx.js'
import type { FoiaRequest as FoiaRequestRow, FoiaRequestStatus as StatusRow } from '../generated/prisma/client.js'
import type { Clock } from '../ledger/append.js'
import { ConflictError, NotFoundError, ProblemError } from '../plugins/errors.js'
import { addBusinessDays, CalendarNotCoveredError, EXTENSION_DAYS, illinoisDate, responseDays, type HolidayCalendar } from './business-days.js'
import { EXTENSION_REASONS, FINAL_STATUSES, type ExtensionReason, type FoiaStatus } from './schemas.js'

export interface FoiaDeps {
  clock: Clock
  calendar: HolidayCalendar
}

export class HolidayCalendarIncompleteError extends ProblemError {
  constructor(error: CalendarNotCoveredError) {
    super(422, 'holiday-calendar-incomplete', 'Holiday calendar incomplete', error.message, { year: error.year })
  }
}

export class RequestClosedError extends ConflictError {
  constructor(id: string, status: string) {
    super(`FOIA request ${id} is ${status}: a closed request does not change.`, 'foia-request-closed')
  }
}

const toDate = (day: string) => new Date(day + 'T00:00:00Z')
const toDay = (date: Date) => date.toISOString().slice(0, 10)

function deadline(date: string, n: number, calendar: HolidayCalendar): string {
  try {
    return addBusinessDays(date, n, calendar)
  } catch (error) {
    if (error instanceof CalendarNotCoveredError) throw new HolidayCalendarIncompleteError(error)
    throw error
  }
}

export interface NewRequest {
  requester: { name: string; contact?: string | undefined }
  receivedOn: string
  description: string
  commercial: boolean
}

/** Logs a request received on `receivedOn`: due 5 business days later (21 when commercial). */
export async function createRequest(tx: Tx, input: NewRequest, actor: string, deps: FoiaDeps): Promise<string> {
  const due = deadline(input.receivedOn, responseDays(input.commercial), deps.calendar)
  const now = deps.clock()
  const id = randomUUID()
  await tx.foiaRequest.create({
    data: {
      id,
      requesterName: input.requester.name,
      requesterContact: input.requester.contact ?? null,
      description: input.description,
      commercial: input.commercial,
      receivedOn: toDate(input.receivedOn),
      originalDueOn: toDate(due),
      dueOn: toDate(due),
      status: 'received',
      createdAt: now,
      createdBy: actor,
    },
  })
  await tx.foiaRequestStatus.create({ data: { id: randomUUID(), requestId: id, status: 'received', at: now, by: actor, note: null } })
  return id
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
    data: { status: 'extended', dueOn: toDate(dueOn), extensionReason: input.reason, extensionNote: input.note ?? null, extendedAt: now, extendedBy: actor },
  })
  await tx.foiaRequestStatus.create({
    data: { id: randomUUID(), requestId: id, status: 'extended', at: now, by: actor, note: `${reason.citation}: ${reason.text}${input.note ? ` (${input.note})` : ''}` },
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
  const records = await tx.foiaRequestRecord.count({ where: { requestId: id } })
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
    include: { history: { orderBy: { seq: 'asc' } }, _count: { select: { records: true } } },
  })
  const items = rows.slice(0, page.limit).map(({ history, _count, ...row }) => ({ row, history, records: _count.records }))
  return { items, more: rows.length > page.limit }
}

export { toDay }
