import { DEFAULT_NOTICES } from '../policy/default-policy.js'
import { ACTION_PLACEHOLDERS, PLATFORM_DISPLAY_NAMES, renderNotice } from '../policy/notice.js'
import type { NoticeKind, PolicyVersionContent, Rule } from '../policy/rules.js'
import type { Platform } from '../webhooks/platforms/index.js'

export type { NoticeKind } from '../policy/rules.js'

/** X refuses a post longer than this, and the notice on X is a reply. */
export const X_LIMIT = 280

/** The notice kinds that end with the appeal address and the author's appeal reference. */
export const APPEALABLE_KINDS: ReadonlySet<NoticeKind> = new Set(['removed', 'hidden'])

/** What a removal or hide notice says was done, by the platform action taken. */
export const noticeKindOf = (action: 'remove' | 'hide'): NoticeKind => (action === 'remove' ? 'removed' : 'hidden')

/**
 * The notice for what was actually done (`kind`), in the words of the policy version: the
 * version's template for that action (the default when it has none) with `{rules}` replaced by the
 * cited rules' paragraphs, each rule once, in the order cited. A removal or hide notice ends with
 * the appeal address and the author's appeal reference (src/moderation/appeal-reference.ts), which
 * only this notice carries.
 *
 * A version published before notice templates (no `notices`) is rendered with the defaults only:
 * its rules' `noticeTemplate` paragraphs were written for one action whatever the action was (a
 * removal under a `flag` rule told the author the comment was "held for review").
 *
 * On X and LinkedIn, where the notice can only be a public reply, shortNotice() is what is sent.
 */
export function noticeFor(content: PolicyVersionContent, kind: NoticeKind, ruleCodes: readonly string[], platform: Platform, appealReference?: string): string {
  const codes = [...new Set(ruleCodes)]
  const rules = codes.map((code) => {
    const rule = content.rules.find((r) => r.code === code)
    if (!rule) throw new Error(`noticeFor: rule ${code} is not in this policy version`)
    return rule
  })
  const templates = content.notices
  const platformName = PLATFORM_DISPLAY_NAMES[platform] ?? platform
  const base = { policyUrl: content.policyUrl, appealUrl: content.appealUrl, platform: platformName }
  const paragraph = (rule: Rule) =>
    renderNotice((templates !== undefined ? rule.noticeTemplate : undefined) ?? templates?.rule ?? DEFAULT_NOTICES.rule, {
      ...base,
      ruleCode: rule.code,
      ruleTitle: rule.title,
      ruleText: rule.sectionText,
    })
  const template = templates?.[kind] ?? DEFAULT_NOTICES[kind]
  let full = renderNotice(template, { ...base, rules: rules.map(paragraph).join('\n\n') }, ACTION_PLACEHOLDERS)
  const appealable = APPEALABLE_KINDS.has(kind)
  if (appealable) {
    if (appealReference === undefined) throw new Error(`noticeFor: a ${kind} notice needs the author's appeal reference`)
    full += `\n\nTo appeal, go to ${content.appealUrl} and give your appeal reference: ${appealReference}`
  }
  return full
}

const COMPACT_OPENING: Record<NoticeKind, string> = {
  removed: 'Your reply was removed',
  hidden: 'Your reply was hidden',
  held: 'Your reply is held for review',
  restored: 'Your reply was restored after review',
  appealUpheld: 'Your appeal was decided by another staff member: the decision stands',
  appealReversed: 'Your appeal was decided by another staff member: the decision was reversed',
}

/**
 * The short public reply for X and LinkedIn (at most 280 characters): what was done, the rules by
 * code, and where the full notice is (the appeal page, under the reference); the reference is always
 * kept whole. Without a reference (a restore, an appeal's outcome) it points to the policy.
 */
export function shortNotice(content: PolicyVersionContent, kind: NoticeKind, ruleCodes: readonly string[], appealReference?: string): string {
  const codes = [...new Set(ruleCodes)]
  const rules = codes.length > 0 && kind !== 'restored' && kind !== 'appealReversed' ? ` (rule ${codes.join(', ')})` : ''
  if (appealReference === undefined) return `${COMPACT_OPENING[kind]}${rules}. City comment policy: ${content.policyUrl}`.slice(0, X_LIMIT)
  const compact = `${COMPACT_OPENING[kind]}${rules} under the City's comment policy. Why, and how to appeal: ${content.appealUrl} reference ${appealReference}`
  // The reference first, so that cutting to the limit never cuts it.
  return compact.length <= X_LIMIT ? compact : `Appeal reference ${appealReference}: ${content.appealUrl} ${COMPACT_OPENING[kind]}${rules}. Policy: ${content.policyUrl}`.slice(0, X_LIMIT)
}

/** Shown where a notice is previewed (a policy dry run, a proposed decision): a real one carries the author's reference. */
export const SAMPLE_APPEAL_REFERENCE = 'XXXXX-XXXXX'
