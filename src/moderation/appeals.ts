import { randomUUID } from 'node:crypto'
import type { Appeal } from '../generated/prisma/client.js'
import type { Tx } from '../db/tx.js'
import { appendEntries, type Clock } from '../ledger/append.js'
import { ConflictError, NotFoundError } from '../plugins/errors.js'
import type { Platform } from '../webhooks/platforms/index.js'
import { appealReferenceDigest, canonicalAppealReference } from './appeal-reference.js'
import { recordDecision } from './decisions.js'
import { RESTORED_NOTICE } from './notices.js'

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
}

/** What the holder of a reference may know: where the appeal stands, with dates; nothing about anyone else. */
export async function appealStatus(tx: Tx, reference: string, deps: { clock: Clock; windowDays: number }): Promise<AppealStatus> {
  const decision = await decisionByReference(tx, reference)
  const appeal = await tx.appeal.findUnique({ where: { decisionId: decision.id } })
  const appealableUntil = deadlineOf(decision, deps.windowDays)
  const base = { decidedAt: decision.decidedAt, appealableUntil }
  if (appeal) return { ...base, status: appeal.status as 'open' | 'upheld' | 'reversed', filedAt: appeal.filedAt, appealDecidedAt: appeal.decidedAt }
  const later = await tx.moderationDecision.findFirst({ where: { commentId: decision.commentId, decidedAt: { gt: decision.decidedAt } } })
  return { ...base, status: later || deps.clock() > appealableUntil ? 'closed' : 'not_filed', filedAt: null, appealDecidedAt: null }
}

/**
 * A tst_admin decides an appeal with a reason. Upholding records the outcome; reversing also
 * records a restore decision that unhides the comment where it was hidden and notifies the author.
 */
export async function decideAppeal(
  tx: Tx,
  actor: string,
  appealId: string,
  input: { outcome: 'uphold' | 'reverse'; reason: string },
  deps: { clock: Clock; maxAttempts: number },
): Promise<Appeal> {
  await tx.$executeRaw`SELECT 1 FROM appeal WHERE id = ${appealId}::uuid FOR UPDATE`
  const appeal = await tx.appeal.findUnique({ where: { id: appealId } })
  if (!appeal) throw new NotFoundError(`No appeal ${appealId}.`)
  if (appeal.status !== 'open') throw new ConflictError(`Appeal ${appealId} was decided already (${appeal.status}).`, 'appeal-decided')
  const now = deps.clock()
  let reversalDecisionId: string | null = null
  if (input.outcome === 'reverse') {
    const original = await tx.moderationDecision.findUniqueOrThrow({ where: { id: appeal.decisionId } })
    const comment = await tx.comment.findUniqueOrThrow({ where: { id: appeal.commentId } })
    const event = await tx.commentEvent.findUniqueOrThrow({ where: { id: original.eventId } })
    const restored = await recordDecision(
      tx,
      {
        commentId: appeal.commentId,
        eventId: original.eventId,
        commentVersionEntryId: event.ledgerEntryId,
        platform: comment.platform as Platform,
        authorEmail: comment.authorEmail,
        policyVersionId: original.policyVersionId,
        policyVersion: null,
        actor,
        automatic: false,
        action: 'restore',
        // Hidden comments come back; deleted ones cannot be recreated on the platform.
        platformAction: original.platformAction === 'hide' ? 'unhide' : 'none',
        ruleCodes: original.ruleCodes,
        evidence: { appealId, reversedDecisionId: original.id },
        note: input.reason,
        noticeText: RESTORED_NOTICE,
        context: { appealId, reversedDecisionId: original.id },
      },
      deps,
    )
    reversalDecisionId = restored.decisionId
  }
  const [entry] = await appendEntries(
    tx,
    [
      {
        kind: 'appeal.decided',
        subject: appeal.commentId,
        actor,
        payload: { appealId, decisionId: appeal.decisionId, outcome: input.outcome, reason: input.reason, reversalDecisionId },
      },
    ],
  )
  return tx.appeal.update({
    where: { id: appealId },
    data: { status: input.outcome === 'reverse' ? 'reversed' : 'upheld', decidedAt: now, decidedBy: actor, reason: input.reason, decidedEntryId: entry!.id, reversalDecisionId },
  })
}
