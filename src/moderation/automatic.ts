import { asSql, type Queryable, type SqlClient } from '../db/sql.js'
import type { EffectiveVersion, PolicyResolver } from '../policy/effective.js'
import { evaluate, EVALUATOR_VERSION } from '../policy/evaluate.js'
import type { Evaluation, RuleMatch } from '../policy/rules.js'
import type { CommentEvent } from '../webhooks/platforms/index.js'
import { authorHistoriesAndPublishedCount, type FingerprintItem } from '../comments/history.js'
import { fingerprintOf, versionsCompared, type Fingerprint } from '../policy/repetition.js'
import type { ModerationStatusValue } from '../comments/schemas.js'
import { recordDecision } from './decisions.js'
import { slices } from '../kernel/slices.js'
import { newAppealReference } from './appeal-reference.js'
import { noticeFor, noticeKindOf, shortNotice } from './notices.js'
import type { RecordDeps } from './decisions.js'
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

/** A comment version of a delivery, before the delivery is stored. */
export interface VersionToEvaluate {
  event: CommentEvent
  /** Its event key (eventKey in src/webhooks/ingest.ts). */
  key: string
  /** The author of its comment once the delivery is stored (its identity merged over the delivery's events). */
  authorId: string | null
  /** Its text's repetition fingerprint (repetition.ts; computed here when not given). */
  fingerprint?: Fingerprint
}

export interface VersionResult {
  version: EffectiveVersion | null
  evaluation: Evaluation | null
}

/**
 * Evaluates the public comment versions of a delivery BEFORE it is stored, so their evaluations
 * and the new comments' moderation status are written by the delivery's own statement (no update
 * of the comment rows afterwards). What the evaluation reads is what it read when it ran after the
 * store: the policy version in force at each platform time, and, when a repetition rule is in
 * force, the author's versions in other comments during its window, i.e. those already stored (one
 * statement, which also counts the published policy versions) plus those of this delivery (added
 * here, each version once). City versions get no result (never evaluated).
 * `publishedCount`: the count the delivery statement returned when it refused a stale evaluation.
 * Returns the results and the number of published versions they were chosen from (null when no
 * version needed a policy), which the delivery statement checks in its own snapshot.
 */
export async function evaluateVersions(
  sql: SqlClient,
  versions: readonly VersionToEvaluate[],
  deps: { resolver: PolicyResolver; publishedCount?: number },
): Promise<{ results: Array<VersionResult | null>; publishedCount: number | null }> {
  const publicIndexes = versions.flatMap((v, i) => (v.event.byCityAccount ? [] : [i]))
  const results: Array<VersionResult | null> = versions.map(() => null)
  if (publicIndexes.length === 0) return { results, publishedCount: null }
  const pub = publicIndexes.map((i) => versions[i]!)
  const times = pub.map((v) => new Date(v.event.platformTime))
  const requestsFor = (effective: ReadonlyArray<EffectiveVersion | null>) =>
    pub.map((v, i) => ({
      // Not a stored id: the comment is excluded by its external id (it may not exist yet).
      commentId: '00000000-0000-0000-0000-000000000000',
      externalId: v.event.externalId,
      platform: v.event.platform,
      authorId: v.event.author.id,
      platformTime: times[i]!,
      windowMs: Math.max(0, ...(effective[i]?.compiled.repetition.map((r) => r.windowMs) ?? [])),
      // The most versions any of its repetition rules compares (K): the statement returns no more.
      limit: Math.max(0, ...(effective[i]?.compiled.repetition.map((r) => versionsCompared(r.minCount)) ?? [])),
    }))
  // The versions in force come from the list kept in memory (or read again when the delivery
  // statement saw another count); the windows depend on them.
  const used = { count: 0 }
  let effective = await deps.resolver.versionsAt(sql, times, deps.publishedCount === undefined ? { cachedOnly: true, used } : { publishedCount: deps.publishedCount, used })
  let requests = requestsFor(effective)
  let stored: Array<Array<FingerprintItem & { externalId: string; eventKey: string }>> = pub.map(() => [])
  if (requests.some((r) => r.windowMs > 0 && r.authorId)) {
    let read = await authorHistoriesAndPublishedCount(sql, requests)
    if (read.publishedCount !== used.count) {
      effective = await deps.resolver.versionsAt(sql, times, { publishedCount: read.publishedCount, used })
      requests = requestsFor(effective)
      read = await authorHistoriesAndPublishedCount(sql, requests)
    }
    stored = read.histories
  }
  // The delivery's versions by comment author, so each version looks only at its author's.
  const byAuthor = new Map<string, VersionToEvaluate[]>()
  for (const o of versions) {
    if (!o.authorId) continue
    const key = `${o.event.platform}\u0000${o.authorId}`
    const list = byAuthor.get(key)
    if (list) list.push(o)
    else byAuthor.set(key, [o])
  }
  // Each version's fingerprint, computed once (not once per version whose history it is in).
  const fingerprints = new Map<VersionToEvaluate, Fingerprint>()
  const fingerprintOfVersion = (o: VersionToEvaluate) => {
    let f = fingerprints.get(o) ?? o.fingerprint
    if (f === undefined) {
      f = fingerprintOf(o.event.text ?? '')
      fingerprints.set(o, f)
    }
    return f
  }
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)
  // In slices, so a large delivery's evaluation does not hold the event loop (src/kernel/slices.ts).
  const next = slices()
  for (const [i, v] of pub.entries()) {
    if (i > 0) await next()
    const version = effective[i] ?? null
    if (!version) {
      results[publicIndexes[i]!] = { version: null, evaluation: null }
      continue
    }
    const request = requests[i]!
    const seen = new Set(stored[i]!.map((h) => `${h.externalId}\u0000${h.eventKey}`))
    // Oldest first, ties ordered as the history statement orders them (the later counts as more
    // recent), so the K compared are those it would pick once this delivery is stored.
    const history = [...stored[i]!]
    if (request.windowMs > 0 && request.authorId) {
      const from = times[i]!.getTime() - request.windowMs
      let added = false
      for (const o of byAuthor.get(`${v.event.platform}\u0000${request.authorId}`) ?? []) {
        const at = Date.parse(o.event.platformTime)
        if (o.event.externalId === v.event.externalId) continue
        if (at < from || at > times[i]!.getTime()) continue
        const id = `${o.event.externalId}\u0000${o.key}`
        if (seen.has(id)) continue
        seen.add(id)
        history.push({ platformTime: new Date(at).toISOString(), fingerprint: fingerprintOfVersion(o), externalId: o.event.externalId, eventKey: o.key })
        added = true
      }
      if (added) history.sort((a, b) => cmp(a.platformTime, b.platformTime) || cmp(a.externalId, b.externalId) || cmp(a.eventKey, b.eventKey))
    }
    const evaluation = evaluate(version.compiled, { text: v.event.text, authorHistory: history, platformTime: v.event.platformTime, fingerprint: fingerprintOfVersion(v) })
    results[publicIndexes[i]!] = { version, evaluation }
  }
  return { results, publishedCount: used.count }
}

/**
 * The moderation status a new comment is inserted with, given the results of its versions in the
 * delivery: what applyPolicy's updates would have left on a new row ('unevaluated'): 'city' for a
 * city version; then flagged when any version is flagged; else allowed when any is allowed. A
 * removal's decision sets its own status afterwards, as before.
 */
export function statusAtInsert(versions: ReadonlyArray<{ event: CommentEvent; result: VersionResult | null }>): ModerationStatusValue {
  let status: ModerationStatusValue = 'unevaluated'
  if (versions.some((v) => v.event.byCityAccount)) status = 'city'
  const outcomes = versions.filter((v) => !v.event.byCityAccount).map((v) => v.result?.evaluation?.outcome)
  if (outcomes.includes('flag') && ['unevaluated', 'allowed', 'flagged'].includes(status)) return 'flagged'
  if (outcomes.includes('allow') && ['unevaluated', 'allowed'].includes(status)) return 'allowed'
  return status
}

/**
 * The evaluations INSERT as a part of the delivery statement: one row per evaluated version whose
 * event the statement stored (a row of `relation` with the event's id in `id` and its comment in
 * `comment_id`). Values are the statement's parameters from `$firstParam` on.
 */
export function evaluationsInsertPart(
  evaluated: ReadonlyArray<{ eventId: string; result: VersionResult }>,
  now: Date,
  options: { firstParam: number; relation: string },
): { text: string; values: unknown[] } {
  const p = options.firstParam
  const rows = evaluated.filter((e) => e.result.version && e.result.evaluation)
  return {
    text: `INSERT INTO comment_evaluation (event_id, comment_id, policy_version_id, outcome, matches, evaluated_at, evaluator)
  SELECT k.id, k.comment_id, v.policy_version_id, v.outcome, v.matches, $${p + 4}::timestamptz, $${p + 5}::smallint
    FROM unnest($${p}::uuid[], $${p + 1}::uuid[], $${p + 2}::text[], $${p + 3}::jsonb[]) WITH ORDINALITY AS v(event_id, policy_version_id, outcome, matches, ord)
    JOIN ${options.relation} k ON k.id = v.event_id
   ORDER BY v.ord`,
    values: [
      rows.map((e) => e.eventId),
      rows.map((e) => e.result.version!.id),
      rows.map((e) => e.result.evaluation!.outcome),
      rows.map((e) => JSON.stringify(e.result.evaluation!.matches)),
      now,
      EVALUATOR_VERSION,
    ],
  }
}

/**
 * What follows the evaluation of comment versions just stored (evaluateVersions ran before the
 * delivery statement, which wrote the evaluations and the status of the comments it created): a
 * removal is appended to the ledger as an automatic moderation decision with the notice rendered;
 * a flag, or no policy in force, puts the comment in the review queue; comments that existed before
 * get their moderation status updated as before. The city's own comments are never evaluated.
 * `created`: the comments the delivery statement inserted (their status is already written).
 */
export async function applyPolicy(
  tx: Queryable,
  events: readonly NewCommentEvent[],
  results: ReadonlyMap<string, VersionResult | null>,
  created: ReadonlySet<string>,
  deps: RecordDeps,
): Promise<AutomaticOutcome[]> {
  const sql = asSql(tx)
  const versions = events.filter((e) => e.event.kind === 'created' || e.event.kind === 'edited')
  const city = versions.filter((e) => e.event.byCityAccount && !created.has(e.commentId))
  if (city.length > 0) {
    await sql.query(`UPDATE comment SET moderation_status = 'city' WHERE id = ANY($1::uuid[])`, [city.map((e) => e.commentId)])
  }
  const publicVersions = versions.filter((e) => !e.event.byCityAccount)
  if (publicVersions.length === 0) return []
  const now = deps.clock()

  const outcomes: AutomaticOutcome[] = []
  const removals: Array<{ e: NewCommentEvent; version: EffectiveVersion; removing: RuleMatch[] }> = []
  const flagged: Array<{ e: NewCommentEvent; versionId: string; matches: RuleMatch[] }> = []
  const unevaluated: NewCommentEvent[] = []
  for (const e of publicVersions) {
    const result = results.get(e.eventId)
    if (!result) throw new Error(`applyPolicy: version ${e.eventId} was not evaluated`)
    const { version, evaluation } = result
    if (!version || !evaluation) {
      unevaluated.push(e)
      outcomes.push({ eventId: e.eventId, commentId: e.commentId, policyVersionId: null, evaluation: null, decisionId: null })
      continue
    }
    if (evaluation.outcome === 'remove') removals.push({ e, version, removing: evaluation.matches.filter((m) => m.action === 'remove') })
    else if (evaluation.outcome === 'flag') flagged.push({ e, versionId: version.id, matches: evaluation.matches.filter((m) => m.action === 'flag') })
    outcomes.push({ eventId: e.eventId, commentId: e.commentId, policyVersionId: version.id, evaluation, decisionId: null })
  }

  for (const { e, version, removing } of removals) {
    const action = removalActionFor(e.event.platform)
    const appealReference = newAppealReference()
    const codes = removing.map((m) => m.ruleCode)
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
        noticeText: noticeFor(version.content, noticeKindOf(action), codes, e.event.platform, appealReference),
        noticeShortText: shortNotice(version.content, noticeKindOf(action), codes, appealReference),
        // Meta's 7-day window for a private reply runs from the comment; an edit is no later than that.
        postedAt: new Date(e.event.platformTime),
        appealReference,
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
  // Comments created by the delivery statement were inserted with that result (statusAtInsert).
  const flaggedIds = flagged.map((f) => f.e.commentId).filter((id) => !created.has(id))
  const allowed = outcomes.filter((o) => o.evaluation?.outcome === 'allow' && !created.has(o.commentId)).map((o) => o.commentId)
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
