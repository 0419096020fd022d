import { authorHistories } from '../comments/history.js'
import type { Tx } from '../db/tx.js'
import type { CompiledPolicy } from './compile.js'
import { evaluate } from './evaluate.js'
import type { Outcome, RuleMatch } from './rules.js'
import { numberOf, versionNumbers } from './version-numbers.js'

export interface ImpactChange {
  commentId: string
  eventId: string
  platform: string
  platformTime: string
  text: string
  actual: { outcome: Outcome | 'unevaluated'; policyVersionId: string | null; policyVersion: number | null }
  proposed: { outcome: Outcome; matches: RuleMatch[] }
}

export interface ImpactReport {
  evaluated: number
  /** Counts by "actual → proposed" outcome, e.g. { "allow→remove": 3 }. */
  transitions: Record<string, number>
  changed: ImpactChange[]
  /** More comments than `limit` were in the range: only the first were replayed. */
  truncated: boolean
}

/**
 * Replays the comment versions posted in [from, to) through a policy version (a draft included)
 * and reports which would get another outcome than they actually got. The city's own comments are
 * skipped, as in production.
 */
export async function policyImpact(tx: Tx, compiled: CompiledPolicy, range: { from: Date; to: Date; limit: number }): Promise<ImpactReport> {
  const rows = await tx.$queryRaw<Array<{ event_id: string; comment_id: string; platform: string; author_id: string | null; platform_time: Date; text: string; outcome: string | null; policy_version_id: string | null }>>`
    SELECT e.id::text AS event_id, c.id::text AS comment_id, c.platform, c.author_id, e.platform_time, e.text, ev.outcome, ev.policy_version_id::text
      FROM comment_event e
      JOIN comment c ON c.id = e.comment_id
      LEFT JOIN comment_evaluation ev ON ev.event_id = e.id
     WHERE e.kind IN ('created', 'edited') AND NOT c.by_city AND e.platform_time >= ${range.from} AND e.platform_time < ${range.to}
     ORDER BY e.platform_time, e.id
     LIMIT ${range.limit + 1}`
  const truncated = rows.length > range.limit
  const replay = rows.slice(0, range.limit)
  const numbers = await versionNumbers(tx, replay.map((r) => r.policy_version_id))
  const windowMs = Math.max(0, ...compiled.repetition.map((r) => r.windowMs))
  const histories = await authorHistories(
    tx,
    replay.map((r) => ({ commentId: r.comment_id, platform: r.platform, authorId: r.author_id, platformTime: r.platform_time, windowMs })),
  )
  const transitions: Record<string, number> = {}
  const changed: ImpactChange[] = []
  replay.forEach((row, i) => {
    const evaluation = evaluate(compiled, { text: row.text, authorHistory: histories[i]!, platformTime: row.platform_time.toISOString() })
    const actual = (row.outcome ?? 'unevaluated') as Outcome | 'unevaluated'
    const key = `${actual}→${evaluation.outcome}`
    transitions[key] = (transitions[key] ?? 0) + 1
    if (actual !== evaluation.outcome) {
      changed.push({
        commentId: row.comment_id,
        eventId: row.event_id,
        platform: row.platform,
        platformTime: row.platform_time.toISOString(),
        text: row.text,
        actual: { outcome: actual, policyVersionId: row.policy_version_id, policyVersion: numberOf(numbers, row.policy_version_id) },
        proposed: { outcome: evaluation.outcome, matches: evaluation.matches },
      })
    }
  })
  return { evaluated: replay.length, transitions, changed, truncated }
}
