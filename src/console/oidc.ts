// Sign-in through the city's identity provider: OpenID Connect authorization code flow with PKCE
// (openid-client). The PKCE verifier and nonce stay in the database; the browser holds the state.
import { createHash } from 'node:crypto'
import * as client from 'openid-client'
import type { Config } from '../config.js'
import type { PrismaClient } from '../generated/prisma/client.js'
import type { Clock } from '../ledger/append.js'
import { ROLES, type Role } from '../plugins/auth.js'

type OidcConfig = NonNullable<Config['console']['oidc']>

// A sign-in not completed in ten minutes is abandoned (the provider's own pages rarely take longer).
const SIGN_IN_TTL_MS = 10 * 60_000
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest()

/** Plain http only for a provider on this machine (tests, a local development IdP). */
function isLoopback(url: URL): boolean {
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)
}

export class OidcSignIn {
  private discovered: Promise<client.Configuration> | null = null

  constructor(private readonly config: OidcConfig) {}

  /** Discovery happens at the first sign-in, so the service starts when the provider is down. */
  private provider(): Promise<client.Configuration> {
    if (!this.discovered) {
      const issuer = new URL(this.config.issuer)
      this.discovered = client
        .discovery(issuer, this.config.clientId, this.config.clientSecret ?? undefined, undefined, isLoopback(issuer) ? { execute: [client.allowInsecureRequests] } : {})
        .catch((err: unknown) => {
          this.discovered = null
          throw err
        })
    }
    return this.discovered
  }

  /** Starts a sign-in: the provider's URL to redirect to and the state for the browser's cookie. */
  async start(prisma: PrismaClient, clock: Clock, returnTo: string): Promise<{ url: string; state: string }> {
    const provider = await this.provider()
    const codeVerifier = client.randomPKCECodeVerifier()
    const state = client.randomState()
    const nonce = client.randomNonce()
    await prisma.consoleSignIn.deleteMany({ where: { createdAt: { lt: new Date(clock().getTime() - SIGN_IN_TTL_MS) } } })
    await prisma.consoleSignIn.create({ data: { stateSha256: sha256(state), codeVerifier, nonce, returnTo, createdAt: clock() } })
    const url = client.buildAuthorizationUrl(provider, {
      redirect_uri: this.config.redirectUrl,
      scope: 'openid profile email',
      code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    })
    return { url: url.href, state }
  }

  /**
   * Completes a sign-in from the provider's callback: exchanges the code (PKCE, state and nonce
   * checked by openid-client) and maps the user's claim values to roles. Throws when anything does
   * not check out; the caller shows a plain "sign-in did not complete".
   */
  async finish(
    prisma: PrismaClient,
    clock: Clock,
    callbackUrl: URL,
    cookieState: string,
  ): Promise<{ subject: string; displayName: string; roles: Role[]; returnTo: string }> {
    const pending = await prisma.consoleSignIn.findUnique({ where: { stateSha256: sha256(cookieState) } })
    if (!pending) throw new Error('no sign-in under way for this browser')
    await prisma.consoleSignIn.delete({ where: { stateSha256: pending.stateSha256 } })
    if (clock().getTime() - pending.createdAt.getTime() > SIGN_IN_TTL_MS) throw new Error('the sign-in took too long')
    const provider = await this.provider()
    // The callback is answered at OIDC_REDIRECT_URL: behind a proxy the request's own URL may differ.
    const current = new URL(this.config.redirectUrl)
    current.search = callbackUrl.search
    const tokens = await client.authorizationCodeGrant(provider, current, {
      pkceCodeVerifier: pending.codeVerifier,
      expectedState: cookieState,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    })
    const claims = tokens.claims()
    if (!claims) throw new Error('no ID token')
    return {
      subject: claims.sub,
      displayName: String(claims.name ?? claims.preferred_username ?? claims.email ?? claims.sub),
      roles: rolesFromClaim(claims[this.config.rolesClaim], this.config.roleMap),
      returnTo: pending.returnTo,
    }
  }
}

/** The Townsquare roles of a claim's values (OIDC_ROLES_CLAIM, mapped by OIDC_ROLE_MAP). */
export function rolesFromClaim(claim: unknown, roleMap: Map<string, string[]> | null): Role[] {
  const values = (Array.isArray(claim) ? claim : typeof claim === 'string' ? claim.split(/[\s,]+/) : []).filter((v): v is string => typeof v === 'string')
  const named = roleMap ? values.flatMap((v) => roleMap.get(v) ?? []) : values
  return ROLES.filter((role) => named.includes(role))
}
