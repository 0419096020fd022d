// The console and the public pages, served beside the /v1 API by the same service (docs/console.md).
// This plugin owns what only pages need: cookies, sessions, CSRF, the Content-Security-Policy,
// form bodies, static assets and HTML errors. Its handlers call the same domain functions as the API.
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { join } from 'node:path'
import fastifyCookie from '@fastify/cookie'
import fastifyFormbody from '@fastify/formbody'
import fastifyHelmet from '@fastify/helmet'
import fastifyStatic from '@fastify/static'
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { PROJECT_ROOT } from '../paths.js'
import type { Role } from '../plugins/auth.js'
import { ProblemError } from '../plugins/errors.js'
import { OidcSignIn } from './oidc.js'
import { auditPages } from './audit/routes.js'
import { moderationPages } from './moderation/routes.js'
import { publicPages } from './public/routes.js'
import { csrfMatches, readSession, type Session } from './session.js'
import { staffPages } from './staff/routes.js'
import { ErrorPage } from './staff/views.js'
import type { Viewer } from './views/layout.js'

/** Who may open a page: `'public'`, or the roles of a signed-in session (any one of them). */
export type PageAccess = 'public' | readonly Role[]

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Console pages declare who may open them; the API's `access` is 'public' for them (no bearer token). */
    page?: PageAccess
  }
  interface FastifyRequest {
    consoleSession: Session | null
  }
}

export const COOKIE = { session: 'ts_session', csrf: 'ts_csrf', oidcState: 'ts_oidc_state' } as const

/** A same-site path to return to after sign-in: never another origin (`//host`, `/\host`), never a scheme. */
export function safeReturnTo(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])[^\s\\]*$/.test(value) && value.length <= 2000 ? value : '/console'
}

export function viewerOf(request: FastifyRequest): Viewer | null {
  const s = request.consoleSession
  return s ? { displayName: s.displayName, roles: s.roles, csrfToken: s.csrfToken } : null
}

export function sendPage(reply: FastifyReply, html: string | Promise<string>, status = 200): FastifyReply {
  return reply.status(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html)
}

export interface ConsoleContext {
  oidc: OidcSignIn | null
  cookieOptions: { path: string; httpOnly: true; sameSite: 'lax'; secure: boolean }
  /** The pre-session CSRF token of the sign-in forms (double-submit cookie), made when missing. */
  preSessionCsrf(request: FastifyRequest, reply: FastifyReply): string
}

export async function consolePlugin(app: FastifyInstance): Promise<void> {
  const config = app.config.console
  const cookieOptions = { path: '/', httpOnly: true as const, sameSite: 'lax' as const, secure: config.secureCookies }

  await app.register(fastifyCookie)
  // Forms post application/x-www-form-urlencoded; only in this scope, the API stays JSON-only.
  await app.register(fastifyFormbody, { bodyLimit: 64 * 1024 })
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
      },
    },
    // The pages link nothing cross-origin that needs it, and it breaks nothing here.
    crossOriginEmbedderPolicy: false,
    strictTransportSecurity: config.secureCookies,
  })

  // USWDS and htmx from their npm packages (never a CDN); the console's own few rules beside them.
  for (const [prefix, root] of [
    ['/assets/uswds/', join(PROJECT_ROOT, 'node_modules', '@uswds', 'uswds', 'dist')],
    ['/assets/htmx/', join(PROJECT_ROOT, 'node_modules', 'htmx.org', 'dist')],
  ] as const) {
    await app.register(fastifyStatic, { root, prefix, decorateReply: false, index: false, maxAge: '1d', serveDotFiles: false })
  }
  await app.register(fastifyStatic, { root: join(PROJECT_ROOT, 'src', 'console', 'assets'), prefix: '/assets/', decorateReply: false, index: false, maxAge: '1h' })

  app.decorateRequest('consoleSession', null)
  app.addHook('onRequest', async (request, reply) => {
    const page = request.routeOptions.config.page
    if (page === undefined) return
    const token = request.cookies[COOKIE.session]
    let expired = false
    if (token) {
      const found = await readSession(app.db.prisma, app.clock, { idleMs: config.sessionIdleMs, maxMs: config.sessionMaxMs }, token)
      if ('session' in found) {
        request.consoleSession = found.session
        // The domain's helpers (access log, actor names) read request.user, as on the API.
        request.user = { sub: found.session.subject, roles: found.session.roles }
      }
      else {
        expired = found.none === 'expired'
        reply.clearCookie(COOKIE.session, cookieOptions)
      }
    }
    if (page === 'public') return
    if (!request.consoleSession) {
      // Back to the same page after signing in; an htmx fragment sends the whole window there.
      const returnTo = request.method === 'GET' && !request.headers['hx-request'] ? request.url : String(request.headers['hx-current-url'] ?? '/console')
      const location = `/console/sign-in?returnTo=${encodeURIComponent(safeReturnTo(pathOf(returnTo)))}${expired ? '&notice=expired' : ''}`
      if (request.headers['hx-request']) return reply.status(401).header('hx-redirect', location).send()
      return reply.redirect(location, 303)
    }
    if (!page.some((role) => request.consoleSession!.roles.includes(role))) {
      return sendPage(
        reply,
        ErrorPage({ viewer: viewerOf(request), status: 403, title: 'Not available to your role', detail: 'This page is for other roles. Your home page lists what you can do.' }),
        403,
      )
    }
  })

  // CSRF: every state-changing request carries the session's token (or, before sign-in, the
  // double-submit cookie's) in the form field _csrf or the X-CSRF-Token header. SameSite=Lax alone
  // does not cover same-site attackers (another city subdomain).
  app.addHook('preHandler', async (request, reply) => {
    if (request.routeOptions.config.page === undefined || request.method === 'GET' || request.method === 'HEAD') return
    // Signing out a session that already ended changes nothing: no token to check.
    if (!request.consoleSession && request.routeOptions.url === '/console/sign-out') return
    const submitted = (request.body as Record<string, unknown> | undefined)?._csrf ?? request.headers['x-csrf-token']
    const ok = request.consoleSession ? csrfMatches(request.consoleSession, submitted) : preSessionMatches(request.cookies[COOKIE.csrf], submitted)
    if (!ok) {
      return sendPage(
        reply,
        ErrorPage({
          viewer: viewerOf(request),
          status: 403,
          title: 'This form has expired',
          detail: 'The form was opened in another session or too long ago, so nothing was changed. Go back, reload the page and submit it again.',
        }),
        403,
      )
    }
  })

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error instanceof ProblemError ? error.status : (error.statusCode ?? 500)
    if (status >= 500) request.log.error({ err: error }, 'page failed')
    const detail = status >= 500 ? 'Something went wrong on our side and nothing was changed.' : error.message
    return sendPage(
      reply,
      ErrorPage({ viewer: viewerOf(request), status, title: status >= 500 ? 'Something went wrong' : 'This request could not be completed', detail, requestId: request.id }),
      status,
    )
  })

  const context: ConsoleContext = {
    oidc: config.oidc ? new OidcSignIn(config.oidc) : null,
    cookieOptions,
    preSessionCsrf(request, reply) {
      const existing = request.cookies[COOKIE.csrf]
      if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing
      const token = randomBytes(32).toString('base64url')
      reply.setCookie(COOKIE.csrf, token, { ...cookieOptions, maxAge: 3600 })
      return token
    },
  }
  await app.register(publicPages)
  await app.register(staffPages, { context })
  await app.register(moderationPages)
  await app.register(auditPages)
}

function preSessionMatches(cookie: string | undefined, submitted: unknown): boolean {
  if (!cookie || typeof submitted !== 'string') return false
  const a = Buffer.from(cookie)
  const b = Buffer.from(submitted)
  return a.length === b.length && timingSafeEqual(a, b)
}

function pathOf(url: string): string {
  try {
    const u = new URL(url, 'http://x')
    return u.pathname + u.search
  } catch {
    return '/console'
  }
}
