// Staff acting on a platform action that failed: retry it, or mark it resolved by hand with a
// reason (done in the platform's own app, or no longer needed). Each is a ledger entry; neither is a
// decision, so neither sends the author another notice nor creates another appeal reference.
import type { PlatformAction } from '../generated/prisma/client.js'
import type { Tx } from '../db/tx.js'
import { appendEntries, type Clock } from '../ledger/append.js'
import { ConflictError, NotFoundError } from '../plugins/errors.js'
import { enqueuePlatformAction } from './jobs.js'

async function failedAction(tx: Tx, actionId: string, verb: string): Promise<PlatformAction> {
  await tx.$executeRaw`SELECT 1 FROM platform_action WHERE id = ${actionId}::uuid FOR UPDATE`
  const action = await tx.platformAction.findUnique({ where: { id: actionId } })
  if (!action) throw new NotFoundError(`No platform action ${actionId}.`)
  if (action.status !== 'failed') {
    throw new ConflictError(`Only a failed platform action can be ${verb}; ${actionId} is ${action.status}.`, 'platform-action-not-failed')
  }
  return action
}

/** Closes the comment's open "action failed" review item once none of its actions is failed any more. */
async function closeFailedItem(tx: Tx, commentId: string, now: Date): Promise<void> {
  const stillFailed = await tx.platformAction.count({ where: { commentId, status: 'failed' } })
  if (stillFailed > 0) return
  await tx.reviewItem.updateMany({ where: { commentId, status: 'open', reason: 'action_failed' }, data: { status: 'closed', closedAt: now, claimedBy: null, claimExpiresAt: null } })
}

/** Runs a failed action again (a new job with JOB_MAX_ATTEMPTS attempts); recorded as `platform.action.retried`. */
export async function retryPlatformAction(tx: Tx, actor: string, actionId: string, deps: { clock: Clock; maxAttempts: number }): Promise<PlatformAction> {
  const action = await failedAction(tx, actionId, 'retried')
  const now = deps.clock()
  await appendEntries(tx, [
    {
      kind: 'platform.action.retried',
      subject: action.commentId,
      actor,
      payload: { actionId, decisionId: action.decisionId, commentId: action.commentId, platform: action.platform, operation: action.operation, previousError: action.lastError, attemptsSoFar: action.attempts },
    },
  ])
  const updated = await tx.platformAction.update({ where: { id: actionId }, data: { status: 'pending', completedAt: null } })
  await enqueuePlatformAction(tx, actionId, deps.maxAttempts)
  await closeFailedItem(tx, action.commentId, now)
  return updated
}

/** Marks a failed action resolved by hand with a reason; recorded as `platform.action.resolved`. */
export async function resolvePlatformAction(tx: Tx, actor: string, actionId: string, reason: string, deps: { clock: Clock }): Promise<PlatformAction> {
  const action = await failedAction(tx, actionId, 'resolved by hand')
  const now = deps.clock()
  await appendEntries(tx, [
    {
      kind: 'platform.action.resolved',
      subject: action.commentId,
      actor,
      payload: { actionId, decisionId: action.decisionId, commentId: action.commentId, platform: action.platform, operation: action.operation, lastError: action.lastError, reason },
    },
  ])
  const updated = await tx.platformAction.update({ where: { id: actionId }, data: { status: 'resolved', resolvedBy: actor, resolution: reason, completedAt: now } })
  await closeFailedItem(tx, action.commentId, now)
  return updated
}
