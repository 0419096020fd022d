import type { FastifyRequest } from 'fastify'
import { csvField } from '../http/csv.js'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { z } from 'zod'
import { inTransaction } from '../db/tx.js'
import { decodeCursor, encodeCursor } from '../http/cursor.js'
import { actorOf, type Role } from '../plugins/auth.js'
import { Problem } from '../plugins/errors.js'
import { approveDisposal, createDisposal, executeDisposal, getDisposal, listDisposals, listEligible, type DisposalRecordView, type DisposalView } from './disposal.js'
import { getHold, listHolds, placeHold, releaseHold, type HoldView } from './holds.js'
import { listSchedules, setSchedule, type ScheduleView } from './schedules.js'
import * as S from './schemas.js'
import { withResolvedQuery } from '../http/dates.js'

const CLERKS: readonly Role[] = ['records_clerk']
const READERS: readonly Role[] = ['records_clerk', 'auditor']
const errors = { 400: Problem, 401: Problem, 403: Problem }
const iso = (d: Date | null) => d?.toISOString() ?? null

function scheduleBody(s: ScheduleView): z.infer<typeof S.Schedule> {
  return { ...s, updatedAt: iso(s.updatedAt) }
}

function holdBody(v: HoldView): z.infer<typeof S.Hold> {
  const h = v.hold
  return {
    id: h.id,
    status: h.status as 'active' | 'released',
    reason: h.reason,
    query: (h.query as z.infer<typeof S.Hold>['query']) ?? null,
    recordCount: v.recordCount,
    ...(v.recordIds ? { recordIds: v.recordIds } : {}),
    alreadyDisposed: v.alreadyDisposed,
    placedBy: h.placedBy,
    placedAt: h.placedAt.toISOString(),
    placedEntryId: h.placedEntryId,
    releasedBy: h.releasedBy,
    releasedAt: iso(h.releasedAt),
    releaseReason: h.releaseReason,
    releasedEntryId: h.releasedEntryId,
  }
}

function disposalBody(v: DisposalView): z.infer<typeof S.Disposal> {
  const d = v.disposal
  return {
    id: d.id,
    status: d.status as z.infer<typeof S.Disposal>['status'],
    noticeDays: d.noticeDays,
    note: d.note,
    createdBy: d.createdBy,
    createdAt: d.createdAt.toISOString(),
    listedEntryId: d.listedEntryId,
    approvedBy: d.approvedBy,
    approvedAt: iso(d.approvedAt),
    approvedOn: d.approvedOn ? d.approvedOn.toISOString().slice(0, 10) : null,
    approvalReference: d.approvalReference,
    approvalEntryId: d.approvalEntryId,
    noticeEndsAt: iso(d.noticeEndsAt),
    executedBy: d.executedBy,
    executedAt: iso(d.executedAt),
    executionEntryId: d.executionEntryId,
    counts: v.counts,
  }
}

function recordBody(r: DisposalRecordView): z.infer<typeof S.DisposalRecord> {
  return {
    ...r,
    firstPlatformAt: r.firstPlatformAt.toISOString(),
    lastActivityAt: r.lastActivityAt.toISOString(),
    retainUntil: r.retainUntil.toISOString(),
  }
}

const CSV_COLUMNS = ['record_id', 'record_kind', 'platform', 'external_id', 'first_platform_at', 'last_activity_at', 'retention_days', 'schedule_reference', 'retain_until', 'outcome', 'held_by'] as const

export function certificateCsv(records: DisposalRecordView[]): string {
  const lines = [CSV_COLUMNS.join(',')]
  for (const r of records) {
    lines.push(
      [r.recordId, r.recordKind, r.platform, r.externalId, r.firstPlatformAt.toISOString(), r.lastActivityAt.toISOString(), String(r.retentionDays), r.scheduleReference, r.retainUntil.toISOString(), r.outcome, r.heldBy.join(' ')]
        .map(csvField)
        .join(','),
    )
  }
  return lines.join('\r\n') + '\r\n'
}

export const retentionRoutes: FastifyPluginAsyncZod = async (app) => {
  const prisma = app.db.prisma
  const actor = (request: FastifyRequest) => `user:${actorOf(request).sub}`

  app.get(
    '/retention/schedules',
    {
      config: { access: READERS },
      schema: { tags: ['retention'], summary: 'The retention schedule of every record kind (examples until the city enters its approved schedule)', description: 'Each record kind\'s retention period and the schedule reference it comes from; the shipped values are examples until the city enters its approved schedule.', response: { 200: S.ScheduleList, ...errors } },
    },
    async () => ({ items: (await listSchedules(prisma)).map(scheduleBody), nextCursor: null }),
  )

  app.put(
    '/retention/schedules/:kind',
    {
      config: { access: CLERKS },
      schema: {
        tags: ['retention'],
        summary: "Enter the city's approved retention schedule for a record kind (recorded in the ledger)",
        description: 'Sets the retention period and the approved schedule\'s reference for a kind; recorded in the ledger (retention.schedule_set).',
        params: S.ScheduleParams,
        body: S.ScheduleRequest,
        response: { 200: S.Schedule, ...errors },
      },
    },
    async (request) => scheduleBody(await inTransaction(prisma, (tx) => setSchedule(tx, actor(request), request.params.kind, request.body, app.clock))),
  )

  app.get(
    '/retention/eligible',
    {
      config: { access: READERS },
      schema: { tags: ['retention'], summary: 'Records past their retention period and under no legal hold', description: 'Records whose retention period has passed since their last activity, excluding everything under a legal hold, as of now; pages with nextCursor.', querystring: S.EligibleQuery, response: { 200: S.EligibleList, ...errors } },
    },
    async (request) => {
      const { kind, limit, cursor } = request.query
      const afterSeq = cursor ? decodeCursor(cursor, { seq: 'seq' }).seq : undefined
      const now = app.clock()
      const rows = await listEligible(prisma, now, { kinds: kind ? [kind] : undefined, limit: limit + 1, afterSeq })
      const page = rows.slice(0, limit)
      return {
        asOf: now.toISOString(),
        items: page.map((r) => ({
          recordId: r.recordId,
          recordKind: r.recordKind,
          platform: r.platform,
          externalId: r.externalId,
          firstPlatformAt: r.firstPlatformAt.toISOString(),
          lastActivityAt: r.lastActivityAt.toISOString(),
          retentionDays: r.retentionDays,
          scheduleReference: r.scheduleReference,
          retainUntil: r.retainUntil.toISOString(),
        })),
        nextCursor: rows.length > limit ? encodeCursor({ seq: page[page.length - 1]!.seq }) : null,
      }
    },
  )

  app.post(
    '/holds',
    {
      config: { access: CLERKS, idempotent: true },
      schema: { tags: ['retention'], summary: 'Place a legal hold on records or on a search (recorded in the ledger)', description: 'A hold on record ids covers those records; a hold on a search (from/to: a plain date is a day in CITY_TIME_ZONE) also covers records that match it later. Held records are never disposed of. Recorded in the ledger (hold.placed).', body: S.HoldRequest, response: { 201: S.Hold, ...errors } },
    },
    async (request, reply) => {
      const view = await inTransaction(prisma, (tx) => placeHold(tx, actor(request), withResolvedQuery(request.body, app.config.cityTimeZone), app.clock))
      return reply.status(201).send(holdBody(view))
    },
  )

  app.post(
    '/holds/:id/release',
    {
      config: { access: CLERKS },
      schema: { tags: ['retention'], summary: 'Release a legal hold, with the reason (recorded in the ledger)', description: 'The records become eligible for disposal again unless another hold covers them. Recorded in the ledger (hold.released).', params: S.HoldParams, body: S.ReleaseRequest, response: { 200: S.Hold, 404: Problem, 409: Problem, ...errors } },
    },
    async (request) => holdBody(await inTransaction(prisma, (tx) => releaseHold(tx, actor(request), request.params.id, request.body.reason, app.clock))),
  )

  app.get(
    '/holds',
    {
      config: { access: READERS },
      schema: { tags: ['retention'], summary: 'Legal holds, newest first', description: 'Active and released holds, newest first, in pages (nextCursor).', querystring: S.HoldListQuery, response: { 200: S.HoldList, ...errors } },
    },
    async (request) => {
      const { status, limit, cursor } = request.query
      const c = cursor ? decodeCursor(cursor, { placedAt: 'time', id: 'uuid' }) : null
      const page = await listHolds(prisma, { status }, { limit, after: c ? { placedAt: new Date(c.placedAt), id: c.id } : undefined })
      const last = page.items[page.items.length - 1]?.hold
      return { items: page.items.map(holdBody), nextCursor: page.more && last ? encodeCursor({ placedAt: last.placedAt.toISOString(), id: last.id }) : null }
    },
  )

  app.get(
    '/holds/:id',
    {
      config: { access: READERS },
      schema: { tags: ['retention'], summary: 'One legal hold with the records it covers', description: 'The hold, its reason and search, and the records it covers.', params: S.HoldParams, response: { 200: S.Hold, 404: Problem, ...errors } },
    },
    async (request) => holdBody(await getHold(prisma, request.params.id)),
  )

  app.post(
    '/disposals',
    {
      config: { access: CLERKS, idempotent: true },
      schema: {
        tags: ['retention'],
        summary: 'Create a disposal certificate listing of the records eligible now (recorded in the ledger)',
        description: 'Lists the records eligible now for a Local Records Disposal Certificate (44 Ill. Adm. Code 4000.40); nothing is destroyed until the disposal is approved and its notice period has passed. Recorded in the ledger (disposal.listed).',
        body: S.DisposalRequest,
        response: { 201: S.DisposalDetail, 409: Problem, ...errors },
      },
    },
    async (request, reply) => {
      const view = await inTransaction(prisma, (tx) => createDisposal(tx, actor(request), request.body, { clock: app.clock, noticeDays: app.config.retention.disposalNoticeDays }))
      return reply.status(201).send({ ...disposalBody(view), records: (view.records ?? []).map(recordBody) })
    },
  )

  app.get(
    '/disposals',
    {
      config: { access: READERS },
      schema: { tags: ['retention'], summary: 'Disposals, newest first', description: 'Every disposal with its status (listed, approved, executed), newest first, in pages (nextCursor).', querystring: S.DisposalListQuery, response: { 200: S.DisposalList, ...errors } },
    },
    async (request) => {
      const { status, limit, cursor } = request.query
      const c = cursor ? decodeCursor(cursor, { createdAt: 'time', id: 'uuid' }) : null
      const page = await listDisposals(prisma, { status }, { limit, after: c ? { createdAt: new Date(c.createdAt), id: c.id } : undefined })
      const last = page.items[page.items.length - 1]?.disposal
      return { items: page.items.map(disposalBody), nextCursor: page.more && last ? encodeCursor({ createdAt: last.createdAt.toISOString(), id: last.id }) : null }
    },
  )

  app.get(
    '/disposals/:id',
    {
      config: { access: READERS },
      schema: { tags: ['retention'], summary: 'One disposal with its listed records and their outcomes', description: 'The disposal, its listed records and the outcome of each.', params: S.DisposalParams, response: { 200: S.DisposalDetail, 404: Problem, ...errors } },
    },
    async (request) => {
      const view = await getDisposal(prisma, request.params.id)
      return { ...disposalBody(view), records: (view.records ?? []).map(recordBody) }
    },
  )

  app.get(
    '/disposals/:id/certificate',
    {
      config: { access: READERS },
      schema: {
        tags: ['retention'],
        summary: 'The disposal certificate listing, as JSON or CSV (format=csv), for the Records Disposal Certificate',
        description: 'The listing to attach to the Local Records Disposal Certificate: format=json, or format=csv (text/csv, one row per record, formula characters defused for spreadsheets).',
        params: S.DisposalParams,
        querystring: S.CertificateQuery,
        produces: ['application/json', 'text/csv'],
        response: { 200: S.DisposalDetail.describe('format=json; format=csv answers text/csv with one row per record'), 404: Problem, ...errors },
      },
    },
    async (request, reply) => {
      const view = await getDisposal(prisma, request.params.id)
      if (request.query.format === 'csv') {
        // Sent as text, past the JSON serializer: the schema above describes the JSON form.
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="disposal-${view.disposal.id}.csv"`)
          .serializer((payload: unknown) => payload as string)
          .send(certificateCsv(view.records ?? []) as never)
      }
      return { ...disposalBody(view), records: (view.records ?? []).map(recordBody) }
    },
  )

  app.post(
    '/disposals/:id/approval',
    {
      config: { access: CLERKS },
      schema: {
        tags: ['retention'],
        summary: "Record the disposal's authorization (e.g. the Commission's certificate number); starts the notice period",
        description: 'Records the Local Records Commission\'s approval and its date; execution is refused until the notice period (DISPOSAL_NOTICE_DAYS, at least the database\'s floor) has passed. Recorded in the ledger (disposal.approved).',
        params: S.DisposalParams,
        body: S.ApprovalRequest,
        response: { 200: S.Disposal, 404: Problem, 409: Problem, ...errors },
      },
    },
    async (request) => disposalBody(await inTransaction(prisma, (tx) => approveDisposal(tx, actor(request), request.params.id, request.body, app.clock, app.config.cityTimeZone))),
  )

  app.post(
    '/disposals/:id/execute',
    {
      config: { access: CLERKS },
      schema: {
        tags: ['retention'],
        summary: 'Destroy the content of the listed records after approval and notice period; held records are skipped. Idempotent.',
        description: 'Destroys the content of each listed record not under a hold (the ledger keeps the commitments, not the content), records the disposal in the ledger, and can be run again safely.',
        params: S.DisposalParams,
        response: { 200: S.ExecutionReport, 404: Problem, 409: Problem, ...errors },
      },
    },
    async (request) => {
      const report = await inTransaction(prisma, (tx) => executeDisposal(tx, actor(request), request.params.id, app.clock))
      return {
        disposal: disposalBody(report.view),
        replayed: report.replayed,
        disposed: report.disposed,
        skipped: report.skipped,
        destroyedLedgerEntries: report.destroyedLedgerEntries,
        destroyedDeliveries: report.destroyedDeliveries,
        keptDeliveries: report.keptDeliveries,
      }
    },
  )
}
