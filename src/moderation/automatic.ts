import type { Prisma } from '../generated/prisma/client.js'
import type { Tx } from '../db/tx.js'
import type { Clock } from '../ledger/append.js'
import type { PolicyResolver } from '../policy/effective.js'
import { evaluate } from '../policy/evaluate.js'
import type { Evaluation, RuleMatch } from '../policy/rules.js'
import type { CommentEvent } from '../webhooks/platforms/index.js'
import { authorHistories } from '../comments/history.js'
import { recordDecision } from './decisions.js'
import { noticeFor } from './notices.js'
import { openReviewItem } from './queue.js'
import { removalActionFor } from './platforms.js'

export interface NewCommentEvent {
  commentId: string
  eventId: string
  ledgerEntryId: string
  event: CommentEvent
}

export interface AutomaticOutcome {
  eventId: string
  commentId: string
  policyVersionId: string | null
  evaluation: Evaluation | null
  decisionId: string | null
}

/**
 * Applies the policy to comment versions just stored, in the ingestion transaction: each version
 * is evaluated against the version in force at its platform time; the result is recorded; a
 * removal is appended to the ledger as an automatic moderation decision with the notice rendered;
 * a flag puts the comment in the review queue. The city's own comments are never evaluated.
 */
export async function applyPolicy(
  tx: Tx,
  events: readonly NewCommentEvent[],
  deps: { resolver: PolicyResolver; clock: Clock; maxAttempts: number },
): Promise<AutomaticOutcome[]> {
  const versions = events.filter((e) => e.event.kind === 'created' || e.event.kind === 'edited')
  const city = versions.filter((e) => e.event.byCityAccount)
  if (city.length > 0) {
    await tx.comment.updateMany({ where: { id: { in: city.map((e) => e.commentId) } }, data: { moderationStatus: 'city' } })
  }
  const publicVersions = versions.filter((e) => !e.event.byCityAccount)
  if (publicVersions.length === 0) return []
  const now = deps.clock()
  const effective = await deps.resolver.versionsAt(tx, publicVersions.map((e) => new Date(e.event.platformTime)))
  const histories = await authorHistories(
    tx,
    publicVersions.map((e, i) => ({
      commentId: e.commentId,
      platform: e.event.platform,
      authorId: e.event.author.id,
      platformTime: new Date(e.event.platformTime),
      windowMs: Math.max(0, ...(effective[i]?.compiled.repetition.map((r) => r.windowMs) ?? [])),
    })),
  )

  const outcomes: AutomaticOutcome[] = []
  const evaluations: Prisma.CommentEvaluationCreateManyInput[] = []
  const removals: Array<{ e: NewCommentEvent; version: NonNullable<(typeof effective)[number]>; removing: RuleMatch[] }> = []
  const flagged: Array<{ e: NewCommentEvent; versionId: string; matches: RuleMatch[] }> = []
  const unevaluated: NewCommentEvent[] = []
  publicVersions.forEach((e, i) => {
    const version = effective[i]
    if (!version) {
      unevaluated.push(e)
      outcomes.push({ eventId: e.eventId, commentId: e.commentId, policyVersionId: null, evaluation: null, decisionId: null })
      return
    }
    const evaluation = evaluate(version.compiled, { text: e.event.text, authorHistory: histories[i]!, platformTime: e.event.platformTime })
    evaluations.push({ eventId: e.eventId, commentId: e.commentId, policyVersionId: version.id, outcome: evaluation.outcome, matches: evaluation.matches, evaluatedAt: now })
    if (evaluation.outcome === 'remove') removals.push({ e, version, removing: evaluation.matches.filter((m) => m.action === 'remove') })
    else if (evaluation.outcome === 'flag') flagged.push({ e, versionId: version.id, matches: evaluation.matches.filter((m) => m.action === 'flag') })
    outcomes.push({ eventId: e.eventId, commentId: e.commentId, policyVersionId: version.id, evaluation, decisionId: null })
  })

  if (evaluations.length > 0) await tx.commentEvaluation.createMany({ data: evaluations })
  for (const { e, version, removing } of removals) {
    const action = removalActionFor(e.event.platform)
    const recorded = await recordDecision(
      tx,
      {
        commentId: e.commentId,
        eventId: e.eventId,
        commentVersionEntryId: e.ledgerEntryId,
        platform: e.event.platform,
        authorEmail: e.event.author.email ?? null,
        policyVersionId: version.id,
        policyVersion: version.version,
        actor: 'system',
        automatic: true,
        action,
        platformAction: action === 'remove' ? 'delete' : 'hide',
        ruleCodes: removing.map((m) => m.ruleCode),
        evidence: removing,
        note: null,
        noticeText: noticeFor(version.content, removing, e.event.platform),
      },
      deps,
    )
    outcomes.find((o) => o.eventId === e.eventId)!.decisionId = recorded.decisionId
  }
  for (const { e, versionId, matches } of flagged) await openReviewItem(tx, { commentId: e.commentId, eventId: e.eventId, policyVersionId: versionId, ruleCodes: matches.map((m) => m.ruleCode), evidence: matches, reason: 'flagged' }, now)
  // No policy was in force at its platform time: a person looks at it instead.
  for (const e of unevaluated) await openReviewItem(tx, { commentId: e.commentId, eventId: e.eventId, policyVersionId: null, ruleCodes: [], evidence: [], reason: 'unevaluated' }, now)

  // A decision sets its own status; a flag waits for a person; only an unevaluated or allowed
  // comment becomes allowed.
  const flaggedIds = flagged.map((f) => f.e.commentId)
  const allowed = outcomes.filter((o) => o.evaluation?.outcome === 'allow').map((o) => o.commentId)
  if (flaggedIds.length > 0) await tx.comment.updateMany({ where: { id: { in: flaggedIds }, moderationStatus: { in: ['unevaluated', 'allowed', 'flagged'] } }, data: { moderationStatus: 'flagged' } })
  if (allowed.length > 0) await tx.comment.updateMany({ where: { id: { in: allowed }, moderationStatus: { in: ['unevaluated', 'allowed'] } }, data: { moderationStatus: 'allowed' } })
  return outcomes
}
