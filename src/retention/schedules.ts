import type { Tx } from '../db/tx.js'
import type { RetentionSchedule } from '../generated/prisma/client.js'
import { appendEntries, type Clock } from '../ledger/append.js'
import { RecordKind } from '../records/query.js'

/**
 * Example retention periods, shown until the city enters its own. They are NOT legal advice and
 * are never used to dispose of anything: a kind becomes eligible only once a schedule approved by
 * the Local Records Commission is entered for it (docs/retention.md).
 */
export const EXAMPLE_RETENTION_DAYS: Readonly<Record<RecordKind, number>> = {
  comment: 2 * 365,
  removed_comment: 5 * 365,
  city_comment: 5 * 365,
}

export interface ScheduleView {
  recordKind: RecordKind
  adopted: boolean
  retentionDays: number
  scheduleReference: string | null
  note: string | null
  updatedAt: Date | null
  updatedBy: string | null
  ledgerEntryId: string | null
}

function view(kind: RecordKind, row: RetentionSchedule | undefined): ScheduleView {
  if (!row) {
    return { recordKind: kind, adopted: false, retentionDays: EXAMPLE_RETENTION_DAYS[kind], scheduleReference: null, note: null, updatedAt: null, updatedBy: null, ledgerEntryId: null }
  }
  return {
    recordKind: kind,
    adopted: true,
    retentionDays: row.retentionDays,
    scheduleReference: row.scheduleReference,
    note: row.note,
    updatedAt: row.updatedAt,
    updatedBy: row.updatedBy,
    ledgerEntryId: row.ledgerEntryId,
  }
}

export async function listSchedules(tx: Tx): Promise<ScheduleView[]> {
  const rows = new Map((await tx.retentionSchedule.findMany()).map((r) => [r.recordKind, r]))
  return RecordKind.options.map((kind) => view(kind, rows.get(kind)))
}

/** Enters (or changes) the approved schedule of a record kind; the change is appended to the ledger. */
export async function setSchedule(
  tx: Tx,
  actor: string,
  kind: RecordKind,
  input: { retentionDays: number; scheduleReference: string; note?: string | undefined },
  clock: Clock,
): Promise<ScheduleView> {
  const now = clock()
  const previous = await tx.retentionSchedule.findUnique({ where: { recordKind: kind } })
  const [entry] = await appendEntries(
    tx,
    [
      {
        kind: 'retention.schedule_set',
        subject: `record-kind:${kind}`,
        actor,
        payload: {
          recordKind: kind,
          retentionDays: input.retentionDays,
          scheduleReference: input.scheduleReference,
          note: input.note ?? null,
          previous: previous ? { retentionDays: previous.retentionDays, scheduleReference: previous.scheduleReference } : null,
        },
      },
    ],
  )
  const data = { retentionDays: input.retentionDays, scheduleReference: input.scheduleReference, note: input.note ?? null, updatedAt: now, updatedBy: actor, ledgerEntryId: entry!.id }
  const row = await tx.retentionSchedule.upsert({ where: { recordKind: kind }, create: { recordKind: kind, ...data }, update: data })
  return view(kind, row)
}
