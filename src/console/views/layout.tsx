// The page shell every console and public page shares: USWDS header and navigation, a skip link,
// the main landmark, the footer. Views take exactly what they show; nothing here queries or decides.
import type { Children } from '@kitajs/html'
import type { Role } from '../../plugins/auth.js'

export interface Viewer {
  displayName: string
  roles: readonly Role[]
  csrfToken: string
}

export interface NavLink {
  href: string
  label: string
}

/** What each role's navigation offers; the home page lists the same. */
export function staffLinks(roles: readonly Role[]): NavLink[] {
  const links: NavLink[] = [{ href: '/console', label: 'Home' }]
  if (roles.includes('tst_moderator') || roles.includes('tst_admin')) links.push({ href: '/console/queue', label: 'Review queue' })
  if (roles.includes('auditor') || roles.includes('records_clerk')) links.push({ href: '/console/ledger', label: 'Ledger' })
  if (roles.includes('auditor')) links.push({ href: '/console/access-log', label: 'Access log' })
  return links
}

export const publicLinks: NavLink[] = [
  { href: '/policy', label: 'Comment policy' },
  { href: '/transparency', label: 'Transparency statistics' },
]

export const ROLE_NAMES: Record<Role, string> = {
  tst_moderator: 'TST moderator',
  tst_admin: 'TST administrator',
  records_clerk: 'Records clerk',
  auditor: 'Auditor',
  admin: 'Administrator',
}

export function Layout(props: {
  title: string
  viewer: Viewer | null
  /** The path of the page, to mark its navigation link as current. */
  path: string
  /** The page's own scripts from /assets/ (progressive enhancement: the page works without them). */
  scripts?: readonly string[]
  children?: Children
}): JSX.Element {
  const links = props.viewer ? staffLinks(props.viewer.roles) : publicLinks
  return (
    <>
      {'<!doctype html>'}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="htmx-config" content='{"includeIndicatorStyles":false,"allowEval":false,"allowScriptTags":false}' />
          <title safe>{props.title + ' | Townsquare'}</title>
          <link rel="stylesheet" href="/assets/uswds/css/uswds.min.css" />
          <link rel="stylesheet" href="/assets/console.css" />
          <script src="/assets/uswds/js/uswds-init.min.js"></script>
        </head>
        <body>
          <a class="usa-skipnav" href="#main-content">
            Skip to main content
          </a>
          <header class="usa-header usa-header--basic">
            <div class="usa-nav-container">
              <div class="usa-navbar">
                <div class="usa-logo">
                  <em class="usa-logo__text">
                    <a href={props.viewer ? '/console' : '/'} title="Townsquare home">
                      Townsquare
                    </a>
                  </em>
                </div>
                <button type="button" class="usa-menu-btn">
                  Menu
                </button>
              </div>
              <nav aria-label="Primary navigation" class="usa-nav">
                <button type="button" class="usa-nav__close">
                  <img src="/assets/uswds/img/usa-icons/close.svg" role="img" alt="Close" />
                </button>
                <ul class="usa-nav__primary usa-accordion">
                  {links.map((link) => (
                    <li class="usa-nav__primary-item">
                      <a
                        href={link.href}
                        class={'usa-nav-link' + (link.href === props.path ? ' usa-current' : '')}
                        aria-current={link.href === props.path ? 'page' : undefined}
                      >
                        <span safe>{link.label}</span>
                      </a>
                    </li>
                  ))}
                  <li class="usa-nav__primary-item">
                    {props.viewer ? (
                      <form method="post" action="/console/sign-out" class="ts-inline-form">
                        <input type="hidden" name="_csrf" value={props.viewer.csrfToken} />
                        <button type="submit" class="usa-button usa-button--unstyled usa-nav-link">
                          Sign out <span safe>{props.viewer.displayName}</span>
                        </button>
                      </form>
                    ) : (
                      <a href="/console/sign-in" class="usa-nav-link">
                        <span>Staff sign-in</span>
                      </a>
                    )}
                  </li>
                </ul>
              </nav>
            </div>
          </header>
          <main id="main-content" class="usa-section" tabindex="-1">
            <div class="grid-container">{props.children}</div>
          </main>
          <footer class="usa-footer usa-footer--slim">
            <div class="usa-footer__primary-section">
              <div class="grid-container">
                <nav aria-label="Footer navigation">
                  <ul class="ts-footer-links">
                    {publicLinks.map((link) => (
                      <li>
                        <a href={link.href} class="usa-footer__primary-link">
                          <span safe>{link.label}</span>
                        </a>
                      </li>
                    ))}
                    <li>
                      <a href="/docs" class="usa-footer__primary-link">
                        API reference
                      </a>
                    </li>
                  </ul>
                </nav>
              </div>
            </div>
          </footer>
          <script src="/assets/uswds/js/uswds.min.js"></script>
          <script src="/assets/htmx/htmx.min.js"></script>
          {(props.scripts ?? []).map((src) => (
            <script src={'/assets/' + src}></script>
          ))}
        </body>
      </html>
    </>
  )
}

/** A USWDS error summary: what is wrong, each linked to its field (GOV.UK pattern). */
export function ErrorSummary(props: { errors: ReadonlyArray<{ field: string; message: string }> }): JSX.Element {
  if (props.errors.length === 0) return <></>
  return (
    <div class="usa-alert usa-alert--error" role="alert" id="error-summary" tabindex="-1">
      <div class="usa-alert__body">
        <h2 class="usa-alert__heading">There is a problem</h2>
        <ul class="usa-list usa-list--unstyled">
          {props.errors.map((e) => (
            <li>
              <a href={'#' + e.field} safe>
                {e.message}
              </a>
            </li>
          ))}
        </ul>
      </div>
    </div>
  )
}

export function Alert(props: { type: 'info' | 'warning' | 'error' | 'success'; heading: string; children?: Children }): JSX.Element {
  return (
    <div class={`usa-alert usa-alert--${props.type}`} role={props.type === 'error' ? 'alert' : 'status'}>
      <div class="usa-alert__body">
        <h2 class="usa-alert__heading" safe>
          {props.heading}
        </h2>
        {props.children}
      </div>
    </div>
  )
}

/** The link to a list's next page (keyset pagination), when there is one. */
export function NextPage(props: { href: string | null; label: string }): JSX.Element {
  if (!props.href) return <></>
  return (
    <p>
      <a class="usa-button usa-button--outline" href={props.href} safe>
        {props.label}
      </a>
    </p>
  )
}
