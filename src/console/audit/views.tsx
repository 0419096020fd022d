// The auditor's pages: the ledger's state with a verification run, and the access log.
import type { VerificationReport } from '../../ledger/verify.js'
import { Alert, ErrorSummary, Layout, NextPage, type Viewer } from '../views/layout.js'

const when = (d: Date) => d.toISOString().replace('T', ' ').slice(0, 19) + ' UTC'
const minutes = (ms: number) => (ms < 120_000 ? `${Math.round(ms / 1000)} seconds` : ms < 7_200_000 ? `${Math.round(ms / 60_000)} minutes` : `${Math.round(ms / 3_600_000)} hours`)

export interface LedgerState {
  checkpoint: { treeSize: number; issuedAt: Date; keyName: string; rootHashHex: string; signedNote: string } | null
  now: Date
  maxAgeMs: number
}

export function LedgerPage(props: { viewer: Viewer; state: LedgerState; report: VerificationReport | null }): JSX.Element {
  const cp = props.state.checkpoint
  const ageMs = cp ? props.state.now.getTime() - cp.issuedAt.getTime() : 0
  // The sealer signs at least every LEDGER_MAX_CHECKPOINT_AGE; twice that without one means it stopped.
  const stale = cp !== null && ageMs > 2 * props.state.maxAgeMs
  return (
    <Layout title="Ledger" viewer={props.viewer} path="/console/ledger">
      <h1>The ledger</h1>
      {props.report ? <ReportAlert report={props.report} /> : <></>}
      {cp === null ? (
        <p>No checkpoint has been signed yet.</p>
      ) : (
        <>
          {stale ? (
            <Alert type="warning" heading="The latest checkpoint is old">
              <p class="usa-alert__text">
                A checkpoint is signed at least every <span safe>{minutes(props.state.maxAgeMs)}</span>; the latest is{' '}
                <span safe>{minutes(ageMs)}</span> old. The sealer may have stopped: check the service's logs and /readyz.
              </p>
            </Alert>
          ) : (
            <></>
          )}
          <dl class="ts-facts">
            <dt>Latest checkpoint</dt>
            <dd>
              tree size {cp.treeSize}, signed <time datetime={cp.issuedAt.toISOString()} safe>{when(cp.issuedAt)}</time> (
              <span safe>{minutes(ageMs)}</span> ago) by <code safe>{cp.keyName}</code>
            </dd>
            <dt>Root hash</dt>
            <dd>
              <code class="ts-break" safe>
                {cp.rootHashHex}
              </code>
            </dd>
          </dl>
          <details class="ts-details">
            <summary>The signed checkpoint, as published</summary>
            <pre class="ts-break" safe>
              {cp.signedNote}
            </pre>
          </details>
          <p>
            Anyone can check it without Townsquare's code: the checkpoint and the tree are published as C2SP tlog-tiles under{' '}
            <a href="/v1/ledger/tlog/checkpoint">/v1/ledger/tlog/</a>.
          </p>
        </>
      )}
      <h2>Verify the ledger now</h2>
      <p>Recomputes every entry's hash, every tree node, and the root and signature of every checkpoint from what is stored, and reports the first divergence.</p>
      <form method="post" action="/console/ledger/verify">
        <input type="hidden" name="_csrf" value={props.viewer.csrfToken} />
        <button type="submit" class="usa-button">
          Verify the ledger
        </button>
      </form>
    </Layout>
  )
}

function ReportAlert(props: { report: VerificationReport }): JSX.Element {
  const r = props.report
  if (r.ok) {
    return (
      <Alert type="success" heading="The ledger verifies">
        <p class="usa-alert__text">
          {r.treeSize} entries and {r.checkpointsChecked} checkpoints checked; {r.disposedEntries} disposed entries still bound by their hash;{' '}
          {r.unsealedEntries} entries not sealed yet.
        </p>
      </Alert>
    )
  }
  return (
    <Alert type="error" heading="The ledger does not verify">
      <p class="usa-alert__text" safe>
        {`${r.divergence?.kind ?? 'divergence'} after ${r.treeSize} entries: ${r.divergence?.detail ?? ''}`}
      </p>
      <p class="usa-alert__text">Expected</p>
      <pre class="ts-break" safe>
        {r.divergence?.expected ?? ''}
      </pre>
      <p class="usa-alert__text">Found</p>
      <pre class="ts-break" safe>
        {r.divergence?.found ?? ''}
      </pre>
    </Alert>
  )
}

export interface AccessRow {
  at: Date
  actor: string
  roles: string[]
  action: string
  route: string
  count: number
}

export function AccessLogPage(props: {
  viewer: Viewer
  rows: AccessRow[]
  filter: { actor: string; action: string; from: string; to: string }
  errors: ReadonlyArray<{ field: string; message: string }>
  nextHref: string | null
  csvHref: string
}): JSX.Element {
  const errorOf = (field: string) => props.errors.find((e) => e.field === field)?.message
  const input = (name: 'actor' | 'action' | 'from' | 'to', label: string, hint: string) => (
    <div class={'usa-form-group' + (errorOf(name) ? ' usa-form-group--error' : '')}>
      <label class="usa-label" for={name} safe>
        {label}
      </label>
      <div class="usa-hint" id={name + '-hint'} safe>
        {hint}
      </div>
      {errorOf(name) ? (
        <span class="usa-error-message" id={name + '-error'} safe>
          {errorOf(name)}
        </span>
      ) : (
        <></>
      )}
      <input
        class={'usa-input' + (errorOf(name) ? ' usa-input--error' : '')}
        id={name}
        name={name}
        type="text"
        value={props.filter[name]}
        aria-describedby={name + '-hint' + (errorOf(name) ? ` ${name}-error` : '')}
      />
    </div>
  )
  return (
    <Layout title="Access log" viewer={props.viewer} path="/console/access-log">
      <h1>Access log</h1>
      <p>Every read of retained records by a person, newest first. Reading this log is logged too.</p>
      <ErrorSummary errors={props.errors} />
      <form method="get" action="/console/access-log" class="usa-form">
        <fieldset class="usa-fieldset">
          <legend class="usa-legend">Filter</legend>
          {input('actor', 'Who', 'A person, for example user:jdoe or jdoe')}
          {input('action', 'Action', 'For example records.search, records.read, moderation.queue')}
          {input('from', 'From', 'A date as YYYY-MM-DD (UTC), for example 2026-12-01')}
          {input('to', 'Up to and including', 'A date as YYYY-MM-DD (UTC), for example 2026-12-07')}
          <button type="submit" class="usa-button">
            Filter
          </button>
        </fieldset>
      </form>
      <p>
        <a href={props.csvHref}>Download these entries as CSV</a>
      </p>
      {props.rows.length === 0 ? (
        <p>No entries match.</p>
      ) : (
        <table class="usa-table usa-table--borderless usa-table--stacked">
          <caption>Reads of records</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">Route</th>
              <th scope="col">Records</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.map((r) => (
              <tr>
                <th scope="row" data-label="When">
                  <time datetime={r.at.toISOString()} safe>
                    {when(r.at)}
                  </time>
                </th>
                <td data-label="Who" safe>
                  {`${r.actor} (${r.roles.join(', ')})`}
                </td>
                <td data-label="Action" safe>
                  {r.action}
                </td>
                <td data-label="Route" safe>
                  {r.route}
                </td>
                <td data-label="Records">{r.count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <NextPage href={props.nextHref} label="Older entries" />
    </Layout>
  )
}
