import { randomUUID } from 'node:crypto'
import type { Appeal } from '../generated/prisma/client.js'
import type { Tx } from '../db/tx.js'
import { appendEntries, type Clock } from '../ledger/append.js'
import { ConflictError, NotFoundError } from '../plugins/errors.js'
import type { Platform } from '../webhooks/platforms/index.js'
import { recordDecision } from './decisions.js'
import { RESTORED_NOTICE } from './notices.js'

export type AppealTarget = { decisionId: string } | { platform: Platform; commentId: string }

/** The decision an appeal is about: by id, or the latest removal of a comment named as on its platform. */
async function findDecision(tx: Tx, target: AppealTarget) {
  if ('decisionId' in target) {
    const decision = await tx.moderationDecision.findUnique({ where: { id: target.decisionId } })
    if (!decision) throw new NotFoundError(`No decision ${target.decisionId}.`)
    return decision
  }
  const comment = await tx.comment.findUnique({ where: { platform_externalId: { platform: target.platform, externalId: target.commentId } } })
  const decision = comment && (await tx.moderationDecision.findFirst({ where: { commentId: comment.id, action: { in: ['remove', 'hide'] } }, orderBy: { decidedAt: 'desc' } }))
  if (!decision) throw new NotFoundError(`No removal of ${target.platform} comment ${target.commentId} to appeal.`)
  return decision
}

/**
 * The author's appeal of a removal or hide, within the appeal window, one per decision. Filing is
 * a ledger entry; the appeal waits for a tst_admin.
 */
export async function fileAppeal(
  tx: Tx,
  input: { target: AppealTarget; contact: string; statement: string },
  deps: { clock: Clock; windowDays: number },
): Promise<Appeal> {
  const decision = await findDecision(tx, input.target)
  if (decision.action !== 'remove' && decision.action !== 'hide') throw new ConflictError(`Decision ${decision.id} did not remove the comment; there is nothing to appeal.`, 'not-appealable')
  const later = await tx.moderationDecision.findFirst({ where: { commentId: decision.commentId, decidedAt: { gt: decision.decidedAt } } })
  if (later) throw new ConflictError(`Decision ${decision.id} was superseded by a later decision (${later.action}).`, 'not-appealable')
  const now = deps.clock()
  const deadline = new Date(decision.decidedAt.getTime() + deps.windowDays * 86_400_000)
  if (now > deadline) throw new ConflictError(`The appeal window closed on ${deadline.toISOString()} (${deps.windowDays} days after the decision).`, 'appeal-window-closed')
  if (await tx.appeal.findUnique({ where: { decisionId: decision.id } })) throw new ConflictError(`Decision ${decision.id} has been appealed already.`, 'appeal-exists')
  const id = randomUUID()
  const [entry] = await appendEntries(
    tx,
    [{ kind: 'appeal.filed', subject: decision.commentId, actor: 'public', payload: { appealId: id, decisionId: decision.id, commentId: decision.commentId, contact: input.contact, statement: input.statement } }],
  )
  return tx.appeal.create({
    data: { id, decisionId: decision.id, commentId: decision.commentId, contact: input.contact, statement: input.statement, status: 'open', filedAt: now, filedEntryId: entry!.id },
  })
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
