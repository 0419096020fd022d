// The platform adapters, keyed by the webhook route (platform name) a delivery arrives on.
import * as linkedin from './linkedin.js'
import * as meta from './meta.js'
import { keepRepresentable } from './parse.js'
import type { HandshakeResult, NormalizeResult, Platform, SignatureCheck, WebhookHeaders, WebhookSource } from './types.js'
import * as website from './website.js'
import * as x from './x.js'

export interface PlatformAdapter {
  source: WebhookSource
  /** The platforms whose events this route produces (Meta: Facebook and Instagram). */
  platforms: readonly Platform[]
  /** The header carrying the signature (lower case). */
  signatureHeader: string
  verifySignature(rawBody: Buffer, headers: WebhookHeaders, secret: string, now?: Date): SignatureCheck
  /** Throws MalformedDeliveryError. Never returns what PostgreSQL cannot keep (parse.ts, keepRepresentable). */
  normalize(rawBody: Buffer): NormalizeResult
  /**
   * The GET handshake, from the parsed query. `credential` is Meta's verify token, X's consumer
   * secret, LinkedIn's client secret. The website has none.
   */
  handshake?: (query: Record<string, unknown>, credential: string) => HandshakeResult
}

export const platformAdapters: Readonly<Record<WebhookSource, PlatformAdapter>> = Object.freeze({
  meta: {
    source: 'meta',
    platforms: ['facebook', 'instagram'],
    signatureHeader: meta.META_SIGNATURE_HEADER,
    verifySignature: meta.verifySignature,
    normalize: (body) => keepRepresentable(meta.normalize(body)),
    handshake: meta.metaHandshake,
  },
  x: {
    source: 'x',
    platforms: ['x'],
    signatureHeader: x.X_SIGNATURE_HEADER,
    verifySignature: x.verifySignature,
    normalize: (body) => keepRepresentable(x.normalize(body)),
    handshake: x.xHandshake,
  },
  linkedin: {
    source: 'linkedin',
    platforms: ['linkedin'],
    signatureHeader: linkedin.LINKEDIN_SIGNATURE_HEADER,
    verifySignature: linkedin.verifySignature,
    normalize: (body) => keepRepresentable(linkedin.normalize(body)),
    handshake: linkedin.linkedinHandshake,
  },
  website: {
    source: 'website',
    platforms: ['website'],
    signatureHeader: website.WEBSITE_SIGNATURE_HEADER,
    verifySignature: website.verifySignature,
    normalize: (body) => keepRepresentable(website.normalize(body)),
  },
})

/** The route whose adapter handles a platform's events. */
export const sourceOfPlatform: Readonly<Record<Platform, WebhookSource>> = Object.freeze({
  facebook: 'meta',
  instagram: 'meta',
  x: 'x',
  linkedin: 'linkedin',
  website: 'website',
})

export function isWebhookSource(value: string): value is WebhookSource {
  return Object.hasOwn(platformAdapters, value)
}

export { linkedinChallenge, linkedinHandshake } from './linkedin.js'
export { metaHandshake } from './meta.js'
export { websiteSignatureHeader } from './website.js'
export { xCrc, xHandshake } from './x.js'
export * from './types.js'
