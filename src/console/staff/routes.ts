// Signing in and out, and the staff home page.
import type { FastifyInstance } from 'fastify'
import { ROLES, type Role } from '../../plugins/auth.js'
import { COOKIE, safeReturnTo, sendPage, viewerOf, type ConsoleContext } from '../plugin.js'
import { endSession, startSession } from '../session.js'
import { SIGN_IN_NOTICES, SignInPage, StaffHome, type SignInNotice } from './views.js'

const PUBLIC = { access: 'public', page: 'public' } as const
const STAFF = { access: 'public', page: ROLES } as const

export async function staffPages(app: FastifyInstance, options: { context: ConsoleContext }): Promise<void> {
  const { context } = options
  const prisma = app.db.prisma
  const config = app.config.console

  const signInPage = (request: Parameters<typeof viewerOf>[0], reply: Parameters<typeof sendPage>[0], extra: { errors?: Array<{ field: string; message: string }>; returnTo?: string; typed?: { name: string; role: string } } = {}) => {
    const query = request.query as Record<string, unknown>
    const notice = (SIGN_IN_NOTICES as readonly string[]).includes(String(query.notice)) ? (query.notice as SignInNotice) : null
    const errors = extra.errors ?? []
    return sendPage(
      reply,
      SignInPage({
        oidc: context.oidc !== null,
        devSignIn: config.devSignIn,
        returnTo: extra.returnTo ?? safeReturnTo(query.returnTo),
        notice,
        errors,
        csrfToken: context.preSessionCsrf(request, reply),
        ...(extra.typed ? { typed: extra.typed } : {}),
      }),
      errors.length ? 400 : 200,
    )
  }

  // Signing in again (as someone else, or with another role) ends the browser's earlier session.
  const endPrevious = async (request: Parameters<typeof viewerOf>[0]) => {
    const previous = request.cookies[COOKIE.session]
    if (previous) await endSession(prisma, app.clock, previous)
  }

  app.get('/console/sign-in', { config: PUBLIC, schema: { hide: true } }, async (request, reply) => {
    if (request.consoleSession) return reply.redirect(safeReturnTo((request.query as Record<string, unknown>).returnTo), 303)
    return signInPage(request, reply)
  })

  // Not even routed when off (always in production), so nothing can reach it.
  if (config.devSignIn) app.post('/console/sign-in/development', { config: PUBLIC, schema: { hide: true } }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>
    const returnTo = safeReturnTo(body.returnTo)
    const name = typeof body.name === 'string' ? body.name.trim() : ''
    const role = typeof body.role === 'string' ? body.role : ''
    const errors: Array<{ field: string; message: string }> = []
    if (name === '' || name.length > 100) errors.push({ field: 'name', message: 'Enter your name, up to 100 characters' })
    if (!(ROLES as readonly string[]).includes(role)) errors.push({ field: 'role-tst_moderator', message: 'Choose a role' })
    if (errors.length) return signInPage(request, reply, { errors, returnTo, typed: { name, role } })
    const subject = 'dev:' + name.toLowerCase().replace(/[^a-z0-9]+/g, '-')
    await endPrevious(request)
    const { token } = await startSession(prisma, app.clock, { subject, displayName: name, roles: [role as Role], signedInBy: 'development' })
    request.log.info({ subject, roles: [role], via: 'development' }, 'console sign-in')
    reply.setCookie(COOKIE.session, token, context.cookieOptions)
    return reply.redirect(returnTo, 303)
  })

  // A GET, so the browser goes to the provider without a cross-origin form post (CSP form-action).
  app.get('/console/sign-in/oidc', { config: PUBLIC, schema: { hide: true } }, async (request, reply) => {
    if (!context.oidc) return reply.status(404).send()
    const { url, state } = await context.oidc.start(prisma, app.clock, safeReturnTo((request.query as Record<string, unknown>).returnTo))
    reply.setCookie(COOKIE.oidcState, state, { ...context.cookieOptions, maxAge: 600 })
    return reply.redirect(url, 303)
  })

  app.get('/console/sign-in/callback', { config: PUBLIC, schema: { hide: true } }, async (request, reply) => {
    if (!context.oidc) return reply.status(404).send()
    const state = request.cookies[COOKIE.oidcState]
    reply.clearCookie(COOKIE.oidcState, context.cookieOptions)
    let who
    try {
      if (!state) throw new Error('no state cookie')
      who = await context.oidc.finish(prisma, app.clock, new URL(request.url, 'http://callback.invalid'), state)
    } catch (err) {
      request.log.warn({ err }, 'console sign-in failed')
      return reply.redirect('/console/sign-in?notice=failed', 303)
    }
    if (who.roles.length === 0) {
      request.log.warn({ subject: who.subject }, 'console sign-in refused: no Townsquare role')
      return reply.redirect('/console/sign-in?notice=no-role', 303)
    }
    await endPrevious(request)
    const { token } = await startSession(prisma, app.clock, { ...who, signedInBy: 'oidc' })
    request.log.info({ subject: who.subject, roles: who.roles, via: 'oidc' }, 'console sign-in')
    reply.setCookie(COOKIE.session, token, context.cookieOptions)
    return reply.redirect(safeReturnTo(who.returnTo), 303)
  })

  app.post('/console/sign-out', { config: PUBLIC, schema: { hide: true } }, async (request, reply) => {
    const token = request.cookies[COOKIE.session]
    if (token) await endSession(prisma, app.clock, token)
    reply.clearCookie(COOKIE.session, context.cookieOptions)
    return reply.redirect('/console/sign-in?notice=signed-out', 303)
  })

  app.get('/console', { config: STAFF, schema: { hide: true } }, async (request, reply) => sendPage(reply, StaffHome({ viewer: viewerOf(request)! })))
}
