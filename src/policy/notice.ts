// Notice templates: the message the author of a removed or flagged comment receives.
//
// A template is plain text with placeholders in braces. The known placeholders are listed in
// NOTICE_PLACEHOLDERS; anything else in braces, and a stray "{" or "}", is a validation error
// (reported by the policy schema), so a notice can never go out with a literal "{typo}" in it.

export const NOTICE_PLACEHOLDERS = ['ruleCode', 'ruleTitle', 'ruleText', 'policyUrl', 'appealUrl', 'platform', 'rules'] as const
export type NoticePlaceholder = (typeof NOTICE_PLACEHOLDERS)[number]
export type NoticeVars = Partial<Record<NoticePlaceholder, string>>

/** A rule's paragraph in a notice: the rule, in the words of the policy version. */
export const RULE_PLACEHOLDERS: readonly NoticePlaceholder[] = ['ruleCode', 'ruleTitle', 'ruleText', 'policyUrl', 'appealUrl', 'platform']
/** A notice for an action: {rules} is where the cited rules' paragraphs go, each rule once. */
export const ACTION_PLACEHOLDERS: readonly NoticePlaceholder[] = ['platform', 'policyUrl', 'appealUrl', 'rules']
const TOKEN = /\{([^{}]*)\}|[{}]/g

export interface TemplateProblem {
  /** UTF-16 offset of the problem in the template. */
  offset: number
  message: string
}

/** Every problem of a template (unknown placeholder, unbalanced brace), in order. */
export function templateProblems(template: string, allowed: readonly NoticePlaceholder[] = RULE_PLACEHOLDERS): TemplateProblem[] {
  const KNOWN = new Set<string>(allowed)
  const problems: TemplateProblem[] = []
  for (const m of template.matchAll(TOKEN)) {
    const name = m[1]
    if (name === undefined) {
      problems.push({ offset: m.index, message: `unbalanced "${m[0]}" at offset ${m.index} (placeholders look like {ruleCode})` })
    } else if (!KNOWN.has(name)) {
      problems.push({
        offset: m.index,
        message: `unknown placeholder {${name}} at offset ${m.index}; known here: ${allowed.map((p) => `{${p}}`).join(' ')}`,
      })
    }
  }
  return problems
}

/** Fills the placeholders of a template. Throws on a template the schema would reject. */
export function renderNotice(template: string, vars: NoticeVars, allowed: readonly NoticePlaceholder[] = RULE_PLACEHOLDERS): string {
  const problems = templateProblems(template, allowed)
  if (problems.length > 0) throw new Error(`invalid notice template: ${problems.map((p) => p.message).join('; ')}`)
  return template.replace(TOKEN, (_whole, name: string) => vars[name as NoticePlaceholder] ?? '')
}

/** Display names for the platforms, for the {platform} placeholder. */
export const PLATFORM_DISPLAY_NAMES: Readonly<Record<string, string>> = {
  facebook: 'Facebook',
  instagram: 'Instagram',
  x: 'X',
  linkedin: 'LinkedIn',
  website: 'the city website',
}
