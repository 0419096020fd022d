// The TST's review queue: the list, oldest first, and one item with everything needed to decide it.
import type { Evidence, Rule } from '../../policy/rules.js'
import { Alert, ErrorSummary, Layout, NextPage, type Viewer } from '../views/layout.js'

export const PLATFORM_NAMES: Record<string, string> = { facebook: 'Facebook', instagram: 'Instagram', x: 'X', linkedin: 'LinkedIn', website: 'City website' }
export const REASON_NAMES: Record<string, string> = { flagged: 'Flagged by a rule', unevaluated: 'Not evaluated', action_failed: 'Platform action failed' }

const age = (from: Date, now: Date) => {
  const minutes = Math.max(0, Math.round((now.getTime() - from.getTime()) / 60_000))
  if (minutes < 60) return `${minutes} min`
  if (minutes < 48 * 60) return `${Math.round(minutes / 60)} h`
  return `${Math.round(minutes / 1440)} days`
}

export interface QueueRow {
  id: string
  reason: string
  ruleCodes: string[]
  createdAt: Date
  claimedBy: string | null
  claimExpiresAt: Date | null
  comment: { platform: string; authorName: string | null; text: string | null }
}

export function QueuePage(props: {
  viewer: Viewer
  now: Date
  rows: QueueRow[]
  filter: { platform: string; reason: string; rule: string }
  nextHref: string | null
  notice: { type: 'success' | 'info'; heading: string; text: string } | null
}): JSX.Element {
  const claimant = (r: QueueRow): string => (r.claimedBy !== null && r.claimExpiresAt !== null && r.claimExpiresAt > props.now ? r.claimedBy.replace(/^user:/, '') : '—')
  return (
    <Layout title="Review queue" viewer={props.viewer} path="/console/queue" scripts={['queue-keys.js']}>
      <h1>Review queue</h1>
      {props.notice ? (
        <Alert type={props.notice.type} heading={props.notice.heading}>
          <p class="usa-alert__text" safe>
            {props.notice.text}
          </p>
        </Alert>
      ) : (
        <></>
      )}
      <form method="get" action="/console/queue" class="usa-form ts-filters">
        <fieldset class="usa-fieldset">
          <legend class="usa-legend">Filter the queue</legend>
          <label class="usa-label" for="platform">
            Platform
          </label>
          <select class="usa-select" id="platform" name="platform">
            <option value="">Any platform</option>
            {Object.entries(PLATFORM_NAMES).map(([value, name]) => (
              <option value={value} selected={props.filter.platform === value} safe>
                {name}
              </option>
            ))}
          </select>
          <label class="usa-label" for="reason">
            Reason
          </label>
          <select class="usa-select" id="reason" name="reason">
            <option value="">Any reason</option>
            {Object.entries(REASON_NAMES).map(([value, name]) => (
              <option value={value} selected={props.filter.reason === value} safe>
                {name}
              </option>
            ))}
          </select>
          <label class="usa-label" for="rule">
            Rule
          </label>
          <div class="usa-hint" id="rule-hint">
            A rule's code, for example 4.b
          </div>
          <input class="usa-input" id="rule" name="rule" type="text" value={props.filter.rule} aria-describedby="rule-hint" />
          <button type="submit" class="usa-button">
            Filter
          </button>
        </fieldset>
      </form>
      {props.rows.length === 0 ? (
        <p>Nothing is waiting for a decision{props.filter.platform || props.filter.reason || props.filter.rule ? ' with these filters' : ''}.</p>
      ) : (
        <table class="usa-table usa-table--stacked ts-queue">
          <caption>Comments waiting for a person, oldest first</caption>
          <thead>
            <tr>
              <th scope="col">Comment</th>
              <th scope="col">Platform</th>
              <th scope="col">Reason</th>
              <th scope="col">Rules</th>
              <th scope="col">Waiting</th>
              <th scope="col">Claimed by</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((r, i) => (
              <tr>
                <th scope="row" data-label="Comment">
                  <a href={`/console/queue/${r.id}`} data-queue-index={i}>
                    <span safe>{excerpt(r.comment.text)}</span>
                  </a>
                  <div class="ts-author" safe>
                    {'by ' + (r.comment.authorName ?? 'unknown author')}
                  </div>
                </th>
                <td data-label="Platform" safe>
                  {PLATFORM_NAMES[r.comment.platform] ?? r.comment.platform}
                </td>
                <td data-label="Reason" safe>
                  {REASON_NAMES[r.reason] ?? r.reason}
                </td>
                <td data-label="Rules" safe>
                  {r.ruleCodes.join(', ') || '—'}
                </td>
                <td data-label="Waiting">
                  <time datetime={r.createdAt.toISOString()} safe>
                    {age(r.createdAt, props.now)}
                  </time>
                </td>
                <td data-label="Claimed by" safe>
                  {claimant(r)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <NextPage href={props.nextHref} label="Older items are shown first; see the next page" />
      <Shortcuts
        keys={[
          ['j', 'next comment in the list'],
          ['k', 'previous comment'],
          ['Enter', 'open it'],
        ]}
      />
    </Layout>
  )
}

function excerpt(text: string | null): string {
  if (text === null) return '(no text: disposed or deleted)'
  return text.length > 140 ? text.slice(0, 139) + '…' : text
}

/** The text with each piece of evidence marked (<mark>), everything escaped. */
export function MarkedText(props: { text: string; evidence: ReadonlyArray<Pick<Evidence, 'start' | 'end'> & { ruleCode: string }> }): JSX.Element {
  const spans = [...props.evidence].filter((e) => e.start >= 0 && e.end <= props.text.length && e.start < e.end).sort((a, b) => a.start - b.start)
  const parts: JSX.Element[] = []
  let at = 0
  for (const span of spans) {
    if (span.start < at) continue // overlapping evidence: the first span is marked
    parts.push(<span safe>{props.text.slice(at, span.start)}</span>)
    parts.push(
      <mark title={'Rule ' + span.ruleCode}>
        <span safe>{props.text.slice(span.start, span.end)}</span>
        <span class="usa-sr-only" safe>
          {` (matched rule ${span.ruleCode})`}
        </span>
      </mark>,
    )
    at = span.end
  }
  parts.push(<span safe>{props.text.slice(at)}</span>)
  return <p class="ts-comment-text ts-pre-line">{parts}</p>
}

export interface ItemView {
  id: string
  reason: string
  createdAt: Date
  claimedBy: string | null
  claimExpiresAt: Date | null
  versionId: string
  versionText: string | null
  versionPlatformTime: Date
  stale: boolean
  evidence: Array<{ ruleCode: string; start: number; end: number }>
  ruleCodes: string[]
  comment: { id: string; platform: string; authorName: string | null; postId: string | null; status: string; moderationStatus: string }
  versions: Array<{ id: string; kind: string; platformTime: Date; text: string | null }>
  authorHistory: Array<{ text: string | null; platformTime: Date; moderationStatus: string }>
  policyVersion: number | null
  rules: Rule[]
  /** The next open item in queue order, for "skip" (n). */
  nextItemId: string | null
}

export type DecideForm = { action: string; ruleCodes: string[]; note: string }

export function ItemPage(props: {
  viewer: Viewer
  viewerActor: string
  now: Date
  item: ItemView
  form: DecideForm
  errors: ReadonlyArray<{ field: string; message: string }>
  conflict: string | null
}): JSX.Element {
  const it = props.item
  const claimedByOther = it.claimedBy !== null && it.claimedBy !== props.viewerActor && it.claimExpiresAt !== null && it.claimExpiresAt > props.now
  const claimedByMe = it.claimedBy === props.viewerActor && it.claimExpiresAt !== null && it.claimExpiresAt > props.now
  const cited = (code: string) => it.ruleCodes.includes(code)
  return (
    <Layout title="Review a comment" viewer={props.viewer} path="/console/queue" scripts={['queue-keys.js']}>
      <nav aria-label="Breadcrumbs" class="usa-breadcrumb">
        <ol class="usa-breadcrumb__list">
          <li class="usa-breadcrumb__list-item">
            <a href="/console/queue" class="usa-breadcrumb__link">
              <span>Review queue</span>
            </a>
          </li>
          <li class="usa-breadcrumb__list-item usa-current" aria-current="page">
            <span>Review a comment</span>
          </li>
        </ol>
      </nav>
      <h1>Review a comment</h1>
      <ErrorSummary errors={props.errors} />
      {props.conflict ? (
        <Alert type="warning" heading="This item changed">
          <p class="usa-alert__text" safe>
            {props.conflict}
          </p>
        </Alert>
      ) : (
        <></>
      )}
      {it.stale ? (
        <Alert type="warning" heading="The author edited this comment">
          <p class="usa-alert__text">The text below is the newest version; the queue item was opened for an earlier one. Decide on what is shown.</p>
        </Alert>
      ) : (
        <></>
      )}
      <div class="grid-row grid-gap">
        <div class="tablet:grid-col-7">
          <h2>
            <span safe>{it.comment.authorName ?? 'Unknown author'}</span> on <span safe>{PLATFORM_NAMES[it.comment.platform] ?? it.comment.platform}</span>
          </h2>
          <p class="usa-hint">
            Posted <time datetime={it.versionPlatformTime.toISOString()} safe>{it.versionPlatformTime.toISOString().replace('T', ' ').slice(0, 16) + ' UTC'}</time>
            {' · '}
            <span safe>{REASON_NAMES[it.reason] ?? it.reason}</span>
          </p>
          {it.versionText === null ? <p>(No text: the comment was disposed or deleted.)</p> : <MarkedText text={it.versionText} evidence={it.evidence} />}
          {it.versions.length > 1 ? (
            <details class="ts-details">
              <summary>
                Earlier versions (<span>{it.versions.length - 1}</span>)
              </summary>
              <ol class="usa-list">
                {it.versions.slice(0, -1).map((v) => (
                  <li>
                    <time datetime={v.platformTime.toISOString()} safe>
                      {v.platformTime.toISOString().slice(0, 16).replace('T', ' ')}
                    </time>
                    : <span safe>{v.text ?? '(no text)'}</span>
                  </li>
                ))}
              </ol>
            </details>
          ) : (
            <></>
          )}
          <h2>The author's recent comments</h2>
          {it.authorHistory.length === 0 ? (
            <p>No other comments by this author are on record.</p>
          ) : (
            <ul class="usa-list">
              {it.authorHistory.map((h) => (
                <li>
                  <span safe>{excerpt(h.text)}</span> <span class="usa-tag" safe>{h.moderationStatus}</span>
                </li>
              ))}
            </ul>
          )}
        </div>
        <div class="tablet:grid-col-5">
          <h2>Decide</h2>
          {claimedByOther ? (
            <Alert type="info" heading="Claimed by someone else">
              <p class="usa-alert__text">
                <span safe>{it.claimedBy!.replace(/^user:/, '')}</span> is reviewing this comment until{' '}
                <span safe>{it.claimExpiresAt!.toISOString().slice(11, 16) + ' UTC'}</span>.
              </p>
            </Alert>
          ) : (
            <form method="post" action={`/console/queue/${it.id}/claim`} data-claim>
              <input type="hidden" name="_csrf" value={props.viewer.csrfToken} />
              <button type="submit" class="usa-button usa-button--outline" name="claim" value={claimedByMe ? 'release' : 'claim'}>
                {claimedByMe ? 'Release my claim' : 'Claim this comment'}
              </button>
            </form>
          )}
          <form method="post" action={`/console/queue/${it.id}/decision`} class="usa-form" novalidate data-decision>
            <input type="hidden" name="_csrf" value={props.viewer.csrfToken} />
            <input type="hidden" name="versionId" value={it.versionId} />
            <fieldset class={'usa-fieldset' + (props.errors.some((e) => e.field === 'action-remove') ? ' usa-form-group--error' : '')}>
              <legend class="usa-legend">Decision</legend>
              {(['approve', 'hide', 'remove'] as const).map((action) => (
                <div class="usa-radio">
                  <input class="usa-radio__input" id={'action-' + action} type="radio" name="action" value={action} checked={props.form.action === action} />
                  <label class="usa-radio__label" for={'action-' + action}>
                    {action === 'approve' ? 'Approve: the comment stays' : action === 'hide' ? 'Hide it on the platform' : 'Remove it from the platform'}
                  </label>
                </div>
              ))}
            </fieldset>
            <fieldset class={'usa-fieldset' + (props.errors.some((e) => e.field.startsWith('rule-')) ? ' usa-form-group--error' : '')}>
              <legend class="usa-legend">
                Rules broken{it.policyVersion !== null ? <span> (policy version {it.policyVersion}, in force when it was posted)</span> : <></>}
              </legend>
              <div class="usa-hint">Cite every rule a hide or removal rests on; the author is told each one.</div>
              {it.rules.map((rule) => (
                <div class="usa-checkbox">
                  <input
                    class="usa-checkbox__input"
                    id={'rule-' + rule.code}
                    type="checkbox"
                    name="ruleCodes"
                    value={rule.code}
                    checked={props.form.ruleCodes.includes(rule.code) || (props.form.action === '' && cited(rule.code))}
                  />
                  <label class="usa-checkbox__label" for={'rule-' + rule.code}>
                    <span safe>{rule.code + ' ' + rule.title}</span>
                    <span class="usa-checkbox__label-description" safe>
                      {rule.sectionText.length > 200 ? rule.sectionText.slice(0, 199) + '…' : rule.sectionText}
                    </span>
                  </label>
                </div>
              ))}
            </fieldset>
            <label class="usa-label" for="note">
              Note for the record (optional)
            </label>
            <textarea class="usa-textarea" id="note" name="note" maxlength="2000" safe>
              {props.form.note}
            </textarea>
            <button type="submit" class="usa-button" disabled={claimedByOther}>
              Record the decision
            </button>
          </form>
          {it.nextItemId ? (
            <p>
              <a href={`/console/queue/${it.nextItemId}`} data-next-item>
                Skip to the next comment in the queue
              </a>
            </p>
          ) : (
            <></>
          )}
        </div>
      </div>
      <Shortcuts
        keys={[
          ['a', 'approve'],
          ['h', 'hide'],
          ['r', 'remove'],
          ['1 to 9', 'cite or uncite the rule in that place in the list'],
          ['c', 'claim the comment, or release your claim'],
          ['Ctrl+Enter', 'record the decision'],
          ['n', 'skip to the next comment'],
        ]}
      />
    </Layout>
  )
}

/** The keyboard shortcuts of a page, shown to everyone (they work only with the script). */
function Shortcuts(props: { keys: ReadonlyArray<readonly [string, string]> }): JSX.Element {
  return (
    <details class="ts-details ts-shortcuts">
      <summary>Keyboard shortcuts</summary>
      <p>They work when the focus is not in a text field.</p>
      <dl class="ts-facts">
        {props.keys.map(([key, what]) => (
          <>
            <dt>
              <kbd safe>{key}</kbd>
            </dt>
            <dd safe>{what}</dd>
          </>
        ))}
      </dl>
    </details>
  )
}
