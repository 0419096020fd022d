import { PLATFORM_DISPLAY_NAMES, renderNotice } from '../policy/notice.js'
import type { PolicyVersionContent } from '../policy/rules.js'
import type { Platform } from '../webhooks/platforms/index.js'

/** X refuses a post longer than this, and the notice on X is a reply. */
const X_LIMIT = 280

/**
 * The notice the author receives: each cited rule's template, rendered. On X, where the notice is a
 * reply limited to 280 characters, a compact form names the rules and links the policy and appeals.
 */
export function noticeFor(content: PolicyVersionContent, cited: ReadonlyArray<{ ruleCode: string }>, platform: Platform): string {
  const rules = cited.map((c) => content.rules.find((r) => r.code === c.ruleCode)!)
  const full = rules
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
  if (platform !== 'x' || full.length <= X_LIMIT) return full
  const codes = rules.map((r) => r.code).join(', ')
  const compact = `Your reply was hidden under rule ${codes} of the City's comment policy: ${content.policyUrl} You may appeal: ${content.appealUrl}`
  return compact.length <= X_LIMIT ? compact : `Hidden under rule ${codes}. Policy: ${content.policyUrl} Appeal: ${content.appealUrl}`.slice(0, X_LIMIT)
}

export const RESTORED_NOTICE =
  'Your comment has been restored after review. Thank you for your patience. (City Technical Services Team)'
