import { randomUUID } from 'node:crypto'
import type { Prisma } from '../generated/prisma/client.js'
import type { Tx } from '../db/tx.js'
import { appendEntries, type Clock, type NewEntry } from '../ledger/append.js'
import type { PolicyResolver } from '../policy/effective.js'
import { evaluate } from '../policy/evaluate.js'
import { PLATFORM_DISPLAY_NAMES, renderNotice } from '../policy/notice.js'
import type { Evaluation, PolicyVersionContent, RuleMatch } from '../policy/rules.js'
import type { CommentEvent } from '../webhooks/platforms/index.js'
import { authorHistories } from '../comments/history.js'
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

/** The notice the author receives: each removing rule's template, rendered. */
export function noticeFor(content: PolicyVersionContent, matches: readonly RuleMatch[], platform: CommentEvent['platform']): string {
  return matches
    .map((m) => {
      const rule = content.rules.find((r) => r.code === m.ruleCode)!
      return renderNotice(rule.noticeTemplate, {
        ruleCode: rule.code,
        ruleTitle: rule.title,
        policyUrl: content.policyUrl,
        appealUrl: content.appealUrl,
        platform: PLATFORM_DISPLAY_NAMES[platform] ?? platform,
      })
    })
    .join('\n\n')
}

/**
 * Applies the policy to comment versions just stored, in the ingestion transaction: each version
 * is evaluated against the version in force at its platform time; the result is recorded; a
 * removal is appended to the ledger as an automatic moderation decision with the notice rendered;
 * a flag puts the comment in the review queue. The city's own comments are never evaluated.
 */
export async function applyPolicy(tx: Tx, events: readonly NewCommentEvent[], deps: { resolver: PolicyResolver; clock: Clock }): Promise<AutomaticOutcome[]> {
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
  const evaluations: Array<{ eventId: string; commentId: string; policyVersionId: string; outcome: string; matches: object; evaluatedAt: Date }> = []
  const decisions: Prisma.ModerationDecisionCreateManyInput[] = []
  const entries: NewEntry[] = []
  const flagged: Array<{ e: NewCommentEvent; versionId: string; matches: RuleMatch[] }> = []
  publicVersions.forEach((e, i) => {
    const version = effective[i]
    if (!version) {
      outcomes.push({ eventId: e.eventId, commentId: e.commentId, policyVersionId: null, evaluation: null, decisionId: null })
      return
    }
    const evaluation = evaluate(version.compiled, { text: e.event.text, authorHistory: histories[i]!, platformTime: e.event.platformTime })
    evaluations.push({ eventId: e.eventId, commentId: e.commentId, policyVersionId: version.id, outcome: evaluation.outcome, matches: evaluation.matches, evaluatedAt: now })
    let decisionId: string | null = null
    if (evaluation.outcome === 'remove') {
      decisionId = randomUUID()
      const ledgerEntryId = randomUUID()
      const removing = evaluation.matches.filter((m) => m.action === 'remove')
      const action = removalActionFor(e.event.platform)
      const noticeText = noticeFor(version.content, removing, e.event.platform)
      const ruleCodes = removing.map((m) => m.ruleCode)
      decisions.push({
        id: decisionId,
        commentId: e.commentId,
        eventId: e.eventId,
        policyVersionId: version.id,
        actor: 'system',
        automatic: true,
        action,
        ruleCodes,
        evidence: removing,
        noticeText,
        ledgerEntryId,
        decidedAt: now,
      })
      entries.push({
        id: ledgerEntryId,
        kind: 'moderation.decision',
        subject: e.commentId,
        actor: 'system',
        payload: {
          decisionId,
          commentId: e.commentId,
          commentVersionEntryId: e.ledgerEntryId,
          platform: e.event.platform,
          automatic: true,
          action,
          policyVersionId: version.id,
          policyVersion: version.version,
          ruleCodes,
          evidence: removing,
          noticeText,
        },
      })
    } else if (evaluation.outcome === 'flag') {
      flagged.push({ e, versionId: version.id, matches: evaluation.matches.filter((m) => m.action === 'flag') })
    }
    outcomes.push({ eventId: e.eventId, commentId: e.commentId, policyVersionId: version.id, evaluation, decisionId })
  })

  if (evaluations.length > 0) await tx.commentEvaluation.createMany({ data: evaluations })
  if (decisions.length > 0) {
    await appendEntries(tx, entries, () => now)
    await tx.moderationDecision.createMany({ data: decisions })
  }
  for (const { e, versionId, matches } of flagged) {
    await tx.$executeRaw`
      INSERT INTO review_item (id, comment_id, event_id, policy_version_id, rule_codes, evidence, status, created_at)
      VALUES (${randomUUID()}::uuid, ${e.commentId}::uuid, ${e.eventId}::uuid, ${versionId}::uuid, ${matches.map((m) => m.ruleCode)}::text[],
              ${JSON.stringify(matches)}::jsonb, 'open', ${now})
      ON CONFLICT (comment_id) WHERE status = 'open'
      DO UPDATE SET event_id = EXCLUDED.event_id, policy_version_id = EXCLUDED.policy_version_id, rule_codes = EXCLUDED.rule_codes, evidence = EXCLUDED.evidence`
  }
  // A removal stands; a flag waits for a person; only an unevaluated or allowed comment becomes allowed.
  const removed = outcomes.filter((o) => o.evaluation?.outcome === 'remove').map((o) => o.commentId)
  const flaggedIds = flagged.map((f) => f.e.commentId)
  const allowed = outcomes.filter((o) => o.evaluation?.outcome === 'allow').map((o) => o.commentId)
  if (removed.length > 0) {
    await tx.comment.updateMany({ where: { id: { in: removed } }, data: { moderationStatus: 'removed' } })
    await tx.reviewItem.updateMany({ where: { commentId: { in: removed }, status: 'open' }, data: { status: 'closed', closedAt: now } })
  }
  if (flaggedIds.length > 0) await tx.comment.updateMany({ where: { id: { in: flaggedIds }, moderationStatus: { not: 'removed' } }, data: { moderationStatus: 'flagged' } })
  if (allowed.length > 0) await tx.comment.updateMany({ where: { id: { in: allowed }, moderationStatus: { in: ['unevaluated', 'allowed'] } }, data: { moderationStatus: 'allowed' } })
  return outcomes
}
