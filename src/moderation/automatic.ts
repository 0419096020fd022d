import { asSql, prepared, type Queryable } from '../db/sql.js'
import type { Clock } from '../ledger/append.js'
import type { PolicyResolver } from '../policy/effective.js'
import { evaluate } from '../policy/evaluate.js'
import type { Evaluation, RuleMatch } from '../policy/rules.js'
import type { CommentEvent } from '../webhooks/platforms/index.js'
import { authorHistories } from '../comments/history.js'
import { recordDecision } from './decisions.js'
import { noticeFor } from './notices.js'
import { openReviewItems, type ReviewItemInput } from './queue.js'
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

const INSERT_EVALUATIONS = prepared(
  'evaluations_insert',
  `INSERT INTO comment_evaluation (event_id, comment_id, policy_version_id, outcome, matches, evaluated_at)
   SELECT e.*, $6::timestamptz FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::jsonb[]) AS e`,
)

/**
 * Applies the policy to comment versions just stored, in the ingestion transaction: each version
 * is evaluated against the version in force at its platform time; the result is recorded; a
 * removal is appended to the ledger as an automatic moderation decision with the notice rendered;
 * a flag puts the comment in the review queue. The city's own comments are never evaluated.
 * `publishedCount`: the number of published policy versions, when the caller read it in this
 * transaction (PolicyResolver.versionsAt).
 */
export async function applyPolicy(
  tx: Queryable,
  events: readonly NewCommentEvent[],
  deps: { resolver: PolicyResolver; clock: Clock; maxAttempts: number; publishedCount?: number },
): Promise<AutomaticOutcome[]> {
  const sql = asSql(tx)
  const versions = events.filter((e) => e.event.kind === 'created' || e.event.kind === 'edited')
  const city = versions.filter((e) => e.event.byCityAccount)
  if (city.length > 0) {
    await sql.query(`UPDATE comment SET moderation_status = 'city' WHERE id = ANY($1::uuid[])`, [city.map((e) => e.commentId)])
  }
  const publicVersions = versions.filter((e) => !e.event.byCityAccount)
  if (publicVersions.length === 0) return []
  const now = deps.clock()
  const effective = await deps.resolver.versionsAt(
    tx,
    publicVersions.map((e) => new Date(e.event.platformTime)),
    deps.publishedCount === undefined ? {} : { publishedCount: deps.publishedCount },
  )
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
  const evaluations: Array<{ eventId: string; commentId: string; policyVersionId: string; outcome: string; matches: RuleMatch[] }> = []
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
    evaluations.push({ eventId: e.eventId, commentId: e.commentId, policyVersionId: version.id, outcome: evaluation.outcome, matches: evaluation.matches })
    if (evaluation.outcome === 'remove') removals.push({ e, version, removing: evaluation.matches.filter((m) => m.action === 'remove') })
    else if (evaluation.outcome === 'flag') flagged.push({ e, versionId: version.id, matches: evaluation.matches.filter((m) => m.action === 'flag') })
    outcomes.push({ eventId: e.eventId, commentId: e.commentId, policyVersionId: version.id, evaluation, decisionId: null })
  })

  if (evaluations.length > 0) {
    await sql.query(INSERT_EVALUATIONS, [
      evaluations.map((v) => v.eventId),
      evaluations.map((v) => v.commentId),
      evaluations.map((v) => v.policyVersionId),
      evaluations.map((v) => v.outcome),
      evaluations.map((v) => JSON.stringify(v.matches)),
      now,
    ])
  }
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
  const items: ReviewItemInput[] = [
    ...flagged.map(({ e, versionId, matches }) => ({ commentId: e.commentId, eventId: e.eventId, policyVersionId: versionId, ruleCodes: matches.map((m) => m.ruleCode), evidence: matches, reason: 'flagged' as const })),
    // No policy was in force at its platform time: a person looks at it instead.
    ...unevaluated.map((e) => ({ commentId: e.commentId, eventId: e.eventId, policyVersionId: null, ruleCodes: [], evidence: [], reason: 'unevaluated' as const })),
  ]
  await openReviewItems(tx, items, now)

  // A decision sets its own status; a flag waits for a person; only an unevaluated or allowed
  // comment becomes allowed. One statement, with the result of applying the flags and then the
  // allows: a comment flagged here is never also made allowed.
  const flaggedIds = flagged.map((f) => f.e.commentId)
  const allowed = outcomes.filter((o) => o.evaluation?.outcome === 'allow').map((o) => o.commentId)
  if (flaggedIds.length > 0 || allowed.length > 0) {
    await sql.query(
      `UPDATE comment SET moderation_status = CASE WHEN id = ANY($1::uuid[]) THEN 'flagged' ELSE 'allowed' END
        WHERE (id = ANY($1::uuid[]) AND moderation_status IN ('unevaluated', 'allowed', 'flagged'))
           OR (id = ANY($2::uuid[]) AND NOT id = ANY($1::uuid[]) AND moderation_status IN ('unevaluated', 'allowed'))`,
      [flaggedIds, allowed],
    )
  }
  return outcomes
}
