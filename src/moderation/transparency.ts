// Read models that show how the comment policy is applied: public transparency statistics (counts
// only, never a person, a text or an individual decision) and the staff consistency report (the
// matcher against the people, and comments with the same evidence that ended differently).
//
// Plain functions over SQL: (prisma, filters) in, data out. The routes only translate HTTP.
import type { PrismaClient } from '../generated/prisma/client.js'
import { instantOf } from '../http/dates.js'
import { ValidationProblem } from '../plugins/errors.js'

// ---------------------------------------------------------------------------------------------
// Time ranges

/** A half-open range [from, to). */
export interface DateRange {
  from: Date
  to: Date
}

/** The actions a decision takes (docs/policy.md); always listed, with 0 when none. */
export const DECISION_ACTIONS = ['remove', 'hide', 'approve', 'restore'] as const
/** Platforms always listed in the statistics, with 0 when none. */
export const PLATFORMS = ['facebook', 'instagram', 'x', 'linkedin', 'website'] as const
/** The longest range the statistics cover in one request (each month is listed, zeros included). */
export const MAX_STATS_MONTHS = 120

const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/

const startOfMonth = (year: number, monthIndex: number) => new Date(Date.UTC(year, monthIndex, 1))

/**
 * A `from` or `to` query value as an instant. A month ('YYYY-MM', UTC) is the whole month: as
 * `from` its first instant, as `to` the first instant of the next month (so `to=2026-03` includes
 * March). A datetime is taken as given (`to` is exclusive).
 */
export function parseBound(value: string, edge: 'from' | 'to', zone = 'UTC'): Date {
  const month = MONTH.exec(value)
  if (month) return startOfMonth(Number(month[1]), Number(month[2]) - 1 + (edge === 'to' ? 1 : 0))
  // A plain date is a day in the city's time zone (src/http/dates.ts); `to` includes it.
  return instantOf(value, zone, edge === 'from' ? 'start' : 'end')
}

/** 'YYYY-MM' of an instant, in UTC. */
export function monthOf(d: Date): string {
  return d.toISOString().slice(0, 7)
}

/** Every month the range touches, oldest first. */
export function monthsOf(range: DateRange): string[] {
  const months: string[] = []
  const last = new Date(range.to.getTime() - 1)
  for (let d = startOfMonth(range.from.getUTCFullYear(), range.from.getUTCMonth()); d <= last; d = startOfMonth(d.getUTCFullYear(), d.getUTCMonth() + 1)) {
    months.push(monthOf(d))
  }
  return months
}

function checkOrder(range: { from: Date | null; to: Date | null }) {
  if (range.from && range.to && range.from >= range.to) {
    throw new ValidationProblem('The range is empty: from must be before to.', [{ path: 'querystring:$.to', message: 'must be after from' }])
  }
}

/**
 * The range of the statistics: by default the last 12 months (the current UTC month and the 11
 * before it, whole months). With only `to`, the 12 months up to it; with only `from`, up to the
 * end of the current month.
 */
export function statsRange(query: { from?: string | undefined; to?: string | undefined }, now: Date, zone = 'UTC'): DateRange {
  const to = query.to !== undefined ? parseBound(query.to, 'to', zone) : startOfMonth(now.getUTCFullYear(), now.getUTCMonth() + 1)
  let from: Date
  if (query.from !== undefined) {
    from = parseBound(query.from, 'from', zone)
  } else {
    const last = new Date(to.getTime() - 1)
    from = startOfMonth(last.getUTCFullYear(), last.getUTCMonth() - 11)
  }
  checkOrder({ from, to })
  const range = { from, to }
  if (monthsOf(range).length > MAX_STATS_MONTHS) {
    throw new ValidationProblem(`The range covers more than ${MAX_STATS_MONTHS} months: ask for it in parts.`, [
      { path: 'querystring:$.from', message: `at most ${MAX_STATS_MONTHS} months before to` },
    ])
  }
  return range
}

/** The optional range of the consistency report (either end may be open). */
export function optionalRange(query: { from?: string | undefined; to?: string | undefined }, zone = 'UTC'): { from: Date | null; to: Date | null } {
  const range = {
    from: query.from !== undefined ? parseBound(query.from, 'from', zone) : null,
    to: query.to !== undefined ? parseBound(query.to, 'to', zone) : null,
  }
  checkOrder(range)
  return range
}

const rate = (part: number, whole: number) => (whole === 0 ? null : part / whole)

// ---------------------------------------------------------------------------------------------
// Public statistics

export interface DecisionCounts {
  total: number
  automatic: number
  byPerson: number
}

export interface TransparencyStats {
  range: DateRange
  currentPolicy: { name: string; version: number; effectiveFrom: Date } | null
  decisions: DecisionCounts & {
    byAction: Record<string, number>
    withoutRuleCode: number
    byMonth: Array<{ month: string } & DecisionCounts & { byAction: Record<string, number> }>
    byPlatform: Array<{ platform: string } & DecisionCounts>
    byRule: Array<{ ruleCode: string; category: string | null; title: string | null; policyVersions: number[] } & DecisionCounts>
  }
  appeals: AppealCounts & { byMonth: Array<{ month: string } & AppealCounts> }
}

export interface AppealCounts {
  filed: number
  upheld: number
  reversed: number
  open: number
  reversalRate: number | null
}

const zeroActions = (): Record<string, number> => Object.fromEntries(DECISION_ACTIONS.map((a) => [a, 0]))
const zeroCounts = (): DecisionCounts => ({ total: 0, automatic: 0, byPerson: 0 })

function addTo(counts: DecisionCounts, automatic: boolean, n: number) {
  counts.total += n
  if (automatic) counts.automatic += n
  else counts.byPerson += n
}

/**
 * Counts of the moderation decisions taken in the range and of the appeals filed in it. Nothing
 * here identifies a person, a comment or a decision: only counts, months, platforms, actions and
 * the policy's own rule codes, categories and titles. Read in one snapshot, so the parts add up.
 */
export async function transparencyStats(prisma: PrismaClient, filters: { range: DateRange; now: Date }): Promise<TransparencyStats> {
  const { from, to } = filters.range
  const { cube, rules, withoutRule, appeals, policy } = await prisma.$transaction(
    async (tx) => {
      const cube = await tx.$queryRaw<Array<{ month: string; platform: string; action: string; automatic: boolean; n: number }>>`
        SELECT to_char(md.decided_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month, coalesce(c.platform, 'unknown') AS platform,
               md.action, md.automatic, count(*)::int AS n
          FROM moderation_decision md
          LEFT JOIN comment c ON c.id = md.comment_id
         WHERE md.decided_at >= ${from} AND md.decided_at < ${to}
         GROUP BY 1, 2, 3, 4`
      // A decision citing several rules counts once under each; the category and title are those
      // of the version the decision cites (null when it cites none or the code is not in it).
      const rules = await tx.$queryRaw<Array<{ rule_code: string; category: string | null; title: string | null; versions: number[] | null; total: number; automatic: number }>>`
        SELECT code AS rule_code, rule->>'category' AS category, rule->>'title' AS title,
               array_agg(DISTINCT pv.version ORDER BY pv.version) FILTER (WHERE pv.version IS NOT NULL) AS versions,
               count(*)::int AS total, (count(*) FILTER (WHERE md.automatic))::int AS automatic
          FROM moderation_decision md
          CROSS JOIN LATERAL (SELECT DISTINCT unnest(md.rule_codes) AS code) codes
          LEFT JOIN policy_version pv ON pv.id = md.policy_version_id
          LEFT JOIN LATERAL (
            SELECT r AS rule FROM jsonb_array_elements(CASE WHEN jsonb_typeof(pv.content->'rules') = 'array' THEN pv.content->'rules' ELSE '[]'::jsonb END) r
             WHERE r->>'code' = codes.code LIMIT 1
          ) cited ON true
         WHERE md.decided_at >= ${from} AND md.decided_at < ${to}
         GROUP BY 1, 2, 3
         ORDER BY total DESC, rule_code, category NULLS LAST, title NULLS LAST`
      const [withoutRule] = await tx.$queryRaw<Array<{ n: number }>>`
        SELECT count(*)::int AS n FROM moderation_decision
         WHERE decided_at >= ${from} AND decided_at < ${to} AND coalesce(cardinality(rule_codes), 0) = 0`
      const appeals = await tx.$queryRaw<Array<{ month: string; status: string; n: number }>>`
        SELECT to_char(filed_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month, status, count(*)::int AS n
          FROM appeal
         WHERE filed_at >= ${from} AND filed_at < ${to}
         GROUP BY 1, 2`
      const [policy] = await tx.$queryRaw<Array<{ name: string; version: number; effective_from: Date }>>`
        SELECT p.name, pv.version, pv.effective_from
          FROM policy_version pv JOIN policy p ON p.id = pv.policy_id
         WHERE pv.status = 'published' AND pv.effective_from <= ${filters.now}
         ORDER BY pv.effective_from DESC
         LIMIT 1`
      return { cube, rules, withoutRule, appeals, policy }
    },
    { isolationLevel: 'RepeatableRead', maxWait: 5_000, timeout: 30_000 },
  )

  const months = monthsOf(filters.range)
  const byMonth = new Map(months.map((month) => [month, { month, ...zeroCounts(), byAction: zeroActions() }]))
  const byPlatform = new Map<string, { platform: string } & DecisionCounts>(PLATFORMS.map((platform) => [platform, { platform, ...zeroCounts() }]))
  const totals = zeroCounts()
  const byAction = zeroActions()
  for (const row of cube) {
    addTo(totals, row.automatic, row.n)
    byAction[row.action] = (byAction[row.action] ?? 0) + row.n
    const month = byMonth.get(row.month)
    if (month) {
      addTo(month, row.automatic, row.n)
      month.byAction[row.action] = (month.byAction[row.action] ?? 0) + row.n
    }
    let platform = byPlatform.get(row.platform)
    if (!platform) byPlatform.set(row.platform, (platform = { platform: row.platform, ...zeroCounts() }))
    addTo(platform, row.automatic, row.n)
  }

  const zeroAppeals = (): AppealCounts => ({ filed: 0, upheld: 0, reversed: 0, open: 0, reversalRate: null })
  const appealMonths = new Map(months.map((month) => [month, { month, ...zeroAppeals() }]))
  const appealTotals = zeroAppeals()
  for (const row of appeals) {
    for (const counts of [appealTotals, appealMonths.get(row.month)]) {
      if (!counts) continue
      counts.filed += row.n
      if (row.status === 'upheld' || row.status === 'reversed' || row.status === 'open') counts[row.status] += row.n
    }
  }
  for (const counts of [appealTotals, ...appealMonths.values()]) counts.reversalRate = rate(counts.reversed, counts.upheld + counts.reversed)

  return {
    range: filters.range,
    currentPolicy: policy ? { name: policy.name, version: policy.version, effectiveFrom: policy.effective_from } : null,
    decisions: {
      ...totals,
      byAction,
      withoutRuleCode: withoutRule?.n ?? 0,
      byMonth: [...byMonth.values()],
      byPlatform: [...byPlatform.values()],
      byRule: rules.map((r) => ({
        ruleCode: r.rule_code,
        category: r.category,
        title: r.title,
        policyVersions: r.versions ?? [],
        total: r.total,
        automatic: r.automatic,
        byPerson: r.total - r.automatic,
      })),
    },
    appeals: { ...appealTotals, byMonth: [...appealMonths.values()] },
  }
}

// ---------------------------------------------------------------------------------------------
// Consistency report (staff)

/**
 * What a decision leaves visible. remove and hide both take a comment out of public view (X only
 * allows hiding), approve and restore both leave it up, so comparing outcomes rather than raw
 * actions keeps platform differences from looking like inconsistency.
 */
export function outcomeOf(action: string): string {
  if (action === 'remove' || action === 'hide') return 'removed'
  if (action === 'approve' || action === 'restore') return 'kept'
  return action
}

export interface RuleConsistency {
  ruleCode: string
  /** Comment versions whose automatic evaluation matched the rule (evaluated in the range). */
  matchedVersions: number
  /** Decisions by a person citing the rule (decided in the range). */
  personDecisionsCiting: number
  /** Comments the matcher matched for the rule that a person decided afterwards: that person's latest decision. */
  followUp: { decided: number; removedOrHidden: number; approved: number; restored: number; agreementRate: number | null }
}

export interface DivergentComment {
  commentId: string
  platform: string
  decisionId: string
  action: string
  outcome: string
  automatic: boolean
  actor: string
  decidedAt: Date
}

export interface DivergentGroup {
  ruleCode: string
  /** The matched text, normalized: lower case, trimmed, runs of white space as one space. */
  evidenceText: string
  size: number
  outcomes: Record<string, number>
  comments: DivergentComment[]
}

export interface ConsistencyReport {
  range: { from: Date | null; to: Date | null }
  rules: RuleConsistency[]
  divergent: { totalGroups: number; groups: DivergentGroup[] }
}

/**
 * (a) Per rule code: how often the matcher matched it, how often people cited it, and, for the
 * comments it matched that a person decided afterwards, whether the person removed or hid them
 * (agreement) or approved or restored them. (b) "Same evidence, different decisions": comments
 * whose evaluations matched the same rule on the same evidence text (normalized) but whose latest
 * decisions (in the range, so as of its end) leave them in different outcomes; largest groups first.
 */
export async function consistencyReport(prisma: PrismaClient, filters: { from: Date | null; to: Date | null; limit: number }): Promise<ConsistencyReport> {
  const { from, to, limit } = filters
  const { rules, members } = await prisma.$transaction(
    async (tx) => {
      const rules = await tx.$queryRaw<
        Array<{ rule_code: string; matched_versions: number; person_decisions: number; decided: number; removed_or_hidden: number; approved: number; restored: number }>
      >`
        WITH matched AS (
          SELECT DISTINCT ev.event_id, ev.comment_id, ev.evaluated_at, m->>'ruleCode' AS rule_code
            FROM comment_evaluation ev
            CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(ev.matches) = 'array' THEN ev.matches ELSE '[]'::jsonb END) m
           WHERE m->>'ruleCode' IS NOT NULL
        ),
        matched_counts AS (
          SELECT rule_code, count(*)::int AS n
            FROM matched
           WHERE (${from}::timestamptz IS NULL OR evaluated_at >= ${from}) AND (${to}::timestamptz IS NULL OR evaluated_at < ${to})
           GROUP BY rule_code
        ),
        cited AS (
          SELECT codes.code AS rule_code, count(*)::int AS n
            FROM moderation_decision md
            CROSS JOIN LATERAL (SELECT DISTINCT unnest(md.rule_codes) AS code) codes
           WHERE NOT md.automatic
             AND (${from}::timestamptz IS NULL OR md.decided_at >= ${from}) AND (${to}::timestamptz IS NULL OR md.decided_at < ${to})
           GROUP BY codes.code
        ),
        first_match AS (
          SELECT rule_code, comment_id, min(evaluated_at) AS matched_at FROM matched GROUP BY rule_code, comment_id
        ),
        follow_up AS (
          SELECT fm.rule_code, d.action
            FROM first_match fm
            CROSS JOIN LATERAL (
              SELECT md.action FROM moderation_decision md
               WHERE md.comment_id = fm.comment_id AND NOT md.automatic AND md.decided_at >= fm.matched_at
                 AND (${from}::timestamptz IS NULL OR md.decided_at >= ${from}) AND (${to}::timestamptz IS NULL OR md.decided_at < ${to})
               ORDER BY md.decided_at DESC, md.id DESC
               LIMIT 1
            ) d
        ),
        agreement AS (
          SELECT rule_code, count(*)::int AS decided,
                 (count(*) FILTER (WHERE action IN ('remove', 'hide')))::int AS removed_or_hidden,
                 (count(*) FILTER (WHERE action = 'approve'))::int AS approved,
                 (count(*) FILTER (WHERE action = 'restore'))::int AS restored
            FROM follow_up
           GROUP BY rule_code
        ),
        codes AS (
          SELECT rule_code FROM matched_counts UNION SELECT rule_code FROM cited UNION SELECT rule_code FROM agreement
        )
        SELECT codes.rule_code, coalesce(mc.n, 0) AS matched_versions, coalesce(ci.n, 0) AS person_decisions,
               coalesce(a.decided, 0) AS decided, coalesce(a.removed_or_hidden, 0) AS removed_or_hidden,
               coalesce(a.approved, 0) AS approved, coalesce(a.restored, 0) AS restored
          FROM codes
          LEFT JOIN matched_counts mc ON mc.rule_code = codes.rule_code
          LEFT JOIN cited ci ON ci.rule_code = codes.rule_code
          LEFT JOIN agreement a ON a.rule_code = codes.rule_code
         ORDER BY codes.rule_code`

      const members = await tx.$queryRaw<
        Array<{
          rule_code: string
          evidence: string
          size: number
          total_groups: number
          comment_id: string
          platform: string
          decision_id: string
          action: string
          automatic: boolean
          actor: string
          decided_at: Date
        }>
      >`
        WITH evidence AS (
          SELECT DISTINCT ev.comment_id, m->>'ruleCode' AS rule_code,
                 btrim(regexp_replace(lower(e->>'text'), '[[:space:]]+', ' ', 'g')) AS evidence
            FROM comment_evaluation ev
            CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(ev.matches) = 'array' THEN ev.matches ELSE '[]'::jsonb END) m
            CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(m->'evidence') = 'array' THEN m->'evidence' ELSE '[]'::jsonb END) e
           WHERE m->>'ruleCode' IS NOT NULL AND e->>'text' IS NOT NULL
        ),
        latest AS (
          SELECT DISTINCT ON (md.comment_id) md.comment_id, md.id, md.action, md.automatic, md.actor, md.decided_at,
                 CASE WHEN md.action IN ('remove', 'hide') THEN 'removed' WHEN md.action IN ('approve', 'restore') THEN 'kept' ELSE md.action END AS outcome
            FROM moderation_decision md
           WHERE (${from}::timestamptz IS NULL OR md.decided_at >= ${from}) AND (${to}::timestamptz IS NULL OR md.decided_at < ${to})
           ORDER BY md.comment_id, md.decided_at DESC, md.id DESC
        ),
        groups AS (
          SELECT e.rule_code, e.evidence, count(*)::int AS size
            FROM evidence e JOIN latest l ON l.comment_id = e.comment_id
           WHERE e.evidence <> ''
           GROUP BY e.rule_code, e.evidence
          HAVING count(DISTINCT l.outcome) > 1
        ),
        top AS (
          SELECT rule_code, evidence, size, (count(*) OVER ())::int AS total_groups
            FROM groups
           ORDER BY size DESC, rule_code, evidence
           LIMIT ${limit}
        )
        SELECT top.rule_code, top.evidence, top.size, top.total_groups, l.comment_id::text AS comment_id, coalesce(c.platform, 'unknown') AS platform,
               l.id::text AS decision_id, l.action, l.automatic, l.actor, l.decided_at
          FROM top
          JOIN evidence e ON e.rule_code = top.rule_code AND e.evidence = top.evidence
          JOIN latest l ON l.comment_id = e.comment_id
          LEFT JOIN comment c ON c.id = l.comment_id
         ORDER BY top.size DESC, top.rule_code, top.evidence, l.action, l.decided_at, l.comment_id`
      return { rules, members }
    },
    { isolationLevel: 'RepeatableRead', maxWait: 5_000, timeout: 30_000 },
  )

  const groups: DivergentGroup[] = []
  for (const row of members) {
    let group = groups.at(-1)
    if (!group || group.ruleCode !== row.rule_code || group.evidenceText !== row.evidence) {
      groups.push((group = { ruleCode: row.rule_code, evidenceText: row.evidence, size: row.size, outcomes: {}, comments: [] }))
    }
    const outcome = outcomeOf(row.action)
    group.outcomes[outcome] = (group.outcomes[outcome] ?? 0) + 1
    group.comments.push({
      commentId: row.comment_id,
      platform: row.platform,
      decisionId: row.decision_id,
      action: row.action,
      outcome,
      automatic: row.automatic,
      actor: row.actor,
      decidedAt: row.decided_at,
    })
  }

  return {
    range: { from, to },
    rules: rules.map((r) => ({
      ruleCode: r.rule_code,
      matchedVersions: r.matched_versions,
      personDecisionsCiting: r.person_decisions,
      followUp: {
        decided: r.decided,
        removedOrHidden: r.removed_or_hidden,
        approved: r.approved,
        restored: r.restored,
        agreementRate: rate(r.removed_or_hidden, r.decided),
      },
    })),
    divergent: { totalGroups: members[0]?.total_groups ?? 0, groups },
  }
}
