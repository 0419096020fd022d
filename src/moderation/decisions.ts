import { randomUUID } from 'node:crypto'
import type { ModerationStatusValue } from '../comments/schemas.js'
import type { Tx } from '../db/tx.js'
import { asSql, type Queryable } from '../db/sql.js'
import { appendEntries, type Clock } from '../ledger/append.js'
import type { PolicyResolver } from '../policy/effective.js'
import { ConflictError, NotFoundError, ProblemError, ValidationProblem } from '../plugins/errors.js'
import type { Platform } from '../webhooks/platforms/index.js'
import { appealReferenceDigest, canonicalAppealReference, newAppealReference } from './appeal-reference.js'
import { noticeFor } from './notices.js'
import { enqueuePlatformAction } from './jobs.js'
import { PLATFORM_CAPABILITIES } from './platforms.js'
import { assertNotClaimedByOther } from './queue.js'

export type DecisionAction = 'remove' | 'hide' | 'approve' | 'restore'
export type PlatformActionName = 'delete' | 'hide' | 'unhide' | 'none'

export interface DecisionRecord {
  commentId: string
  /** The comment version decided on (a comment_event id) and its ledger entry. */
  eventId: string
  commentVersionEntryId: string | null
  platform: Platform
  authorEmail: string | null
  policyVersionId: string | null
  policyVersion: number | null
  /** `system` or `user:<sub>`. */
  actor: string
  automatic: boolean
  action: DecisionAction
  platformAction: PlatformActionName
  ruleCodes: string[]
  evidence: unknown
  note: string | null
  /** The exact notice the author receives, or null when none is sent. */
  noticeText: string | null
  /**
   * The appeal reference in the notice of a remove or hide (src/moderation/appeal-reference.ts);
   * its digest is stored here, so that only the notice's reader can file the appeal.
   */
  appealReference?: string
  /** Extra facts for the ledger (e.g. the appeal a reversal answers). */
  context?: Record<string, unknown>
}

export interface RecordedDecision {
  decisionId: string
  ledgerEntryId: string
  actionIds: string[]
}

const STATUS_AFTER: Record<DecisionAction, ModerationStatusValue> = { remove: 'removed', hide: 'hidden', approve: 'approved', restore: 'restored' }

/**
 * Records a moderation decision in the caller's transaction, automatic or by a person: the ledger
 * entry (who, when, version decided on, policy version, rules, note, platform action, exact notice),
 * the decision row, and the platform actions and notices to carry out, each enqueued as a job in
 * the same transaction, so a decision is never recorded without its follow-up or the reverse.
 */
export async function recordDecision(tx: Queryable, d: DecisionRecord, deps: { clock: Clock; maxAttempts: number }): Promise<RecordedDecision> {
  const now = deps.clock()
  const decisionId = randomUUID()
  const appealable = (d.action === 'remove' || d.action === 'hide') && d.noticeText !== null
  const reference = d.appealReference === undefined ? null : canonicalAppealReference(d.appealReference)
  // A programming error, never the caller's input: an appealable notice without its reference could never be appealed.
  if (appealable !== (reference !== null) || (reference !== null && !d.noticeText!.includes(d.appealReference!))) {
    throw new Error(`recordDecision: a ${d.action} with a notice needs its appeal reference in the notice text, and nothing else has one`)
  }
  const [entry] = await appendEntries(
    tx,
    [
      {
        kind: 'moderation.decision',
        subject: d.commentId,
        actor: d.actor,
        payload: {
          decisionId,
          commentId: d.commentId,
          commentVersionId: d.eventId,
          commentVersionEntryId: d.commentVersionEntryId,
          platform: d.platform,
          automatic: d.automatic,
          action: d.action,
          platformAction: d.platformAction,
          policyVersionId: d.policyVersionId,
          policyVersion: d.policyVersion,
          ruleCodes: d.ruleCodes,
          evidence: d.evidence,
          note: d.note,
          noticeText: d.noticeText,
          ...(d.context ?? {}),
        },
      },
    ],
  )
  const sql = asSql(tx)
  await sql.query(
    `INSERT INTO moderation_decision (id, comment_id, event_id, policy_version_id, actor, automatic, action, platform_action, rule_codes,
                                      evidence, note, notice_text, ledger_entry_id, decided_at)
     VALUES ($1::uuid, $2::uuid, $3::uuid, $4::uuid, $5, $6, $7, $8, $9::text[], $10::jsonb, $11, $12, $13::uuid, $14)`,
    [
      decisionId,
      d.commentId,
      d.eventId,
      d.policyVersionId,
      d.actor,
      d.automatic,
      d.action,
      d.platformAction,
      d.ruleCodes,
      JSON.stringify(d.evidence),
      d.note,
      d.noticeText,
      entry!.id,
      now,
    ],
  )

  if (reference !== null) {
    // Its digest only (docs/moderation.md, "Appeals"); the primary key refuses a reference given twice.
    await sql.query(`INSERT INTO appeal_reference (reference_sha256, decision_id, created_at) VALUES ($1, $2::uuid, $3)`, [appealReferenceDigest(reference), decisionId, now])
  }

  const operations: string[] = []
  if (d.platformAction !== 'none') operations.push(d.platformAction)
  if (d.noticeText) {
    operations.push('reply')
    if (d.platform === 'website' && d.authorEmail) operations.push('email')
  }
  const actionIds: string[] = []
  for (const operation of operations) {
    const id = randomUUID()
    await sql.query(
      `INSERT INTO platform_action (id, decision_id, comment_id, platform, operation, status, created_at)
       VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, 'pending', $6)`,
      [id, decisionId, d.commentId, d.platform, operation, now],
    )
    await enqueuePlatformAction(tx, id, deps.maxAttempts)
    actionIds.push(id)
  }

  await sql.query(`UPDATE comment SET moderation_status = $2, updated_at = $3 WHERE id = $1::uuid`, [d.commentId, STATUS_AFTER[d.action], now])
  await sql.query(
    `UPDATE review_item SET status = 'closed', closed_at = $2, claimed_by = NULL, claim_expires_at = NULL WHERE comment_id = $1::uuid AND status = 'open'`,
    [d.commentId, now],
  )
  return { decisionId, ledgerEntryId: entry!.id, actionIds }
}

export class StaleVersionError extends ConflictError {
  constructor(seen: string, current: string) {
    super(`The comment changed since version ${seen} was seen; its current version is ${current}. Review it again.`, 'stale-comment-version')
  }
}

export class UnsupportedPlatformActionError extends ProblemError {
  constructor(platform: Platform, action: DecisionAction) {
    const can = PLATFORM_CAPABILITIES[platform]
    const options = [can.remove ? 'remove' : null, can.hide ? 'hide' : null].filter(Boolean).join(' or ')
    super(422, 'unsupported-platform-action', 'Unsupported platform action', `${platform} cannot ${action} a comment it did not write; it can ${options}.`)
  }
}

export interface DecisionInput {
  action: DecisionAction
  /** The comment version (comment_event id) the moderator decided on. */
  versionId: string
  ruleCodes?: string[] | undefined
  note?: string | undefined
}

/**
 * A decision by a person. A removal or hide must cite at least one rule of the policy version in
 * force when the version decided on was posted; a decision on a version that is no longer current,
 * or on a comment another moderator has claimed, is refused (409).
 */
export async function decide(
  tx: Tx,
  actor: string,
  commentId: string,
  input: DecisionInput,
  deps: { clock: Clock; resolver: PolicyResolver; maxAttempts: number },
): Promise<RecordedDecision & { action: DecisionAction; platformAction: PlatformActionName; noticeText: string | null }> {
  await tx.$executeRaw`SELECT 1 FROM comment WHERE id = ${commentId}::uuid FOR UPDATE`
  const comment = await tx.comment.findUnique({ where: { id: commentId } })
  if (!comment) throw new NotFoundError(`No comment ${commentId}.`)
  if (comment.byCity) throw new ConflictError("The city's own comments are recorded, not moderated.", 'city-comment')
  const platform = comment.platform as Platform
  const latest = await tx.commentEvent.findFirst({
    where: { commentId, kind: { in: ['created', 'edited'] } },
    orderBy: [{ platformTime: 'desc' }, { receivedAt: 'desc' }],
  })
  if (!latest) throw new ConflictError('The comment has no text version to decide on.', 'no-version')
  if (latest.id !== input.versionId) throw new StaleVersionError(input.versionId, latest.id)
  const now = deps.clock()
  await assertNotClaimedByOther(tx, actor, commentId, now)

  const [effective] = await deps.resolver.versionsAt(tx, [latest.platformTime])
  const ruleCodes = [...new Set(input.ruleCodes ?? [])]
  let platformAction: PlatformActionName = 'none'
  let noticeText: string | null = null
  let appealReference: string | undefined
  if (input.action === 'remove' || input.action === 'hide') {
    if (!PLATFORM_CAPABILITIES[platform][input.action]) throw new UnsupportedPlatformActionError(platform, input.action)
    if (ruleCodes.length === 0) {
      throw new ValidationProblem(`A ${input.action} must cite at least one rule.`, [{ path: 'body:$.ruleCodes', message: 'cite at least one rule' }])
    }
    if (!effective) throw new ConflictError('No policy version was in force when this comment was posted, so no rule can be cited.', 'no-policy-in-force')
    const known = new Set(effective.content.rules.map((r) => r.code))
    const unknown = ruleCodes.filter((c) => !known.has(c))
    if (unknown.length > 0) {
      throw new ValidationProblem(
        `Rules ${unknown.join(', ')} are not in version ${effective.version}, which was in force when the comment was posted (its rules: ${[...known].join(', ')}).`,
        unknown.map((code) => ({ path: 'body:$.ruleCodes', message: `unknown rule ${code}` })),
      )
    }
    platformAction = input.action === 'remove' ? 'delete' : 'hide'
    appealReference = newAppealReference()
    noticeText = noticeFor(effective.content, ruleCodes.map((ruleCode) => ({ ruleCode })), platform, appealReference)
  } else if (input.action === 'restore') {
    const last = await tx.moderationDecision.findFirst({ where: { commentId }, orderBy: { decidedAt: 'desc' } })
    if (!last || (last.action !== 'remove' && last.action !== 'hide')) throw new ConflictError('Only a removed or hidden comment can be restored.', 'not-removed')
    // A hidden comment is unhidden; a deleted one cannot be brought back on the platform, only in the record.
    platformAction = last.platformAction === 'hide' ? 'unhide' : 'none'
  }
  const evaluation = await tx.commentEvaluation.findUnique({ where: { eventId: latest.id } })
  const recorded = await recordDecision(
    tx,
    {
      commentId,
      eventId: latest.id,
      commentVersionEntryId: latest.ledgerEntryId,
      platform,
      authorEmail: comment.authorEmail,
      policyVersionId: effective?.id ?? null,
      policyVersion: effective?.version ?? null,
      actor,
      automatic: false,
      action: input.action,
      platformAction,
      ruleCodes,
      // What the matcher found for this version, if anything: the moderator's decision is compared with it.
      evidence: { cited: ruleCodes, automaticEvaluation: evaluation ? { outcome: evaluation.outcome, matches: evaluation.matches } : null },
      note: input.note ?? null,
      noticeText,
      ...(appealReference ? { appealReference } : {}),
    },
    deps,
  )
  return { ...recorded, action: input.action, platformAction, noticeText }
}
