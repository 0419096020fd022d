import { createPublicKey } from 'node:crypto'
import fastifyJwt, { type TokenOrHeader } from '@fastify/jwt'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import buildGetJwks from 'get-jwks'
import { z } from 'zod'
import type { Config } from '../config.js'
import { ProblemError } from './errors.js'

export const ROLES = ['tst_moderator', 'tst_admin', 'records_clerk', 'auditor', 'admin'] as const
export type Role = (typeof ROLES)[number]

/**
 * Who may call a route. Every route must declare it (default deny): `'public'` for routes the
 * public or a platform reaches without a token (webhooks authenticate by signature instead), or the
 * list of roles allowed.
 */
export type Access = 'public' | readonly Role[]

export interface Actor {
  sub: string
  roles: Role[]
}

export interface RouteAccess {
  method: string
  url: string
  access: Access
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access
  }
  interface FastifyInstance {
    /** Every route with who may call it: walked by the role-matrix test and the roles reference. */
    routeAccess: RouteAccess[]
  }
}

declare module '@fastify/jwt' {
  interface FastifyJWT {
    payload: { sub: string; roles: Role[] }
    user: Actor
  }
}

const Claims = z.object({
  sub: z.string().min(1),
  roles: z.array(z.string()),
})

export class UnauthorizedError extends ProblemError {
  constructor(detail: string) {
    super(401, 'unauthorized', 'Unauthorized', detail)
  }
}

export class ForbiddenError extends ProblemError {
  constructor(detail: string) {
    super(403, 'forbidden', 'Forbidden', detail)
  }
}

// Routes that third-party plugins add (the Swagger UI's and the console's static files) cannot carry our
// declaration; they are listed here, by prefix, so that the exception is visible in one place.
const PLUGIN_ROUTES_PUBLIC = ['/docs', '/assets']

type Algorithm = 'HS256' | 'RS256' | 'ES256'

function algorithmsFor(publicKeyPem: string): Algorithm[] {
  const key = createPublicKey(publicKeyPem)
  if (key.asymmetricKeyType === 'rsa') return ['RS256']
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return ['ES256']
  throw new Error(`JWT_PUBLIC_KEY must be an RSA or EC P-256 public key, got ${key.asymmetricKeyType}`)
}

async function authPlugin(app: FastifyInstance, options: { config: Config }) {
  const { verification, issuer, audience } = options.config.jwt
  const verify = { allowedIss: issuer, allowedAud: audience, requiredClaims: ['sub', 'exp'] }
  if (verification.mode === 'hs256') {
    await app.register(fastifyJwt, {
      secret: verification.secret,
      sign: { algorithm: 'HS256', iss: issuer, aud: audience, expiresIn: '8h' },
      verify: { ...verify, algorithms: ['HS256'] satisfies Algorithm[] },
    })
  } else if (verification.mode === 'public-key') {
    await app.register(fastifyJwt, {
      // Only the public half: this service verifies tokens, it never issues them in production.
      secret: { public: verification.publicKey },
      verify: { ...verify, algorithms: algorithmsFor(verification.publicKey) },
    })
  } else {
    const url = new URL(verification.jwksUrl)
    const getJwks = buildGetJwks({ jwksPath: url.pathname + url.search, ttl: 10 * 60_000 })
    await app.register(fastifyJwt, {
      decode: { complete: true },
      secret: (_request: FastifyRequest, token: TokenOrHeader) => {
        const header = 'header' in token ? token.header : token
        return getJwks.getPublicKey({ domain: url.origin, kid: header.kid, alg: header.alg })
      },
      verify: { ...verify, algorithms: ['RS256', 'ES256'] satisfies Algorithm[] },
    })
  }

  const routeAccess: RouteAccess[] = []
  app.decorate('routeAccess', routeAccess)
  app.addHook('onRoute', (route) => {
    if (route.config?.access === undefined) {
      if (!PLUGIN_ROUTES_PUBLIC.some((prefix) => route.url === prefix || route.url.startsWith(prefix + '/'))) {
        throw new Error(`Route ${String(route.method)} ${route.url} declares no access (config.access); every route must (default deny).`)
      }
      route.config = { ...route.config, access: 'public' }
    }
    for (const method of [route.method].flat()) routeAccess.push({ method, url: route.url, access: route.config.access! })
  })

  // onRequest runs before the body is parsed and validated, so an anonymous caller learns nothing
  // about a route's input from its 400s.
  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config.access
    if (access === undefined || access === 'public') return
    if (!request.headers.authorization) throw new UnauthorizedError('This route needs a bearer token.')
    const { roles } = await verifyBearer(request)
    if (!access.some((role) => roles.includes(role))) {
      throw new ForbiddenError(`This route needs one of the roles: ${access.join(', ')}.`)
    }
  })
}

/** The authenticated caller of a route that declared roles. */
export function actorOf(request: FastifyRequest): Actor {
  return request.user
}

/**
 * On a public route, the caller if a bearer token was presented (and it must then be valid), else
 * null. Public routes use it to show more to staff, e.g. policy drafts to a tst_admin.
 */
export async function optionalActor(request: FastifyRequest): Promise<Actor | null> {
  if (!request.headers.authorization) return null
  return verifyBearer(request)
}

/** Verifies the bearer token and sets request.user to its subject and known roles. */
async function verifyBearer(request: FastifyRequest): Promise<Actor> {
  try {
    await request.jwtVerify()
  } catch {
    throw new UnauthorizedError('The bearer token is invalid or expired.')
  }
  const claims = Claims.safeParse(request.user)
  if (!claims.success) throw new UnauthorizedError('The bearer token lacks a valid sub or roles claim.')
  request.user = { sub: claims.data.sub, roles: claims.data.roles.filter((r): r is Role => (ROLES as readonly string[]).includes(r)) }
  return request.user
}

export default fp(authPlugin, { name: 'auth', dependencies: ['errors'] })
