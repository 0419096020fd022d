// Pages for residents (no sign-in): the policy in force, the transparency statistics, the home page.
import type { PolicyVersionContent } from '../../policy/rules.js'
import type { TransparencyStats } from '../../moderation/transparency.js'
import { ErrorSummary, Layout, type Viewer } from '../views/layout.js'

const dateText = (d: Date) => d.toLocaleDateString('en-US', { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'America/Chicago' })

export function PublicHome(props: { viewer: Viewer | null }): JSX.Element {
  return (
    <Layout title="Home" viewer={props.viewer} path="/">
      <h1>The city's social media, on the record</h1>
      <p class="usa-intro">
        Everything the city posts and every comment it receives on its official accounts is kept as a public record. Comments that break the published
        comment policy are removed, the author is told why, and the removal can be appealed.
      </p>
      <ul class="usa-card-group">
        <li class="usa-card tablet:grid-col-6">
          <div class="usa-card__container">
            <div class="usa-card__header">
              <h2 class="usa-card__heading">Comment policy</h2>
            </div>
            <div class="usa-card__body">
              <p>The rules comments are held to, in plain language, and every earlier version.</p>
            </div>
            <div class="usa-card__footer">
              <a href="/policy" class="usa-button">
                Read the comment policy
              </a>
            </div>
          </div>
        </li>
        <li class="usa-card tablet:grid-col-6">
          <div class="usa-card__container">
            <div class="usa-card__header">
              <h2 class="usa-card__heading">Transparency statistics</h2>
            </div>
            <div class="usa-card__body">
              <p>How many comments were removed or hidden, under which rule, on which platform, and how appeals ended.</p>
            </div>
            <div class="usa-card__footer">
              <a href="/transparency" class="usa-button">
                See the statistics
              </a>
            </div>
          </div>
        </li>
      </ul>
    </Layout>
  )
}

export interface PolicyPageData {
  name: string
  version: number
  effectiveFrom: Date
  content: PolicyVersionContent
  history: Array<{ version: number; effectiveFrom: Date | null; publishedAt: Date | null }>
}

const ACTION_TEXT: Record<string, string> = {
  remove: 'removed',
  hide: 'hidden',
  flag: 'held for review by a person',
  allow: 'allowed',
}

export function PolicyPage(props: { viewer: Viewer | null; policy: PolicyPageData | null }): JSX.Element {
  const p = props.policy
  if (!p) {
    return (
      <Layout title="Comment policy" viewer={props.viewer} path="/policy">
        <h1>Comment policy</h1>
        <p>No comment policy is in force yet.</p>
      </Layout>
    )
  }
  return (
    <Layout title="Comment policy" viewer={props.viewer} path="/policy">
      <h1 safe>{p.name}</h1>
      <p class="usa-intro">
        Version {p.version}, in force since <time datetime={p.effectiveFrom.toISOString()} safe>{dateText(p.effectiveFrom)}</time>.
      </p>
      <p>
        A comment that breaks one of these rules is handled as the rule says. Its author is told which rule and may appeal; a staff member who did not make the
        decision reviews the appeal.
      </p>
      <h2>The rules</h2>
      {p.content.rules.map((rule) => (
        <section class="ts-rule" aria-labelledby={'rule-' + rule.code}>
          <h3 id={'rule-' + rule.code}>
            <span safe>{rule.code}</span> <span safe>{rule.title}</span>
          </h3>
          <p class="ts-pre-line" safe>
            {rule.sectionText}
          </p>
          <p class="usa-hint">
            A comment that breaks this rule is <span safe>{ACTION_TEXT[rule.action] ?? rule.action}</span>.
          </p>
        </section>
      ))}
      <h2>Earlier versions</h2>
      <table class="usa-table usa-table--borderless">
        <caption>Every published version of this policy</caption>
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">In force from</th>
            <th scope="col">Published</th>
          </tr>
        </thead>
        <tbody>
          {p.history.map((v) => (
            <tr>
              <th scope="row">{v.version}</th>
              <td>{v.effectiveFrom ? <time datetime={v.effectiveFrom.toISOString()} safe>{dateText(v.effectiveFrom)}</time> : 'not set'}</td>
              <td>{v.publishedAt ? <time datetime={v.publishedAt.toISOString()} safe>{dateText(v.publishedAt)}</time> : 'not published'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Layout>
  )
}

const monthName = (d: Date) => d.toLocaleDateString('en-US', { year: 'numeric', month: 'long', timeZone: 'UTC' })

const ACTION_NAMES: Record<string, string> = { remove: 'Removed', hide: 'Hidden', approve: 'Approved', restore: 'Restored' }
const PLATFORM_NAMES: Record<string, string> = { facebook: 'Facebook', instagram: 'Instagram', x: 'X', linkedin: 'LinkedIn', website: 'City website' }

export function TransparencyPage(props: {
  viewer: Viewer | null
  stats: TransparencyStats
  query: { from: string; to: string }
  errors: ReadonlyArray<{ field: string; message: string }>
}): JSX.Element {
  const s = props.stats
  const max = Math.max(1, ...s.decisions.byMonth.map((m) => m.total))
  const errorOf = (field: string) => props.errors.find((e) => e.field === field)?.message
  return (
    <Layout title="Transparency statistics" viewer={props.viewer} path="/transparency">
      <h1>Transparency statistics</h1>
      <ErrorSummary errors={props.errors} />
      <p class="usa-intro">
        Moderation decisions on the city's official accounts from <span safe>{monthName(s.range.from)}</span> through{' '}
        <span safe>{monthName(new Date(s.range.to.getTime() - 1))}</span>. Only counts are shown: no person, comment or decision is identified.
      </p>
      <form method="get" action="/transparency" class="usa-form ts-range-form">
        <fieldset class="usa-fieldset">
          <legend class="usa-legend">Period</legend>
          {(['from', 'to'] as const).map((field) => (
            <div class={'usa-form-group' + (errorOf(field) ? ' usa-form-group--error' : '')}>
              <label class="usa-label" for={field}>
                {field === 'from' ? 'First month' : 'Last month'}
              </label>
              <div class="usa-hint" id={field + '-hint'}>
                A month as YYYY-MM, for example 2026-01
              </div>
              {errorOf(field) ? (
                <span class="usa-error-message" id={field + '-error'} safe>
                  {errorOf(field)}
                </span>
              ) : (
                <></>
              )}
              <input
                class={'usa-input' + (errorOf(field) ? ' usa-input--error' : '')}
                id={field}
                name={field}
                type="text"
                inputmode="numeric"
                value={props.query[field]}
                aria-describedby={field + '-hint' + (errorOf(field) ? ` ${field}-error` : '')}
              />
            </div>
          ))}
          <button type="submit" class="usa-button">
            Show
          </button>
        </fieldset>
      </form>
      <h2>Decisions</h2>
      <ul class="usa-list">
        <li>
          {s.decisions.total} decisions: {s.decisions.automatic} automatic, {s.decisions.byPerson} by a person
        </li>
        {Object.entries(s.decisions.byAction).map(([action, n]) => (
          <li>
            <span safe>{ACTION_NAMES[action] ?? action}</span>: {n}
          </li>
        ))}
      </ul>
      <h3>By month</h3>
      <table class="usa-table usa-table--borderless ts-bars">
        <caption>Decisions per month (the bar shows the share of the busiest month)</caption>
        <thead>
          <tr>
            <th scope="col">Month</th>
            <th scope="col">Decisions</th>
            <th scope="col">Automatic</th>
            <th scope="col">By a person</th>
            <th scope="col" aria-hidden="true">
              <span class="usa-sr-only">Bar</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {s.decisions.byMonth.map((m) => (
            <tr>
              <th scope="row" safe>
                {m.month}
              </th>
              <td>{m.total}</td>
              <td>{m.automatic}</td>
              <td>{m.byPerson}</td>
              <td aria-hidden="true">
                <meter class="ts-meter" min="0" max={max} value={m.total}></meter>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>By platform</h3>
      <table class="usa-table usa-table--borderless">
        <caption>Decisions per platform</caption>
        <thead>
          <tr>
            <th scope="col">Platform</th>
            <th scope="col">Decisions</th>
            <th scope="col">Automatic</th>
            <th scope="col">By a person</th>
          </tr>
        </thead>
        <tbody>
          {s.decisions.byPlatform.map((p) => (
            <tr>
              <th scope="row" safe>
                {PLATFORM_NAMES[p.platform] ?? p.platform}
              </th>
              <td>{p.total}</td>
              <td>{p.automatic}</td>
              <td>{p.byPerson}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h3>By rule</h3>
      <table class="usa-table usa-table--borderless">
        <caption>Decisions per rule of the comment policy</caption>
        <thead>
          <tr>
            <th scope="col">Rule</th>
            <th scope="col">Title</th>
            <th scope="col">Decisions</th>
          </tr>
        </thead>
        <tbody>
          {s.decisions.byRule.map((r) => (
            <tr>
              <th scope="row" safe>
                {r.ruleCode}
              </th>
              <td safe>{r.title ?? ''}</td>
              <td>{r.total}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Appeals</h2>
      <ul class="usa-list">
        <li>{s.appeals.filed} filed</li>
        <li>{s.appeals.upheld} upheld (the decision stood)</li>
        <li>{s.appeals.reversed} reversed</li>
        <li>{s.appeals.open} still open</li>
      </ul>
    </Layout>
  )
}
