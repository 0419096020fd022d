import { z } from 'zod'
import { DateParam } from '../http/dates.js'
import { RULE_FIELDS } from './diff.js'
import { Evaluation, EvaluationInput, Outcome, PolicyVersionContent, RuleMatch } from './rules.js'

export { Evaluation, EvaluationInput }

export const PolicyInput = z.object({
  name: z.string().min(1).max(200),
  description: z.string().max(5000).default(''),
})

export const PolicySummary = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string(),
    createdAt: z.iso.datetime(),
    versions: z.array(
      z.object({ version: z.number().int(), status: z.enum(['draft', 'published']), effectiveFrom: z.iso.datetime().nullable(), publishedAt: z.iso.datetime().nullable() }),
    ),
  })
  .meta({ id: 'PolicySummary' })

export const PolicyList = z.object({ items: z.array(PolicySummary), nextCursor: z.string().nullable().describe('Always null: the whole list is one page') })

export const PolicyVersion = z
  .object({
    id: z.uuid(),
    policyId: z.uuid(),
    policyName: z.string(),
    version: z.number().int(),
    status: z.enum(['draft', 'published']),
    effectiveFrom: z.iso.datetime().nullable().describe('When it took (or takes) effect; null for drafts'),
    publishedAt: z.iso.datetime().nullable(),
    publishedBy: z.string().nullable(),
    ledgerEntryId: z.uuid().nullable().describe('The policy.published ledger entry'),
    createdAt: z.iso.datetime(),
    createdBy: z.string(),
    updatedAt: z.iso.datetime(),
    updatedBy: z.string(),
    content: PolicyVersionContent,
  })
  .meta({ id: 'PolicyVersion' })

export const PolicyVersionList = z.object({ items: z.array(PolicyVersion.omit({ content: true })), nextCursor: z.string().nullable().describe('Always null: the whole list is one page') })

export const PolicyParams = z.object({ id: z.uuid() })
export const VersionParams = z.object({ id: z.uuid(), version: z.coerce.number().int().min(1) })
export const DiffParams = z.object({ id: z.uuid(), a: z.coerce.number().int().min(1), b: z.coerce.number().int().min(1) })

export const DraftInput = z.object({
  content: PolicyVersionContent.optional().describe('The rules; when absent, a copy of basedOn (default: the latest version)'),
  basedOn: z.number().int().min(1).optional(),
})
export const DraftUpdate = z.object({ content: PolicyVersionContent })
export const PublishInput = z.object({
  effectiveFrom: DateParam.optional().describe('Default now; never in the past, and after every version already published'),
})

export const VersionDiff = z
  .object({
    a: z.number().int(),
    b: z.number().int(),
    added: z.array(z.string()).describe('Rule codes only in b'),
    removed: z.array(z.string()).describe('Rule codes only in a'),
    changed: z.array(
      z.object({
        code: z.string(),
        fields: z.array(z.enum(RULE_FIELDS)),
        matcherFields: z.array(z.string()).optional(),
        termsAdded: z.array(z.string()).optional(),
        termsRemoved: z.array(z.string()).optional(),
        denyDomainsAdded: z.array(z.string()).optional(),
        denyDomainsRemoved: z.array(z.string()).optional(),
      }),
    ),
    unchanged: z.array(z.string()),
    orderChanged: z.boolean(),
    policyUrlChanged: z.boolean(),
    appealUrlChanged: z.boolean(),
    noticesChanged: z.boolean().describe('The notice templates differ'),
  })
  .meta({ id: 'PolicyVersionDiff' })

export const DryRun = z
  .object({
    evaluation: Evaluation,
    noticeText: z.string().nullable().describe('The notice the author would receive if removed, with a sample appeal reference (XXXXX-XXXXX) where theirs would be'),
  })
  .meta({ id: 'PolicyDryRun' })

export const ImpactInput = z.object({
  from: DateParam.describe('Start (a plain date: from the start of that day)'),
  to: DateParam.describe('End, exclusive (a plain date: that day included)'),
  limit: z.number().int().min(1).max(20_000).default(5_000),
})

export const ImpactReport = z
  .object({
    evaluated: z.number().int(),
    transitions: z.record(z.string(), z.number().int()).describe('Counts by "actual→proposed" outcome'),
    changed: z.array(
      z.object({
        commentId: z.uuid(),
        eventId: z.uuid(),
        platform: z.string(),
        platformTime: z.iso.datetime(),
        text: z.string(),
        actual: z.object({ outcome: z.union([Outcome, z.literal('unevaluated')]), policyVersionId: z.string().nullable(), policyVersion: z.number().int().nullable().describe('The number of policyVersionId') }),
        proposed: z.object({ outcome: Outcome, matches: z.array(RuleMatch) }),
      }),
    ),
    truncated: z.boolean(),
  })
  .meta({ id: 'PolicyImpactReport' })
