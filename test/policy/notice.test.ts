import t from 'tap'
import { DEFAULT_POLICY } from '../../src/policy/default-policy.js'
import { ACTION_PLACEHOLDERS, NOTICE_PLACEHOLDERS, PLATFORM_DISPLAY_NAMES, renderNotice, RULE_PLACEHOLDERS, templateProblems } from '../../src/policy/notice.js'
import { validatePolicyContent } from '../../src/policy/rules.js'
import { noticeFor } from '../../src/moderation/notices.js'
import { content } from './fixtures/policy.js'

const vars = {
  ruleCode: '4.a',
  ruleTitle: 'Obscene or vulgar language',
  policyUrl: 'https://www.citykankakee-il.gov/social-media-policy',
  appealUrl: 'https://www.citykankakee-il.gov/comment-appeals',
  platform: 'Facebook',
}

t.test('renderNotice fills every placeholder', async (t) => {
  const template = RULE_PLACEHOLDERS.map((p) => `${p}={${p}}`).join('; ')
  t.equal(
    renderNotice(template, { ...vars, ruleText: 'Text.' }),
    'ruleCode=4.a; ruleTitle=Obscene or vulgar language; ruleText=Text.; policyUrl=https://www.citykankakee-il.gov/social-media-policy; ' +
      'appealUrl=https://www.citykankakee-il.gov/comment-appeals; platform=Facebook',
  )
  t.equal(renderNotice('{rules}', { rules: 'A\n\nB' }, ACTION_PLACEHOLDERS), 'A\n\nB')
  t.match(templateProblems('{ruleCode}', ACTION_PLACEHOLDERS), [{ message: /unknown placeholder \{ruleCode\}/ }], 'an action template has no single rule')
  t.ok(NOTICE_PLACEHOLDERS.includes('rules'))
  t.equal(renderNotice('{ruleCode} and {ruleCode} again', vars), '4.a and 4.a again')
  t.equal(renderNotice('no placeholders', vars), 'no placeholders')
  t.equal(renderNotice('{ruleTitle}', { ...vars, ruleTitle: 'Uses {appealUrl} literally' }), 'Uses {appealUrl} literally', 'values are not re-expanded')
  t.equal(PLATFORM_DISPLAY_NAMES.linkedin, 'LinkedIn')
})

t.test('unknown placeholders and stray braces are rejected', async (t) => {
  t.same(templateProblems('Hello {ruleCode}'), [])
  t.match(templateProblems('Hello {name}'), [{ offset: 6, message: /unknown placeholder \{name\}/ }])
  t.match(templateProblems('Hello {ruleCode'), [{ offset: 6, message: /unbalanced "\{"/ }])
  t.match(templateProblems('Hello }'), [{ offset: 6 }])
  t.match(templateProblems('{RuleCode}'), [{ message: /unknown placeholder/ }], 'placeholders are case-sensitive')
  t.throws(() => renderNotice('Hi {user}', vars), /unknown placeholder \{user\}/)

  const c = content({ matcher: { type: 'terms', terms: ['x'] } })
  c.rules[0]!.noticeTemplate = 'Removed under {ruleCode}; appeal at {appealLink}'
  const r = validatePolicyContent(c)
  t.notOk(r.ok)
  if (!r.ok) t.match(r.problems, [{ path: 'rules[0].noticeTemplate', message: /unknown placeholder \{appealLink\}/ }])
})

t.test('the default notices: each action template names what was done and keeps only known placeholders', async (t) => {
  t.notOk(DEFAULT_POLICY.rules.some((r) => r.noticeTemplate !== undefined), 'no rule carries an action-specific paragraph any more')
  for (const [kind, template] of Object.entries(DEFAULT_POLICY.notices ?? {})) {
    t.same(templateProblems(template, kind === 'rule' ? RULE_PLACEHOLDERS : ACTION_PLACEHOLDERS), [], kind)
  }
  t.match(DEFAULT_POLICY.notices?.removed, /was removed/)
  t.match(DEFAULT_POLICY.notices?.hidden, /was hidden/)
  t.match(DEFAULT_POLICY.notices?.held, /held for review/)
  t.notMatch(DEFAULT_POLICY.notices?.removed, /held/)
})

t.test("a version's own notice templates are used, per action and per rule; a version without them uses the defaults", async (t) => {
  const base = content({ matcher: { type: 'terms', terms: ['x'] } })
  const code = base.rules[0]!.code
  const custom = {
    ...base,
    rules: [{ ...base.rules[0]!, noticeTemplate: 'Rule {ruleCode} ({ruleTitle}) on {platform}.' }],
    notices: { removed: 'REMOVED on {platform}:\n{rules}\nPolicy {policyUrl}', restored: 'Back on {platform}.' },
  }
  t.ok(validatePolicyContent(custom).ok, 'valid')
  t.equal(
    noticeFor(custom, 'removed', [code, code], 'facebook', 'ABCDE-FGHJK'),
    `REMOVED on Facebook:\nRule ${code} (${base.rules[0]!.title}) on Facebook.\nPolicy ${base.policyUrl}\n\nTo appeal, go to ${base.appealUrl} and give your appeal reference: ABCDE-FGHJK`,
    "the version's removed template and the rule's own paragraph, once",
  )
  t.equal(noticeFor(custom, 'restored', [code], 'x'), 'Back on X.')
  t.match(noticeFor(custom, 'hidden', [code], 'x', 'ABCDE-FGHJK'), /^Your comment on X was hidden from other readers/, 'a template left out: the default')
  // A version without `notices` (published before them): the defaults, not the rule's old paragraph.
  const legacy = { ...base, rules: [{ ...base.rules[0]!, noticeTemplate: 'Your comment is being held for review under {ruleCode}.' }] }
  const text = noticeFor(legacy, 'removed', [code], 'facebook', 'ABCDE-FGHJK')
  t.match(text, /^Your comment on Facebook was removed because/)
  t.notMatch(text, /held for review/)
  t.throws(() => noticeFor(custom, 'removed', [code], 'facebook'), /needs the author's appeal reference/)

  const bad = validatePolicyContent({ ...base, notices: { removed: 'Removed under {ruleCode}', rule: '{rules}', extra: 'x' } })
  t.notOk(bad.ok)
  if (!bad.ok) {
    const find = (path: string) => bad.problems.find((p) => p.path === path)?.message
    t.match(find('notices.removed'), /unknown placeholder \{ruleCode\}.*known here: \{platform\} \{policyUrl\} \{appealUrl\} \{rules\}/)
    t.match(find('notices.rule'), /unknown placeholder \{rules\}/)
    t.ok(bad.problems.some((p) => /extra/.test(p.path + p.message)), 'an unknown template name is refused')
  }
})
