// The comment policy as data: zod schemas are the single source of the types (also used for the
// API's request and response schemas).
//
// A policy VERSION is immutable content: an ordered list of rules plus the policy and appeal URLs.
// Rules target categories of content (obscenity, threats, private information, spam...), never
// opinions. Validation reports every problem at once, each with a path such as
// "rules[3].matcher.pattern" (see policyProblems / formatIssuePath).
import { RE2JS } from 're2js'
import { z } from 'zod'
import { DETECTOR_NAMES, normalizeDomain } from './detectors.js'
import { normalizeTerm } from './normalize.js'
import { ACTION_PLACEHOLDERS, templateProblems } from './notice.js'

export const RuleCategory = z
  .enum([
    'obscenity',
    'threats_of_violence',
    'harassment',
    'private_information',
    'spam_or_commercial_solicitation',
    'illegal_activity',
    'impersonation',
    'malicious_links',
    'other',
  ])
  .describe('The category of content a rule targets (categories, never opinions)')
export type RuleCategory = z.infer<typeof RuleCategory>

export const RuleAction = z
  .enum(['remove', 'flag'])
  .describe('remove: the comment is hidden/removed and the author notified; flag: queued for human review')
export type RuleAction = z.infer<typeof RuleAction>

export const MAX_TERMS = 5000

export const TermsMatcher = z
  .object({
    type: z.literal('terms'),
    terms: z
      .array(z.string().min(1).max(200))
      .min(1)
      .max(MAX_TERMS)
      .describe(
        'Words and phrases, matched as whole words, case-, accent-, look-alike- and leetspeak-insensitive; ' +
          'the words of a phrase match across any whitespace or punctuation',
      ),
  })
  .superRefine((m, ctx) => {
    m.terms.forEach((term, i) => {
      if (normalizeTerm(term) === '') {
        ctx.addIssue({ code: 'custom', path: ['terms', i], message: `term ${JSON.stringify(term)} is empty after normalization (only punctuation or invisible characters)` })
      }
    })
  })
  .describe('Matches any of a list of words and phrases')
export type TermsMatcher = z.infer<typeof TermsMatcher>

export const RegexMatcher = z
  .object({
    type: z.literal('regex'),
    pattern: z
      .string()
      .min(1)
      .max(2000)
      .describe('RE2 syntax (linear-time; no backreferences or lookaround), matched against the original text'),
    flags: z
      .object({ caseInsensitive: z.boolean().optional().describe('Match without regard to case') })
      .optional(),
  })
  .superRefine((m, ctx) => {
    const problem = re2Problem(m.pattern, m.flags?.caseInsensitive === true)
    if (problem !== null) ctx.addIssue({ code: 'custom', path: ['pattern'], message: problem })
  })
  .describe('Matches a regular expression (RE2)')
export type RegexMatcher = z.infer<typeof RegexMatcher>

export const LinksMatcher = z
  .object({
    type: z.literal('links'),
    denyDomains: z
      .array(z.string().min(1).max(253))
      .max(MAX_TERMS)
      .describe('Domains whose links (including subdomains) match; case-insensitive, trailing dots ignored'),
    shorteners: z.boolean().describe('Also match links through a known link shortener (bit.ly, tinyurl.com, t.co...)'),
  })
  .superRefine((m, ctx) => {
    m.denyDomains.forEach((d, i) => {
      if (normalizeDomain(d) === null) ctx.addIssue({ code: 'custom', path: ['denyDomains', i], message: `${JSON.stringify(d)} is not a domain name` })
    })
    if (m.denyDomains.length === 0 && !m.shorteners) {
      ctx.addIssue({ code: 'custom', path: ['denyDomains'], message: 'matches nothing: give denyDomains or set shorteners' })
    }
  })
  .describe('Matches links to deny-listed domains and link shorteners')
export type LinksMatcher = z.infer<typeof LinksMatcher>

export const DetectorName = z.enum(DETECTOR_NAMES).describe('A private information detector')
export type DetectorName = z.infer<typeof DetectorName>

export const PrivateInformationMatcher = z
  .object({
    type: z.literal('private_information'),
    detectors: z
      .array(DetectorName)
      .min(1)
      .describe('phone: US phone numbers; email: e-mail addresses; ssn: US social security numbers; street_address: US street addresses'),
  })
  .superRefine((m, ctx) => {
    const seen = new Set<string>()
    m.detectors.forEach((d, i) => {
      if (seen.has(d)) ctx.addIssue({ code: 'custom', path: ['detectors', i], message: `detector ${d} is listed twice` })
      seen.add(d)
    })
  })
  .describe('Matches private information (phone numbers, e-mail addresses, SSNs, street addresses)')
export type PrivateInformationMatcher = z.infer<typeof PrivateInformationMatcher>

export const RepetitionMatcher = z
  .object({
    type: z.literal('repetition'),
    minCount: z.number().int().min(2).max(1000).describe('Matches when this many same or near-same comments (including this one) arrive within the window'),
    windowMinutes: z.number().positive().max(60 * 24 * 30).describe('The window before the comment, in minutes'),
    similarity: z
      .number()
      .min(0)
      .max(1)
      .describe('Minimum similarity (Jaccard index of character 3-gram sets of the normalized texts; 1 = same text)'),
  })
  .describe("Matches repeated posting of the same or nearly the same comment by one author")
export type RepetitionMatcher = z.infer<typeof RepetitionMatcher>

export const Matcher = z
  .discriminatedUnion('type', [TermsMatcher, RegexMatcher, LinksMatcher, PrivateInformationMatcher, RepetitionMatcher])
  .describe('How a rule recognizes content')
  .meta({ id: 'PolicyMatcher' })
export type Matcher = z.infer<typeof Matcher>

export const RULE_CODE = /^[0-9A-Za-z][0-9A-Za-z.-]{0,31}$/

export const Rule = z
  .object({
    code: z.string().regex(RULE_CODE).describe('The policy section the rule implements, e.g. "4.b"; unique within a version'),
    title: z.string().min(1).max(200).describe('Short title, shown to the author in the notice'),
    sectionText: z.string().min(1).max(10_000).describe('The published text of the policy section, in plain language'),
    category: RuleCategory,
    action: RuleAction,
    noticeTemplate: z
      .string()
      .min(1)
      .max(5000)
      .optional()
      .describe(
        "This rule's paragraph in a notice, whatever the action (the action's template in `notices` says what was done); placeholders: {ruleCode} {ruleTitle} {ruleText} {policyUrl} {appealUrl} {platform}. " +
          'Absent: `notices.rule`. Used only in versions that have `notices` (docs/moderation.md, "Notices").',
      ),
    matcher: Matcher,
  })
  .superRefine((rule, ctx) => {
    for (const p of rule.noticeTemplate === undefined ? [] : templateProblems(rule.noticeTemplate)) ctx.addIssue({ code: 'custom', path: ['noticeTemplate'], message: p.message })
  })
  .describe('One rule of the comment policy')
  .meta({ id: 'PolicyRule' })
export type Rule = z.infer<typeof Rule>

const HttpUrl = z.url({ protocol: /^https?$/ })

const actionTemplate = (what: string) =>
  z
    .string()
    .min(1)
    .max(5000)
    .superRefine((template, ctx) => {
      for (const p of templateProblems(template, ACTION_PLACEHOLDERS)) ctx.addIssue({ code: 'custom', message: p.message })
    })
    .optional()
    .describe(`${what}; placeholders: {platform} {policyUrl} {appealUrl} {rules} (the cited rules' paragraphs, each rule once)`)

/** The notice kinds: what was done, as the author is told. */
export const NOTICE_KINDS = ['removed', 'hidden', 'held', 'restored', 'appealUpheld', 'appealReversed'] as const
export type NoticeKind = (typeof NOTICE_KINDS)[number]

export const NoticeTemplates = z
  .strictObject({
    removed: actionTemplate('The comment was removed (deleted on the platform)'),
    hidden: actionTemplate('The comment was hidden from other readers'),
    held: actionTemplate('The comment is held for review by a person (shown in previews, not sent: on Facebook and Instagram it would spend the one private reply a removal needs)'),
    restored: actionTemplate('A removal or hide was undone by a moderator'),
    appealUpheld: actionTemplate("The author's appeal was decided and the decision stands"),
    appealReversed: actionTemplate("The author's appeal was decided and the decision was reversed"),
    rule: z
      .string()
      .min(1)
      .max(5000)
      .superRefine((template, ctx) => {
        for (const p of templateProblems(template)) ctx.addIssue({ code: 'custom', message: p.message })
      })
      .optional()
      .describe("A cited rule's paragraph, for rules without a noticeTemplate of their own; placeholders: {ruleCode} {ruleTitle} {ruleText} {policyUrl} {appealUrl} {platform}"),
  })
  .describe(
    'The notices sent to authors, per action, versioned with the rules. A template left out, or the whole object, uses the defaults (src/policy/default-policy.ts). ' +
      'Removal and hide notices end with the appeal address and the author\'s appeal reference, added by the service.',
  )
  .meta({ id: 'PolicyNoticeTemplates' })
export type NoticeTemplates = z.infer<typeof NoticeTemplates>

export const PolicyVersionContent = z
  .object({
    rules: z.array(Rule).max(1000).describe('The rules, in the order they are evaluated and reported'),
    policyUrl: HttpUrl.describe('Where the published policy can be read'),
    appealUrl: HttpUrl.describe('Where an author can appeal a decision'),
    notices: NoticeTemplates.optional(),
  })
  .superRefine(
    (content, ctx) => {
      // Runs even when some rule is malformed (`when` below), so the value is checked defensively:
      // a duplicate code is reported together with the other problems.
      const rules: unknown = (content as { rules?: unknown } | undefined)?.rules
      if (!Array.isArray(rules)) return
      const first = new Map<string, number>()
      rules.forEach((rule: unknown, i) => {
        const code = (rule as { code?: unknown } | null)?.code
        if (typeof code !== 'string') return
        const seen = first.get(code)
        if (seen !== undefined) {
          ctx.addIssue({ code: 'custom', path: ['rules', i, 'code'], message: `duplicate rule code ${JSON.stringify(code)} (also rules[${seen}])` })
        } else {
          first.set(code, i)
        }
      })
    },
    { when: () => true },
  )
  .describe('The content of one immutable policy version')
  .meta({ id: 'PolicyVersionContent' })
export type PolicyVersionContent = z.infer<typeof PolicyVersionContent>

// ---------------------------------------------------------------------------------------------
// Evaluation input and output (for the API as much as for evaluate.ts)

export const AuthorHistoryEntry = z.object({
  text: z.string().describe('An earlier comment by the same author'),
  platformTime: z.iso.datetime({ offset: true }).describe('When the platform says it was posted'),
})
export type AuthorHistoryEntry = z.infer<typeof AuthorHistoryEntry>

export const EvaluationInput = z
  .object({
    text: z.string().nullable().describe('The comment text (null: no text, e.g. a photo-only comment)'),
    authorHistory: z.array(AuthorHistoryEntry).max(10_000).optional().describe("The author's recent comments, for repetition rules"),
    platformTime: z.iso.datetime({ offset: true }).optional().describe('When the platform says this comment was posted (repetition windows end here)'),
  })
  .meta({ id: 'PolicyTextToEvaluate' })
export type EvaluationInput = z.infer<typeof EvaluationInput>

export const Evidence = z
  .object({
    start: z.number().int().describe('Start offset in the original text (UTF-16 code units, inclusive)'),
    end: z.number().int().describe('End offset in the original text (UTF-16 code units, exclusive)'),
    text: z.string().describe('The original text between start and end'),
    detail: z.string().optional().describe('What matched, e.g. the term, the detector, the domain'),
  })
  .describe('Where a rule matched')
export type Evidence = z.infer<typeof Evidence>

export const RuleMatch = z
  .object({
    ruleCode: z.string(),
    category: RuleCategory,
    action: RuleAction,
    evidence: z.array(Evidence).describe('By offset; at most MAX_EVIDENCE_PER_RULE items'),
    omittedEvidence: z.number().int().optional().describe('Further matches of this rule not listed (present only when > 0)'),
  })
  .describe('A rule that matched')
export type RuleMatch = z.infer<typeof RuleMatch>

export const Outcome = z.enum(['allow', 'flag', 'remove']).describe('remove if any matched rule removes, else flag if any flags, else allow')
export type Outcome = z.infer<typeof Outcome>

export const Evaluation = z
  .object({
    versionId: z.string().describe('The policy version evaluated against'),
    outcome: Outcome,
    matches: z.array(RuleMatch).describe('Matched rules, in policy order'),
  })
  .meta({ id: 'PolicyEvaluation' })
export type Evaluation = z.infer<typeof Evaluation>

// ---------------------------------------------------------------------------------------------
// Validation helpers

/** The RE2 syntax error of a pattern, or null when it compiles. */
export function re2Problem(pattern: string, caseInsensitive: boolean): string | null {
  try {
    RE2JS.compile(pattern, caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0)
    return null
  } catch (err) {
    return `invalid RE2 regular expression: ${err instanceof Error ? err.message : String(err)}`
  }
}

/** Formats a zod issue path as `rules[3].matcher.pattern`. */
export function formatIssuePath(path: ReadonlyArray<PropertyKey>): string {
  let out = ''
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`
    else out += out === '' ? String(key) : `.${String(key)}`
  }
  return out
}

export interface PolicyProblem {
  path: string
  message: string
}

/** Sort key of an issue: the rule index for issues inside rules[i], -1 for the others. */
const ruleIndexOf = (path: ReadonlyArray<PropertyKey>) => (path[0] === 'rules' && typeof path[1] === 'number' ? path[1] : -1)

/** Validates policy content; every problem with its path, ordered by rule (zod's order within a rule). */
export function validatePolicyContent(input: unknown): { ok: true; content: PolicyVersionContent } | { ok: false; problems: PolicyProblem[] } {
  const result = PolicyVersionContent.safeParse(input)
  if (result.success) return { ok: true, content: result.data }
  const issues = [...result.error.issues].sort((a, b) => ruleIndexOf(a.path) - ruleIndexOf(b.path))
  return { ok: false, problems: issues.map((i) => ({ path: formatIssuePath(i.path), message: i.message })) }
}

export class PolicyValidationError extends Error {
  readonly problems: PolicyProblem[]
  constructor(problems: PolicyProblem[]) {
    super(`invalid policy: ${problems.map((p) => `${p.path || '(root)'}: ${p.message}`).join('; ')}`)
    this.name = 'PolicyValidationError'
    this.problems = problems
  }
}
