import { z } from 'zod'
import { DATE_FORMATS, isDateParam } from '../http/dates.js'

const Bound = z
  .string()
  .max(40)
  .refine((v) => /^\d{4}-(0[1-9]|1[0-2])$/.test(v) || isDateParam(v), { message: `must be a month YYYY-MM (UTC, the whole month) or ${DATE_FORMATS}` })
  .describe(`A month (YYYY-MM, UTC: the whole month), or ${DATE_FORMATS}`)

const Count = z.number().int().min(0)
const Rate = z.number().min(0).max(1).nullable()
const Month = z.string().regex(/^\d{4}-\d{2}$/).describe('YYYY-MM, UTC')

export const TransparencyQuery = z.object({
  from: Bound.optional().describe('Start (inclusive): a month means its first instant. Default: the 12 months up to to'),
  to: Bound.optional().describe('End (exclusive): a month means the end of that month, so it is included. Default: the end of the current month'),
})

const DecisionCounts = {
  total: Count,
  automatic: Count.describe('Taken by the automatic matcher'),
  byPerson: Count.describe('Taken by a moderator or administrator'),
}

const ActionCounts = z
  .record(z.string(), Count)
  .describe('Decisions by action: remove, hide (taken out of public view), approve, restore (left up or put back); every one listed')

const AppealCounts = {
  filed: Count,
  upheld: Count.describe('The decision stood'),
  reversed: Count.describe('The decision was reversed'),
  open: Count.describe('Not decided yet'),
  reversalRate: Rate.describe('reversed / (upheld + reversed); null when none is decided'),
}

export const TransparencyStats = z
  .object({
    range: z.object({ from: z.iso.datetime(), to: z.iso.datetime().describe('Exclusive') }),
    currentPolicy: z
      .object({ name: z.string(), version: z.number().int(), effectiveFrom: z.iso.datetime() })
      .nullable()
      .describe('The published policy version in force now (GET /v1/policies/current); null before any'),
    decisions: z
      .object({
        ...DecisionCounts,
        byAction: ActionCounts,
        withoutRuleCode: Count.describe('Decisions citing no rule (e.g. approvals)'),
        byMonth: z.array(z.object({ month: Month, ...DecisionCounts, byAction: ActionCounts })).describe('Every month of the range, oldest first, zeros included'),
        byPlatform: z.array(z.object({ platform: z.string(), ...DecisionCounts })).describe('Every platform, zeros included'),
        byRule: z
          .array(
            z.object({
              ruleCode: z.string().describe('The policy section cited'),
              category: z.string().nullable().describe('The rule\'s category in the policy version the decisions cite; null when unknown'),
              title: z.string().nullable().describe('The rule\'s title in the policy version the decisions cite; null when unknown'),
              policyVersions: z.array(z.number().int()).describe('The policy versions the decisions cite'),
              ...DecisionCounts,
            }),
          )
          .describe('A decision citing several rules counts under each. One row per code, category and title (a title reworded in a later version gets its own row); most frequent first'),
      })
      .describe('Moderation decisions taken in the range'),
    appeals: z
      .object({
        ...AppealCounts,
        byMonth: z.array(z.object({ month: Month, ...AppealCounts })).describe('By the month the appeal was filed, with its status now; every month of the range'),
      })
      .describe('Appeals filed in the range and what became of them'),
  })
  .describe('Counts only: no comment, author, person or individual decision is identified')
  .meta({ id: 'TransparencyStats' })

export const ConsistencyQuery = z.object({
  from: Bound.optional().describe('Only decisions (and evaluations) at or after this'),
  to: Bound.optional().describe('Only decisions (and evaluations) before this (a month: through its end)'),
  limit: z.coerce.number().int().min(1).max(500).default(50).describe('At most this many "same evidence, different decisions" groups'),
})

export const ConsistencyReport = z
  .object({
    range: z.object({ from: z.iso.datetime().nullable(), to: z.iso.datetime().nullable() }),
    rules: z
      .array(
        z.object({
          ruleCode: z.string(),
          matchedVersions: Count.describe('Comment versions the automatic matcher matched with the rule (evaluated in the range)'),
          personDecisionsCiting: Count.describe('Decisions by a person citing the rule (decided in the range)'),
          followUp: z
            .object({
              decided: Count.describe('Comments the matcher matched with the rule that a person decided afterwards (latest such decision, in the range)'),
              removedOrHidden: Count.describe('The person removed or hid it: agreed with the matcher'),
              approved: Count,
              restored: Count,
              agreementRate: Rate.describe('removedOrHidden / decided; null when none was decided'),
            })
            .describe('How people decided comments the matcher matched with this rule'),
        }),
      )
      .describe('Every rule code matched or cited, by code'),
    divergent: z
      .object({
        totalGroups: Count.describe('Groups found; only the first limit are listed'),
        groups: z.array(
          z.object({
            ruleCode: z.string(),
            evidenceText: z.string().describe('The matched text, lower case, trimmed, white space collapsed'),
            size: Count.describe('Comments in the group'),
            outcomes: z.record(z.string(), Count).describe('Comments by outcome: removed (remove, hide) or kept (approve, restore)'),
            comments: z.array(
              z.object({
                commentId: z.uuid(),
                platform: z.string(),
                decisionId: z.uuid().describe('The comment\'s latest decision (in the range)'),
                action: z.string(),
                outcome: z.string(),
                automatic: z.boolean(),
                actor: z.string().describe('system, or user:<sub>'),
                decidedAt: z.iso.datetime(),
              }),
            ),
          }),
        ),
      })
      .describe('Same evidence, different decisions: comments matched by the same rule on the same text whose latest decisions leave them in different outcomes; largest groups first'),
  })
  .meta({ id: 'ConsistencyReport' })
