import { randomUUID } from 'node:crypto'
import type { ModerationStatusValue } from '../comments/schemas.js'
import type { Tx } from '../db/tx.js'
import { asSql, type Queryable } from '../db/sql.js'
import { appendEntries, type Clock } from '../ledger/append.js'
import type { PolicyResolver } from '../policy/effective.js'
import { ConflictError, NotFoundError, ProblemError, ValidationProblem } from '../plugins/errors.js'
import type { Platform } from '../webhooks/platforms/index.js'
import { appealReferenceDigest, canonicalAppealReference, newAppealReference } from './appeal-reference.js'
import { DEFAULT_NOTICE_CHANNELS, planNotice, planRecord, type NoticeChannels } from './notice-channels.js'
import { noticeFor, noticeKindOf, SAMPLE_APPEAL_REFERENCE, shortNotice } from './notices.js'
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
  /** The notice, in full (published under the appeal reference), or null when none is sent. */
  noticeText: string | null
  /** The short form for a public reply (X, LinkedIn); default noticeText. */
  noticeShortText?: string
  /** When the comment was posted (Facebook and Instagram reply privately within 7 days of it). */
  postedAt: Date
  /** A second message about the comment (a restore, an appeal's outcome): Meta allows one private reply. */
  followUp?: boolean
  /** The appeal whose outcome this decision's notice carries, and the appellant's contact (e-mailed when an address). */
  appealId?: string
  appealContact?: string | null
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
export interface RecordDeps {
  clock: Clock
  maxAttempts: number
  /** NOTICE_CHANNEL_X and NOTICE_CHANNEL_LINKEDIN; default public-reply. */
  noticeChannels?: NoticeChannels
}

export async function recordDecision(tx: Queryable, d: DecisionRecord, deps: RecordDeps): Promise<RecordedDecision> {
  const now = deps.clock()
  const decisionId = randomUUID()
  const plan =
    d.noticeText === null
      ? null
      : planNotice({
          platform: d.platform,
          postedAt: d.postedAt,
          now,
          fullText: d.noticeText,
          shortText: d.noticeShortText ?? d.noticeText,
          authorEmail: d.authorEmail,
          followUp: d.followUp === true,
          appealContact: d.appealContact ?? null,
          channels: deps.noticeChannels ?? DEFAULT_NOTICE_CHANNELS,
        })
  const noticeDelivery = plan ? planRecord(plan) : null
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
          noticeDelivery,
          ...(d.context ?? {}),
        },
      },
    ],
  )
  const sql = asSql(tx)
  await sql.query(
    `INSERT INTO moderation_decision (id, comment_id, event_id, policy_version_id, actor, automatic, action, platform_action, rule_codes,
                                      evidence, note, notice_text, ledger_entry_id, decided_at, notice_delivery)
     VALUES ($1::uuid, $2::uuid, $3::uuid, $4::uuid, $5, $6, $7, $8, $9::text[], $10::jsonb, $11, $12, $13::uuid, $14, $15::jsonb)`,
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
      noticeDelivery === null ? null : JSON.stringify(noticeDelivery),
    ],
  )

  if (reference !== null) {
    // Its digest only (docs/moderation.md, "Appeals"); the primary key refuses a reference given twice.
    await sql.query(`INSERT INTO appeal_reference (reference_sha256, decision_id, created_at) VALUES ($1, $2::uuid, $3)`, [appealReferenceDigest(reference), decisionId, now])
  }

  const operations: Array<{ operation: string; text: string | null }> = []
  if (d.platformAction !== 'none') operations.push({ operation: d.platformAction, text: null })
  for (const delivery of plan?.deliveries ?? []) operations.push({ operation: delivery.operation, text: delivery.text })
  const actionIds = await enqueueActions(tx, { decisionId, commentId: d.commentId, platform: d.platform, appealId: d.appealId ?? null }, operations, now, deps.maxAttempts)

  await sql.query(`UPDATE comment SET moderation_status = $2, updated_at = $3 WHERE id = $1::uuid`, [d.commentId, STATUS_AFTER[d.action], now])
  await sql.query(
    `UPDATE review_item SET status = 'closed', closed_at = $2, claimed_by = NULL, claim_expires_at = NULL WHERE comment_id = $1::uuid AND status = 'open'`,
    [d.commentId, now],
  )
  return { decisionId, ledgerEntryId: entry!.id, actionIds }
}

/** Inserts platform actions (and notice deliveries, with their exact text) and enqueues their jobs. */
export async function enqueueActions(
  tx: Queryable,
  owner: { decisionId: string; commentId: string; platform: Platform; appealId: string | null },
  operations: Array<{ operation: string; text: string | null }>,
  now: Date,
  maxAttempts: number,
): Promise<string[]> {
  const sql = asSql(tx)
  const ids: string[] = []
  for (const { operation, text } of operations) {
    const id = randomUUID()
    await sql.query(
      `INSERT INTO platform_action (id, decision_id, comment_id, platform, operation, status, created_at, text, appeal_id)
       VALUES ($1::uuid, $2::uuid, $3::uuid, $4, $5, 'pending', $6, $7, $8::uuid)`,
      [id, owner.decisionId, owner.commentId, owner.platform, operation, now, text, owner.appealId],
    )
    await enqueuePlatformAction(tx, id, maxAttempts)
    ids.push(id)
  }
  return ids
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

export interface DecideDeps extends RecordDeps {
  resolver: PolicyResolver
  /** MODERATION_SELF_CORRECTION_MINUTES (default 10). */
  selfCorrectionMinutes?: number
}

/** A moderator undoing their own decision outside the rule (docs/moderation.md, "Who may undo a decision"). */
export class SelfReversalError extends ConflictError {
  constructor(detail: string) {
    super(detail, 'self-reversal')
  }
}

/** What a proposed decision would do and say: the same computation as decide(), nothing recorded. */
export interface ProposedDecision {
  action: DecisionAction
  platformAction: PlatformActionName
  policyVersionId: string | null
  policyVersion: number | null
  ruleCodes: string[]
  /** The notice as it would be recorded and published under the reference (a sample reference in place of the author's). */
  noticeText: string | null
  /** Each delivery and its exact text; platformNotTold says why the platform would not tell the author. */
  deliveries: Array<{ channel: string; operation: string; text: string; to?: 'author' | 'appellant' }>
  platformNotTold: string | null
  /** The decision in force that this one would repeat: deciding it again changes nothing. */
  sameAsDecisionId: string | null
}

async function prepare(tx: Tx, actor: string, commentId: string, input: DecisionInput, deps: DecideDeps, appealReference: string | undefined) {
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

  const [effective] = await deps.resolver.versionsAt(tx, [latest.platformTime])
  const ruleCodes = [...new Set(input.ruleCodes ?? [])]
  const last = await tx.moderationDecision.findFirst({ where: { commentId }, orderBy: { decidedAt: 'desc' } })
  let platformAction: PlatformActionName = 'none'
  let noticeText: string | null = null
  let noticeShortText: string | undefined
  let followUp = false
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
    const kind = noticeKindOf(input.action)
    noticeText = noticeFor(effective.content, kind, ruleCodes, platform, appealReference)
    noticeShortText = shortNotice(effective.content, kind, ruleCodes, appealReference)
  } else if (input.action === 'restore') {
    if (!last || (last.action !== 'remove' && last.action !== 'hide')) throw new ConflictError('Only a removed or hidden comment can be restored.', 'not-removed')
    // A hidden comment is unhidden; a deleted one cannot be brought back on the platform, only in the record.
    platformAction = last.platformAction === 'hide' ? 'unhide' : 'none'
    if (last.actor === actor) await assertSelfCorrectionAllowed(tx, last, now, deps.selfCorrectionMinutes ?? 10)
    // An author who was told of the removal is told of the restore, in the words of the same policy version.
    if (last.noticeText !== null && effective) {
      noticeText = noticeFor(effective.content, 'restored', last.ruleCodes, platform)
      noticeShortText = shortNotice(effective.content, 'restored', last.ruleCodes)
      followUp = true
    }
  }
  // The same decision as the one in force (same action, rules and policy version): nothing to do again.
  const same =
    last !== null &&
    last.action === input.action &&
    last.eventId === latest.id &&
    last.policyVersionId === (effective?.id ?? null) &&
    [...last.ruleCodes].sort().join('\u0000') === [...ruleCodes].sort().join('\u0000')
      ? last
      : null
  return { comment, platform, latest, effective, ruleCodes, platformAction, noticeText, noticeShortText, followUp, now, same, last }
}

/**
 * The self-correction rule: a moderator may restore their own removal or hide only within
 * MODERATION_SELF_CORRECTION_MINUTES of it and while none of its notices has reached the author;
 * after that, someone else decides (as for an appeal).
 */
async function assertSelfCorrectionAllowed(tx: Tx, last: { id: string; decidedAt: Date }, now: Date, minutes: number): Promise<void> {
  const rule = `A moderator may undo their own decision only within ${minutes} minutes of it and before its notice reached the author (MODERATION_SELF_CORRECTION_MINUTES); otherwise another person must decide.`
  if (minutes === 0) throw new SelfReversalError(`You made this decision; another person must restore it. ${rule}`)
  if (now.getTime() - last.decidedAt.getTime() > minutes * 60_000) throw new SelfReversalError(`You made this decision more than ${minutes} minutes ago. ${rule}`)
  const told = await tx.platformAction.findFirst({ where: { decisionId: last.id, operation: { in: ['reply', 'email'] }, status: 'succeeded' } })
  if (told) throw new SelfReversalError(`The notice of your decision has reached the author already. ${rule}`)
}

/** The exact notice and deliveries a decision would produce, computed as decide() does; nothing is recorded. */
export async function previewDecision(tx: Tx, actor: string, commentId: string, input: DecisionInput, deps: DecideDeps): Promise<ProposedDecision> {
  const hasReference = input.action === 'remove' || input.action === 'hide'
  const p = await prepare(tx, actor, commentId, input, deps, hasReference ? SAMPLE_APPEAL_REFERENCE : undefined)
  const plan =
    p.noticeText === null
      ? null
      : planNotice({
          platform: p.platform,
          postedAt: p.comment.firstPlatformAt,
          now: p.now,
          fullText: p.noticeText,
          shortText: p.noticeShortText ?? p.noticeText,
          authorEmail: p.comment.authorEmail,
          followUp: p.followUp,
          channels: deps.noticeChannels ?? DEFAULT_NOTICE_CHANNELS,
        })
  return {
    action: input.action,
    platformAction: p.platformAction,
    policyVersionId: p.effective?.id ?? null,
    policyVersion: p.effective?.version ?? null,
    ruleCodes: p.ruleCodes,
    noticeText: p.same ? null : p.noticeText,
    deliveries: p.same ? [] : (plan?.deliveries ?? []).map((d) => ({ channel: d.channel, operation: d.operation, text: d.text, ...(d.to ? { to: d.to } : {}) })),
    platformNotTold: p.same ? null : (plan?.platformNotTold ?? null),
    sameAsDecisionId: p.same?.id ?? null,
  }
}

/**
 * A decision by a person. A removal or hide must cite at least one rule of the policy version in
 * force when the version decided on was posted; a decision on a version that is no longer current,
 * or on a comment another moderator has claimed, is refused (409). A decision identical to the one
 * in force (same action, rules and policy version) records nothing and answers with that decision.
 */
export async function decide(
  tx: Tx,
  actor: string,
  commentId: string,
  input: DecisionInput,
  deps: DecideDeps,
): Promise<RecordedDecision & { action: DecisionAction; platformAction: PlatformActionName; noticeText: string | null; existing: boolean }> {
  await tx.$executeRaw`SELECT 1 FROM comment WHERE id = ${commentId}::uuid FOR UPDATE`
  const hasReference = input.action === 'remove' || input.action === 'hide'
  const appealReference = hasReference ? newAppealReference() : undefined
  const p = await prepare(tx, actor, commentId, input, deps, appealReference)
  if (p.same) {
    const actions = await tx.platformAction.findMany({ where: { decisionId: p.same.id }, select: { id: true } })
    return {
      decisionId: p.same.id,
      ledgerEntryId: p.same.ledgerEntryId,
      actionIds: actions.map((a) => a.id),
      action: p.same.action as DecisionAction,
      platformAction: p.same.platformAction as PlatformActionName,
      noticeText: p.same.noticeText,
      existing: true,
    }
  }
  await assertNotClaimedByOther(tx, actor, commentId, p.now)
  const evaluation = await tx.commentEvaluation.findUnique({ where: { eventId: p.latest.id } })
  const recorded = await recordDecision(
    tx,
    {
      commentId,
      eventId: p.latest.id,
      commentVersionEntryId: p.latest.ledgerEntryId,
      platform: p.platform,
      authorEmail: p.comment.authorEmail,
      policyVersionId: p.effective?.id ?? null,
      policyVersion: p.effective?.version ?? null,
      actor,
      automatic: false,
      action: input.action,
      platformAction: p.platformAction,
      ruleCodes: p.ruleCodes,
      // What the matcher found for this version, if anything: the moderator's decision is compared with it.
      evidence: { cited: p.ruleCodes, automaticEvaluation: evaluation ? { outcome: evaluation.outcome, matches: evaluation.matches } : null },
      note: input.note ?? null,
      noticeText: p.noticeText,
      ...(p.noticeShortText !== undefined ? { noticeShortText: p.noticeShortText } : {}),
      postedAt: p.comment.firstPlatformAt,
      followUp: p.followUp,
      ...(appealReference ? { appealReference } : {}),
    },
    deps,
  )
  return { ...recorded, action: input.action, platformAction: p.platformAction, noticeText: p.noticeText, existing: false }
}
