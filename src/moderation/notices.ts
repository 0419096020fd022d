import { PLATFORM_DISPLAY_NAMES, renderNotice } from '../policy/notice.js'
import type { PolicyVersionContent } from '../policy/rules.js'
import type { Platform } from '../webhooks/platforms/index.js'

/** X refuses a post longer than this, and the notice on X is a reply. */
const X_LIMIT = 280

/**
 * The notice the author of a removed or hidden comment receives: each cited rule's template,
 * rendered, then the appeal address and the author's appeal reference (src/moderation/appeal-reference.ts),
 * which only this notice carries. On X, where the notice is a reply limited to 280 characters, a
 * compact form names the rules and links the policy and appeals; the reference is always kept whole.
 */
export function noticeFor(content: PolicyVersionContent, cited: ReadonlyArray<{ ruleCode: string }>, platform: Platform, appealReference: string): string {
  const rules = cited.map((c) => content.rules.find((r) => r.code === c.ruleCode)!)
  const rendered = rules
    .map((rule) =>
      renderNotice(rule.noticeTemplate, {
        ruleCode: rule.code,
        ruleTitle: rule.title,
        policyUrl: content.policyUrl,
        appealUrl: content.appealUrl,
        platform: PLATFORM_DISPLAY_NAMES[platform] ?? platform,
      }),
    )
    .join('\n\n')
  const full = `${rendered}\n\nTo appeal, go to ${content.appealUrl} and give your appeal reference: ${appealReference}`
  if (platform !== 'x' || full.length <= X_LIMIT) return full
  const codes = rules.map((r) => r.code).join(', ')
  const compact = `Your reply was hidden under rule ${codes} of the City's comment policy: ${content.policyUrl} To appeal: ${content.appealUrl} reference ${appealReference}`
  // The reference first, so that cutting to the limit never cuts it.
  return compact.length <= X_LIMIT ? compact : `Appeal reference ${appealReference}: ${content.appealUrl} Hidden under rule ${codes}. Policy: ${content.policyUrl}`.slice(0, X_LIMIT)
}

/** Shown where a notice is previewed (a policy dry run): a real one carries the author's reference. */
export const SAMPLE_APPEAL_REFERENCE = 'XXXXX-XXXXX'

export const RESTORED_NOTICE =
  'Your comment has been restored after review. Thank you for your patience. (City Technical Services Team)'
