import { randomUUID } from 'node:crypto'
import type { Tx } from '../db/tx.js'
import { Prisma, type Disposal } from '../generated/prisma/client.js'
import { appendEntries, type Clock } from '../ledger/append.js'
import { ConflictError, NotFoundError, ProblemError, ValidationProblem } from '../plugins/errors.js'
import { recordKindSql, type RecordKind } from '../records/query.js'
import { platformAdapters, isWebhookSource } from '../webhooks/platforms/index.js'
import { heldConditionSql, holdsCovering, takeRetentionLock } from './holds.js'
import { instantOf } from '../http/dates.js'

const DAY_MS = 86_400_000

export type Outcome = 'pending' | 'disposed' | 'skipped_hold' | 'skipped_activity' | 'skipped_ineligible' | 'already_disposed'

export class NothingEligibleError extends ConflictError {
  constructor() {
    super('No record is past its retention period and free of legal holds (and only kinds with an adopted schedule count); no certificate was created.', 'nothing-eligible')
  }
}

export class DisposalStateError extends ConflictError {
  constructor(detail: string, slug: string) {
    super(detail, slug)
  }
}

export class NoticePeriodError extends ProblemError {
  constructor(id: string, endsAt: Date) {
    super(409, 'notice-period', 'Notice period not over', `Disposal ${id} may be executed from ${endsAt.toISOString()}, when its notice period ends.`, { noticeEndsAt: endsAt.toISOString() })
  }
}

/**
 * The latest activity on a comment (alias `c`), from which its retention period runs: the later of
 * the database's time of its latest comment, decision or appeal ledger entry (when Townsquare
 * received or did it) and the platform's time of its latest event. A platform time can lengthen a
 * record's retention, never shorten it. The database function (migration 20261208020000) is the
 * one dispose_records checks again before anything is destroyed.
 */
const lastActivitySql = Prisma.sql`retention_last_activity(c.id)`

export interface EligibleRow {
  recordId: string
  seq: string
  recordKind: RecordKind
  platform: string
  externalId: string
  firstPlatformAt: Date
  lastActivityAt: Date
  retentionDays: number
  scheduleReference: string
  retainUntil: Date
}

/**
 * Records past retention at `now` and not under any active legal hold: of a kind with an adopted
 * schedule, not yet disposed, with no open appeal, and not already on a certificate that has not
 * been executed. In comment insertion order (seq) for stable pages.
 */
export async function listEligible(
  tx: Tx,
  now: Date,
  options: { kinds?: RecordKind[] | undefined; limit: number; afterSeq?: string | undefined },
): Promise<EligibleRow[]> {
  const held = await heldConditionSql(tx)
  const rows = await tx.$queryRaw<Array<{
    id: string; seq: string; kind: RecordKind; platform: string; external_id: string; first_platform_at: Date
    last_activity_at: Date; retention_days: number; schedule_reference: string; retain_until: Date
  }>>`
    SELECT c.id::text, c.seq::text, r.kind, c.platform, c.external_id, c.first_platform_at, r.last_activity_at,
           s.retention_days, s.schedule_reference, r.last_activity_at + make_interval(days => s.retention_days) AS retain_until
      FROM comment c
      CROSS JOIN LATERAL (SELECT ${recordKindSql} AS kind, ${lastActivitySql} AS last_activity_at) r
      JOIN retention_schedule s ON s.record_kind = r.kind
     WHERE c.disposed_at IS NULL
       AND r.last_activity_at + make_interval(days => s.retention_days) <= ${now}
       AND NOT EXISTS (SELECT 1 FROM appeal a WHERE a.comment_id = c.id AND a.status = 'open')
       AND NOT EXISTS (SELECT 1 FROM disposal_record dr JOIN disposal dd ON dd.id = dr.disposal_id WHERE dr.comment_id = c.id AND dd.status <> 'executed')
       AND NOT ${held}
       ${options.kinds ? Prisma.sql`AND r.kind = ANY(${options.kinds}::text[])` : Prisma.empty}
       ${options.afterSeq ? Prisma.sql`AND c.seq > ${options.afterSeq}::bigint` : Prisma.empty}
     ORDER BY c.seq
     LIMIT ${options.limit}`
  return rows.map((r) => ({
    recordId: r.id,
    seq: r.seq,
    recordKind: r.kind,
    platform: r.platform,
    externalId: r.external_id,
    firstPlatformAt: r.first_platform_at,
    lastActivityAt: r.last_activity_at,
    retentionDays: r.retention_days,
    scheduleReference: r.schedule_reference,
    retainUntil: r.retain_until,
  }))
}

// ---------------------------------------------------------------------------------------------

/** A listed record: what made it eligible, frozen at listing, and what became of it. */
export interface DisposalRecordView extends Omit<EligibleRow, 'seq'> {
  outcome: Outcome
  heldBy: string[]
}

export interface DisposalView {
  disposal: Disposal
  counts: Partial<Record<Outcome, number>>
  records?: DisposalRecordView[]
}

export async function getDisposal(tx: Tx, id: string, withRecords = true): Promise<DisposalView> {
  const disposal = await tx.disposal.findUnique({ where: { id } })
  if (!disposal) throw new NotFoundError(`No disposal ${id}.`)
  return viewOf(tx, disposal, withRecords)
}

async function viewOf(tx: Tx, disposal: Disposal, withRecords: boolean): Promise<DisposalView> {
  const groups = await tx.disposalRecord.groupBy({ by: ['outcome'], where: { disposalId: disposal.id }, _count: { _all: true } })
  const counts = Object.fromEntries(groups.map((g) => [g.outcome, g._count._all])) as Partial<Record<Outcome, number>>
  if (!withRecords) return { disposal, counts }
  const rows = await tx.disposalRecord.findMany({
    where: { disposalId: disposal.id },
    include: { comment: { select: { platform: true, externalId: true, firstPlatformAt: true } } },
    orderBy: { commentId: 'asc' },
  })
  const records = rows.map((r) => ({
    recordId: r.commentId,
    recordKind: r.recordKind as RecordKind,
    platform: r.comment.platform,
    externalId: r.comment.externalId,
    firstPlatformAt: r.comment.firstPlatformAt,
    lastActivityAt: r.lastActivityAt,
    retentionDays: r.retentionDays,
    scheduleReference: r.scheduleReference,
    retainUntil: r.retainUntil,
    outcome: r.outcome as Outcome,
    heldBy: r.heldBy,
  }))
  return { disposal, counts, records }
}

export async function listDisposals(tx: Tx, filter: { status?: string | undefined }, page: { limit: number; after?: { createdAt: Date; id: string } | undefined }) {
  const rows = await tx.disposal.findMany({
    where: {
      ...(filter.status ? { status: filter.status } : {}),
      ...(page.after ? { OR: [{ createdAt: { lt: page.after.createdAt } }, { createdAt: page.after.createdAt, id: { lt: page.after.id } }] } : {}),
    },
    orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    take: page.limit + 1,
  })
  const items = await Promise.all(rows.slice(0, page.limit).map((d) => viewOf(tx, d, false)))
  return { items, more: rows.length > page.limit }
}

/**
 * Creates a disposal certificate listing: the records eligible now, frozen (a record put on hold
 * later is skipped at execution, never disposed). Appended to the ledger as `disposal.listed`.
 */
export async function createDisposal(
  tx: Tx,
  actor: string,
  input: { kinds?: RecordKind[] | undefined; limit: number; note?: string | undefined },
  deps: { clock: Clock; noticeDays: number },
): Promise<DisposalView> {
  await takeRetentionLock(tx)
  const now = deps.clock()
  // The database refuses a shorter notice period than its owner's floor (docs/retention.md).
  const [floor] = await tx.$queryRaw<Array<{ days: number }>>`SELECT min_notice_days AS days FROM retention_settings`
  const noticeDays = Math.max(deps.noticeDays, floor?.days ?? 0)
  const eligible = await listEligible(tx, now, { kinds: input.kinds, limit: input.limit })
  if (eligible.length === 0) throw new NothingEligibleError()
  const id = randomUUID()
  const [entry] = await appendEntries(
    tx,
    [
      {
        kind: 'disposal.listed',
        subject: id,
        actor,
        payload: {
          disposalId: id,
          noticeDays,
          note: input.note ?? null,
          records: eligible.map((r) => ({
            recordId: r.recordId,
            recordKind: r.recordKind,
            platform: r.platform,
            externalId: r.externalId,
            lastActivityAt: r.lastActivityAt.toISOString(),
            retentionDays: r.retentionDays,
            scheduleReference: r.scheduleReference,
            retainUntil: r.retainUntil.toISOString(),
          })),
        },
      },
    ],
  )
  await tx.disposal.create({ data: { id, status: 'listed', noticeDays, note: input.note ?? null, createdBy: actor, createdAt: now, listedEntryId: entry!.id } })
  await tx.disposalRecord.createMany({
    data: eligible.map((r) => ({
      disposalId: id,
      commentId: r.recordId,
      recordKind: r.recordKind,
      retentionDays: r.retentionDays,
      scheduleReference: r.scheduleReference,
      lastActivityAt: r.lastActivityAt,
      retainUntil: r.retainUntil,
    })),
  })
  return getDisposal(tx, id)
}

/**
 * Records the authorization of a listed disposal (e.g. the Local Records Commission's signed
 * certificate). The person recording it must not be the one who created the listing. The notice
 * period runs from now. Appended to the ledger as `disposal.approved`.
 */
export async function approveDisposal(
  tx: Tx,
  actor: string,
  id: string,
  input: { approvalReference: string; approvedOn: string; note?: string | undefined },
  clock: Clock,
  /** The city's time zone: approvedOn is a day there, refused until that day has begun. */
  zone = 'UTC',
): Promise<DisposalView> {
  const now = clock()
  await tx.$executeRaw`SELECT 1 FROM disposal WHERE id = ${id}::uuid FOR UPDATE`
  const disposal = await tx.disposal.findUnique({ where: { id } })
  if (!disposal) throw new NotFoundError(`No disposal ${id}.`)
  if (disposal.status !== 'listed') throw new DisposalStateError(`Disposal ${id} is ${disposal.status}; its approval is already recorded.`, 'disposal-already-approved')
  if (disposal.createdBy === actor) {
    throw new DisposalStateError('The approval must be recorded by a different person than the one who created the listing.', 'same-person-approval')
  }
  const approvedOn = new Date(`${input.approvedOn}T00:00:00Z`)
  if (instantOf(input.approvedOn, zone).getTime() > now.getTime()) {
    throw new ValidationProblem(`approvedOn ${input.approvedOn} is in the future; nothing was recorded.`, [{ path: 'body:$.approvedOn', message: 'must not be in the future' }])
  }
  const noticeEndsAt = new Date(now.getTime() + disposal.noticeDays * DAY_MS)
  const [entry] = await appendEntries(
    tx,
    [
      {
        kind: 'disposal.approved',
        subject: id,
        actor,
        payload: { disposalId: id, listedEntryId: disposal.listedEntryId, approvalReference: input.approvalReference, approvedOn: input.approvedOn, note: input.note ?? null, noticeEndsAt: noticeEndsAt.toISOString() },
      },
    ],
  )
  await tx.disposal.update({
    where: { id },
    data: { status: 'approved', approvedBy: actor, approvedAt: now, approvedOn, approvalReference: input.approvalReference, approvalEntryId: entry!.id, noticeEndsAt },
  })
  return getDisposal(tx, id)
}

export interface ExecutionReport {
  view: DisposalView
  replayed: boolean
  disposed: string[]
  skipped: Array<{ recordId: string; outcome: Outcome; heldBy: string[] }>
  destroyedLedgerEntries: number
  destroyedDeliveries: number
  keptDeliveries: Array<{ id: string; retainedFor: string[] }>
}

/**
 * Executes an approved disposal after its notice period, in one transaction under the retention
 * lock: records now on hold (or with activity since listing, or already disposed) are skipped and
 * reported; the rest lose their content through the database function dispose_records, which
 * checks all of it again. A `disposal` ledger entry lists every destroyed payload with its hash.
 * Executing again returns the first execution's outcome.
 */
export async function executeDisposal(tx: Tx, actor: string, id: string, clock: Clock): Promise<ExecutionReport> {
  await takeRetentionLock(tx)
  const now = clock()
  await tx.$executeRaw`SELECT 1 FROM disposal WHERE id = ${id}::uuid FOR UPDATE`
  const disposal = await tx.disposal.findUnique({ where: { id } })
  if (!disposal) throw new NotFoundError(`No disposal ${id}.`)
  if (disposal.status === 'executed') return replay(tx, disposal)
  if (disposal.status !== 'approved' || !disposal.noticeEndsAt) {
    throw new DisposalStateError(`Disposal ${id} has no recorded approval; record it with POST /v1/disposals/${id}/approval first.`, 'disposal-not-approved')
  }
  if (now.getTime() < disposal.noticeEndsAt.getTime()) throw new NoticePeriodError(id, disposal.noticeEndsAt)

  // ledger_eligible: what dispose_records will check from the ledger, with the database's times
  // (migration 20261207190200); a record it would refuse is skipped, not the whole disposal.
  const listed = await tx.$queryRaw<Array<{ id: string; listed_activity: Date; activity: Date; disposed: boolean; open_appeal: boolean; ledger_eligible: boolean }>>`
    SELECT c.id::text, r.last_activity_at AS listed_activity, ${lastActivitySql} AS activity, c.disposed_at IS NOT NULL AS disposed,
           EXISTS (SELECT 1 FROM appeal a WHERE a.comment_id = c.id AND a.status = 'open') AS open_appeal,
           retention_ledger_eligible(c.id, r.record_kind, (SELECT l.recorded_at FROM ledger_entry l WHERE l.id = ${disposal.listedEntryId}::uuid)) AS ledger_eligible
      FROM disposal_record r JOIN comment c ON c.id = r.comment_id
     WHERE r.disposal_id = ${id}::uuid AND r.outcome = 'pending'
     ORDER BY c.id`
  const held = await holdsCovering(tx, listed.map((r) => r.id), clock)
  const skipped: ExecutionReport['skipped'] = []
  const disposing: string[] = []
  for (const r of listed) {
    const heldBy = held.get(r.id) ?? []
    const outcome: Outcome = r.disposed
      ? 'already_disposed'
      : heldBy.length > 0
        ? 'skipped_hold'
        : r.activity.getTime() > r.listed_activity.getTime() || r.open_appeal
          ? 'skipped_activity'
          : !r.ledger_eligible
            ? 'skipped_ineligible'
            : 'pending'
    if (outcome === 'pending') disposing.push(r.id)
    else {
      skipped.push({ recordId: r.id, outcome, heldBy })
      await tx.disposalRecord.update({ where: { disposalId_commentId: { disposalId: id, commentId: r.id } }, data: { outcome, heldBy } })
    }
  }

  // Each entry whose content goes, by the digest its envelope keeps: payloadSha256 (format 1) or
  // payloadCommitment (format 2, whose salt goes too: the commitment then confirms no guess).
  const listedEntries = await tx.$queryRaw<Array<{ id: string; format: number; payloadSha256: string | null; payloadCommitment: string | null }>>`
    SELECT id::text, format::int, payload_sha256 AS "payloadSha256", payload_commitment AS "payloadCommitment" FROM ledger_entry
     WHERE subject = ANY(${disposing}::text[]) AND payload IS NOT NULL ORDER BY id`
  const ledgerEntries = listedEntries.map((e) => (e.format === 2 ? { id: e.id, payloadCommitment: e.payloadCommitment! } : { id: e.id, payloadSha256: e.payloadSha256! }))
  const deliveries = await deliveriesToDestroy(tx, disposing)

  const [entry] = await appendEntries(
    tx,
    [
      {
        kind: 'disposal',
        subject: id,
        actor,
        payload: {
          disposalId: id,
          listedEntryId: disposal.listedEntryId,
          approvalEntryId: disposal.approvalEntryId,
          approvalReference: disposal.approvalReference,
          disposed: disposing,
          skipped,
          ledgerEntries,
          deliveries: deliveries.destroy,
          keptDeliveries: deliveries.keep,
        },
      },
    ],
  )
  await tx.$queryRaw`SELECT dispose_records(${id}::uuid, ${entry!.id}::uuid)`
  const executed = await tx.disposal.update({ where: { id }, data: { status: 'executed', executedBy: actor, executedAt: now, executionEntryId: entry!.id } })
  return {
    view: await viewOf(tx, executed, false),
    replayed: false,
    disposed: disposing,
    skipped,
    destroyedLedgerEntries: ledgerEntries.length,
    destroyedDeliveries: deliveries.destroy.length,
    keptDeliveries: deliveries.keep,
  }
}

async function replay(tx: Tx, disposal: Disposal): Promise<ExecutionReport> {
  const entry = await tx.ledgerEntry.findUnique({ where: { id: disposal.executionEntryId! } })
  const payload = JSON.parse(entry!.payload!) as {
    disposed: string[]
    skipped: ExecutionReport['skipped']
    ledgerEntries: unknown[]
    deliveries: unknown[]
    keptDeliveries: ExecutionReport['keptDeliveries']
  }
  return {
    view: await viewOf(tx, disposal, false),
    replayed: true,
    disposed: payload.disposed,
    skipped: payload.skipped,
    destroyedLedgerEntries: payload.ledgerEntries.length,
    destroyedDeliveries: payload.deliveries.length,
    keptDeliveries: payload.keptDeliveries,
  }
}

/**
 * The raw deliveries that carry the comments being disposed, split into those whose body can be
 * destroyed (every comment they carry is disposed, now or before) and those kept for a retained
 * comment. A delivery's comments are those its stored events came from plus those found by parsing
 * its body again: a batch can repeat a comment first stored from another delivery. Candidates are
 * the deliveries of the comments' events and those whose bytes contain a comment's external id.
 */
async function deliveriesToDestroy(tx: Tx, commentIds: string[]) {
  // Listed without the body's SHA-256: the disposal entry is exported and produced for ever, and an
  // unsalted hash of a raw delivery would confirm a guess of the destroyed text (issue 24).
  const destroy: Array<{ id: string; carries: string[] }> = []
  const keep: Array<{ id: string; retainedFor: string[] }> = []
  if (commentIds.length === 0) return { destroy, keep }
  const externalIds = (await tx.comment.findMany({ where: { id: { in: commentIds } }, select: { externalId: true } })).map((c) => c.externalId)
  const candidates = await tx.$queryRaw<Array<{ id: string; source: string; body: Uint8Array }>>`
    SELECT w.id::text, w.source, w.body FROM webhook_delivery w
     WHERE w.body IS NOT NULL
       AND (w.id IN (SELECT delivery_id FROM comment_event WHERE comment_id = ANY(${commentIds}::uuid[]))
            OR (w.outcome = 'accepted' AND EXISTS (SELECT 1 FROM unnest(${externalIds}::text[]) x WHERE position(convert_to(x, 'UTF8') IN w.body) > 0)))
     ORDER BY w.id`
  const disposing = new Set(commentIds)
  for (const delivery of candidates) {
    const carried = new Set(
      (await tx.$queryRaw<Array<{ id: string }>>`SELECT DISTINCT comment_id::text AS id FROM comment_event WHERE delivery_id = ${delivery.id}::uuid`).map((r) => r.id),
    )
    let parsed = true
    try {
      if (!isWebhookSource(delivery.source)) throw new Error(`unknown source ${delivery.source}`)
      const events = platformAdapters[delivery.source].normalize(Buffer.from(delivery.body)).events
      const keys = [...new Set(events.map((e) => `${e.platform}\u0000${e.externalId}`))]
      if (keys.length > 0) {
        const rows = await tx.$queryRaw<Array<{ id: string }>>`
          SELECT c.id::text FROM comment c
            JOIN unnest(${keys.map((k) => k.split('\u0000')[0]!)}::text[], ${keys.map((k) => k.split('\u0000')[1]!)}::text[]) AS k(platform, external_id)
              ON c.platform = k.platform AND c.external_id = k.external_id`
        for (const r of rows) carried.add(r.id)
      }
    } catch {
      // A body that no longer parses cannot be shown to carry only disposed comments: keep it.
      parsed = false
    }
    const carries = [...carried].sort()
    // Only names a disposed comment's id (e.g. in a skipped change): not its content, not ours to destroy.
    if (!carries.some((c) => disposing.has(c))) continue
    const others = carries.filter((c) => !disposing.has(c))
    const retained = others.length === 0 ? [] : (await tx.comment.findMany({ where: { id: { in: others }, disposedAt: null }, select: { id: true } })).map((c) => c.id)
    if (parsed && retained.length === 0) destroy.push({ id: delivery.id, carries })
    else keep.push({ id: delivery.id, retainedFor: retained.sort() })
  }
  return { destroy, keep }
}
