// Staff pages that are not a domain's own: sign-in, the home page of each role, errors.
import type { Role } from '../../plugins/auth.js'
import { Alert, ErrorSummary, Layout, ROLE_NAMES, type Viewer } from '../views/layout.js'

export const SIGN_IN_NOTICES = ['expired', 'signed-out', 'failed', 'no-role'] as const
export type SignInNotice = (typeof SIGN_IN_NOTICES)[number]

export function SignInPage(props: {
  oidc: boolean
  devSignIn: boolean
  returnTo: string
  notice: SignInNotice | null
  errors: ReadonlyArray<{ field: string; message: string }>
  /** The form's CSRF token: a pre-session token bound to a cookie. */
  csrfToken: string
  /** What was typed, kept when the form is shown again with errors. */
  typed?: { name: string; role: string }
}): JSX.Element {
  const nameError = props.errors.some((e) => e.field === 'name')
  return (
    <Layout title="Sign in" viewer={null} path="/console/sign-in">
      <h1>Staff sign-in</h1>
      <ErrorSummary errors={props.errors} />
      {props.notice === 'expired' ? <Alert type="info" heading="Your session ended">
          <p class="usa-alert__text">You were signed out after a period without activity. Sign in again to continue where you were.</p>
        </Alert> : <></>}
      {props.notice === 'signed-out' ? <Alert type="success" heading="You are signed out" /> : <></>}
      {props.notice === 'failed' ? <Alert type="error" heading="Sign-in did not complete">
          <p class="usa-alert__text">The identity provider did not confirm who you are. Try again, or ask your administrator.</p>
        </Alert> : <></>}
      {props.notice === 'no-role' ? <Alert type="error" heading="No Townsquare role">
          <p class="usa-alert__text">Your account signed in, but the identity provider gives it no Townsquare role. Ask your administrator to add you to a Townsquare group.</p>
        </Alert> : <></>}
      {props.oidc ? (
        <p>
          <a class="usa-button" href={'/console/sign-in/oidc?returnTo=' + encodeURIComponent(props.returnTo)}>
            Sign in with the city's account
          </a>
        </p>
      ) : <></>}
      {props.devSignIn ? (
        <form method="post" action="/console/sign-in/development" class="usa-form usa-form--large" novalidate>
          <input type="hidden" name="_csrf" value={props.csrfToken} />
          <input type="hidden" name="returnTo" value={props.returnTo} />
          <Alert type="warning" heading="Development sign-in">
            <p class="usa-alert__text">This installation runs outside production: pick a name and role to sign in without an identity provider.</p>
          </Alert>
          <div class={'usa-form-group' + (props.errors.some((e) => e.field === 'name') ? ' usa-form-group--error' : '')}>
            <label class="usa-label" for="name">
              Your name
            </label>
            <div class="usa-hint" id="name-hint">
              As it should appear on the decisions you make, for example Pat Doe
            </div>
            {props.errors.filter((e) => e.field === 'name').map((e) => (
              <span class="usa-error-message" id="name-error" safe>
                {e.message}
              </span>
            ))}
            <input
              class={'usa-input' + (nameError ? ' usa-input--error' : '')}
              id="name"
              name="name"
              type="text"
              autocomplete="name"
              value={props.typed?.name ?? ''}
              aria-describedby={nameError ? 'name-hint name-error' : 'name-hint'}
              required
            />
          </div>
          <fieldset class={'usa-fieldset usa-form-group' + (props.errors.some((e) => e.field === 'role-tst_moderator') ? ' usa-form-group--error' : '')}>
            <legend class="usa-legend">Role</legend>
            {props.errors.filter((e) => e.field === 'role-tst_moderator').map((e) => (
              <span class="usa-error-message" id="role-error" safe>
                {e.message}
              </span>
            ))}
            {(Object.keys(ROLE_NAMES) as Role[]).map((role) => (
              <div class="usa-radio">
                <input class="usa-radio__input" id={'role-' + role} type="radio" name="role" value={role} checked={props.typed?.role === role} />
                <label class="usa-radio__label" for={'role-' + role} safe>
                  {ROLE_NAMES[role]}
                </label>
              </div>
            ))}
          </fieldset>
          <button type="submit" class="usa-button">
            Sign in
          </button>
        </form>
      ) : <></>}
      {!props.oidc && !props.devSignIn ? (
        <p>Sign-in is not configured: the administrator sets OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_REDIRECT_URL (docs/console.md).</p>
      ) : <></>}
    </Layout>
  )
}

interface Task {
  href: string
  title: string
  text: string
}

/** What each role does in the console; the home page lists the tasks of the signed-in roles. */
export function tasksOf(roles: readonly Role[]): Task[] {
  const tasks: Task[] = []
  if (roles.includes('tst_moderator') || roles.includes('tst_admin')) {
    tasks.push({ href: '/console/queue', title: 'Review queue', text: 'Comments held for a person to decide, oldest first.' })
  }
  if (roles.includes('auditor') || roles.includes('records_clerk')) {
    tasks.push({ href: '/console/ledger', title: 'Ledger', text: 'The latest signed checkpoint, its age, and a full verification run.' })
  }
  if (roles.includes('auditor')) tasks.push({ href: '/console/access-log', title: 'Access log', text: 'Every read of records by a person, with filters and CSV.' })
  tasks.push({ href: '/policy', title: 'Comment policy in force', text: 'The published rules, as residents see them.' })
  tasks.push({ href: '/transparency', title: 'Transparency statistics', text: 'The public counts of decisions and appeals.' })
  return tasks
}

export function StaffHome(props: { viewer: Viewer }): JSX.Element {
  return (
    <Layout title="Console" viewer={props.viewer} path="/console">
      <h1>
        Welcome, <span safe>{props.viewer.displayName}</span>
      </h1>
      <p class="usa-intro">
        Signed in as <span safe>{props.viewer.roles.map((r) => ROLE_NAMES[r]).join(', ') || 'no role'}</span>.
      </p>
      <ul class="usa-card-group">
        {tasksOf(props.viewer.roles).map((task) => (
          <li class="usa-card tablet:grid-col-4">
            <div class="usa-card__container">
              <div class="usa-card__header">
                <h2 class="usa-card__heading">
                  <a href={task.href} safe>
                    {task.title}
                  </a>
                </h2>
              </div>
              <div class="usa-card__body">
                <p safe>{task.text}</p>
              </div>
            </div>
          </li>
        ))}
      </ul>
    </Layout>
  )
}

export function ErrorPage(props: { viewer: Viewer | null; status: number; title: string; detail: string; requestId?: string }): JSX.Element {
  return (
    <Layout title={props.title} viewer={props.viewer} path="">
      <h1 safe>{props.title}</h1>
      <p safe>{props.detail}</p>
      {props.requestId ? (
        <p>
          If you report this, quote the request id <code safe>{props.requestId}</code>.
        </p>
      ) : <></>}
      <p>
        <a href={props.viewer ? '/console' : '/'}>Go to the home page</a>
      </p>
    </Layout>
  )
}
