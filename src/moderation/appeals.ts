import { randomUUID } from 'node:crypto'
import type { Appeal } from '../generated/prisma/client.js'
import type { Tx } from '../db/tx.js'
import { appendEntries, type Clock } from '../ledger/append.js'
import { ConflictError, NotFoundError } from '../plugins/errors.js'
import type { Platform } from '../webhooks/platforms/index.js'
import { appealReferenceDigest, canonicalAppealReference } from './appeal-reference.js'
import { DEFAULT_POLICY } from '../policy/default-policy.js'
import type { PolicyResolver } from '../policy/effective.js'
import type { PolicyVersionContent } from '../policy/rules.js'
import { enqueueActions, recordDecision, type RecordDeps } from './decisions.js'
import { DEFAULT_NOTICE_CHANNELS, planNotice, planRecord } from './notice-channels.js'
import { noticeFor, shortNotice } from './notices.js'

/** The one answer to a reference that is not in use: the same whether it never existed or was mistyped. */
export class UnknownReferenceError extends NotFoundError {
  constructor() {
    super('No decision has this appeal reference. Check it against the notice you received (letters and digits, like 7KQ2M-XR4TB).')
  }
}

/** The decision a reference was given for, or UnknownReferenceError. A lookup by digest: nothing is compared in clear. */
async function decisionByReference(tx: Tx, typed: string) {
  const canonical = canonicalAppealReference(typed)
  const found = canonical && (await tx.appealReference.findUnique({ where: { referenceSha256: new Uint8Array(appealReferenceDigest(canonical)) } }))
  if (!found) throw new UnknownReferenceError()
  return tx.moderationDecision.findUniqueOrThrow({ where: { id: found.decisionId } })
}

const deadlineOf = (decision: { decidedAt: Date }, windowDays: number) => new Date(decision.decidedAt.getTime() + windowDays * 86_400_000)

/**
 * The author's appeal of a removal or hide, filed with the reference its notice gave them, within
 * the appeal window, one per decision. Filing is a ledger entry; the appeal waits for a tst_admin.
 * The reference is the only way to name the decision, so someone who knows only the comment or
 * the decision cannot file, nor use up the author's one appeal.
 */
export async function fileAppeal(
  tx: Tx,
  input: { reference: string; contact: string; statement: string },
  deps: { clock: Clock; windowDays: number },
): Promise<Appeal> {
  const decision = await decisionByReference(tx, input.reference)
  const later = await tx.moderationDecision.findFirst({ where: { commentId: decision.commentId, decidedAt: { gt: decision.decidedAt } } })
  if (later) throw new ConflictError(`This decision was superseded by a later decision (${later.action}); there is nothing to appeal.`, 'not-appealable')
  const now = deps.clock()
  const deadline = deadlineOf(decision, deps.windowDays)
  if (now > deadline) throw new ConflictError(`The appeal window closed on ${deadline.toISOString()} (${deps.windowDays} days after the decision).`, 'appeal-window-closed')
  // Two filings at once: the unique index on appeal.decision_id refuses the second (409).
  if (await tx.appeal.findUnique({ where: { decisionId: decision.id } })) throw new ConflictError('This decision has been appealed already; its status is at /v1/appeals/by-reference/{reference}.', 'appeal-exists')
  const id = randomUUID()
  const [entry] = await appendEntries(
    tx,
    [{ kind: 'appeal.filed', subject: decision.commentId, actor: 'public', payload: { appealId: id, decisionId: decision.id, commentId: decision.commentId, contact: input.contact, statement: input.statement } }],
  )
  return tx.appeal.create({
    data: { id, decisionId: decision.id, commentId: decision.commentId, contact: input.contact, statement: input.statement, status: 'open', filedAt: now, filedEntryId: entry!.id },
  })
}

export interface AppealStatus {
  /** not_filed: the decision can still be appealed (until appealableUntil); closed: it was not appealed in time, or a later decision replaced it. */
  status: 'not_filed' | 'closed' | 'open' | 'upheld' | 'reversed'
  decidedAt: Date
  appealableUntil: Date
  filedAt: Date | null
  appealDecidedAt: Date | null
  notice: string | null
  noticeDelivery: unknown
  outcome: string | null
}

/** What the holder of a reference may know: where the appeal stands, with dates; nothing about anyone else. */
export async function appealStatus(tx: Tx, reference: string, deps: { clock: Clock; windowDays: number }): Promise<AppealStatus> {
  const decision = await decisionByReference(tx, reference)
  const appeal = await tx.appeal.findUnique({ where: { decisionId: decision.id } })
  const appealableUntil = deadlineOf(decision, deps.windowDays)
  const base = { decidedAt: decision.decidedAt, appealableUntil, notice: decision.noticeText, noticeDelivery: decision.noticeDelivery ?? null }
  if (appeal) return { ...base, status: appeal.status as 'open' | 'upheld' | 'reversed', filedAt: appeal.filedAt, appealDecidedAt: appeal.decidedAt, outcome: appeal.outcomeText }
  const later = await tx.moderationDecision.findFirst({ where: { commentId: decision.commentId, decidedAt: { gt: decision.decidedAt } } })
  return { ...base, status: later || deps.clock() > appealableUntil ? 'closed' : 'not_filed', filedAt: null, appealDecidedAt: null, outcome: null }
}

/** The rule that says who may decide an appeal (APPEAL_REVIEWER), named in the refusal. */
export class AppealReviewerError extends ConflictError {
  constructor(detail: string) {
    super(detail, 'appeal-reviewer')
  }
}

export interface AppealDeps extends RecordDeps {
  /** APPEAL_REVIEWER: not-decider (default) or not-involved. */
  appealReviewer?: 'not-decider' | 'not-involved'
  resolver: PolicyResolver
}

/**
 * A tst_admin decides an appeal with a reason; never the person whose decision is appealed
 * (APPEAL_REVIEWER=not-decider), nor, with not-involved, anyone who made a decision on the comment.
 * Upholding records the outcome and sends the author the "appeal upheld" notice; reversing records
 * a restore decision whose notice is the "appeal reversed" one (unhiding the comment where it was
 * hidden). The outcome goes over the channels the platform allows for a second message
 * (src/moderation/notice-channels.ts), by e-mail to the appellant's contact when it is an address,
 * and is published under the reference.
 */
export async function decideAppeal(
  tx: Tx,
  actor: string,
  appealId: string,
  input: { outcome: 'uphold' | 'reverse'; reason: string },
  deps: AppealDeps,
): Promise<Appeal> {
  await tx.$executeRaw`SELECT 1 FROM appeal WHERE id = ${appealId}::uuid FOR UPDATE`
  const appeal = await tx.appeal.findUnique({ where: { id: appealId } })
  if (!appeal) throw new NotFoundError(`No appeal ${appealId}.`)
  if (appeal.status !== 'open') throw new ConflictError(`Appeal ${appealId} was decided already (${appeal.status}).`, 'appeal-decided')
  const original = await tx.moderationDecision.findUniqueOrThrow({ where: { id: appeal.decisionId } })
  const rule = deps.appealReviewer ?? 'not-decider'
  if (original.actor === actor) {
    throw new AppealReviewerError(
      `You made the decision appealed; another tst_admin must decide the appeal (APPEAL_REVIEWER=${rule}: ${rule === 'not-decider' ? 'any tst_admin other than the person who made the decision' : 'any tst_admin who made no decision on the comment'}).`,
    )
  }
  if (rule === 'not-involved') {
    const involved = await tx.moderationDecision.findFirst({ where: { commentId: appeal.commentId, actor } })
    if (involved) throw new AppealReviewerError(`You made a decision on this comment (${involved.action}); a tst_admin who made none must decide the appeal (APPEAL_REVIEWER=not-involved).`)
  }
  const now = deps.clock()
  const comment = await tx.comment.findUniqueOrThrow({ where: { id: appeal.commentId } })
  const platform = comment.platform as Platform
  const event = await tx.commentEvent.findUniqueOrThrow({ where: { id: original.eventId } })
  const version = original.policyVersionId ? await tx.policyVersion.findUnique({ where: { id: original.policyVersionId } }) : null
  const content = (version?.content ?? DEFAULT_POLICY) as PolicyVersionContent
  const kind = input.outcome === 'reverse' ? 'appealReversed' : 'appealUpheld'
  const outcomeText = noticeFor(content, kind, original.ruleCodes, platform)
  const outcomeShort = shortNotice(content, kind, original.ruleCodes)
  let reversalDecisionId: string | null = null
  let outcomeDelivery: ReturnType<typeof planRecord>
  if (input.outcome === 'reverse') {
    const restored = await recordDecision(
      tx,
      {
        commentId: appeal.commentId,
        eventId: original.eventId,
        commentVersionEntryId: event.ledgerEntryId,
        platform,
        authorEmail: comment.authorEmail,
        policyVersionId: original.policyVersionId,
        policyVersion: version?.version ?? null,
        actor,
        automatic: false,
        action: 'restore',
        // Hidden comments come back; deleted ones cannot be recreated on the platform.
        platformAction: original.platformAction === 'hide' ? 'unhide' : 'none',
        ruleCodes: original.ruleCodes,
        evidence: { appealId, reversedDecisionId: original.id },
        note: input.reason,
        noticeText: outcomeText,
        noticeShortText: outcomeShort,
        postedAt: comment.firstPlatformAt,
        followUp: true,
        appealId,
        appealContact: appeal.contact,
        context: { appealId, reversedDecisionId: original.id },
      },
      deps,
    )
    reversalDecisionId = restored.decisionId
    const row = await tx.moderationDecision.findUniqueOrThrow({ where: { id: restored.decisionId } })
    outcomeDelivery = row.noticeDelivery as ReturnType<typeof planRecord>
  } else {
    const plan = planNotice({
      platform,
      postedAt: comment.firstPlatformAt,
      now,
      fullText: outcomeText,
      shortText: outcomeShort,
      authorEmail: comment.authorEmail,
      followUp: true,
      appealContact: appeal.contact,
      channels: deps.noticeChannels ?? DEFAULT_NOTICE_CHANNELS,
    })
    outcomeDelivery = planRecord(plan)
    await enqueueActions(
      tx,
      { decisionId: original.id, commentId: appeal.commentId, platform, appealId },
      plan.deliveries.map((d) => ({ operation: d.operation, text: d.text })),
      now,
      deps.maxAttempts,
    )
  }
  const [entry] = await appendEntries(
    tx,
    [
      {
        kind: 'appeal.decided',
        subject: appeal.commentId,
        actor,
        payload: { appealId, decisionId: appeal.decisionId, outcome: input.outcome, reason: input.reason, reversalDecisionId, outcomeText, outcomeDelivery },
      },
    ],
  )
  return tx.appeal.update({
    where: { id: appealId },
    data: {
      status: input.outcome === 'reverse' ? 'reversed' : 'upheld',
      decidedAt: now,
      decidedBy: actor,
      reason: input.reason,
      decidedEntryId: entry!.id,
      reversalDecisionId,
      outcomeText,
      outcomeDelivery: outcomeDelivery as object,
    },
  })
}
