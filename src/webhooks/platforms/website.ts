// The city website's comment webhook (our own contract, see /shared/platforms/README.md).
import { z } from 'zod'
import { assertSecret, bytesEqual, decodeHexMac, hmacSha256, readHeader } from './crypto.js'
import { parseChange, parseEnvelope, parseJsonBody } from './parse.js'
import type { CommentEvent, CommentEventKind, NormalizeResult, SignatureCheck, SkippedChange, WebhookHeaders } from './types.js'

export const WEBSITE_SIGNATURE_HEADER = 'townsquare-signature'
/** A delivery signed further than this from now (either way) is refused: the replay window. */
export const WEBSITE_SIGNATURE_TOLERANCE_SECONDS = 300

/**
 * `t=<unix seconds>,v1=<hex>` → its parts, or null. Each key once; unknown keys are ignored so a
 * later `v2` can be added alongside `v1`.
 */
function parseSignatureHeader(value: string): { t: string; v1: Buffer } | null {
  let t: string | undefined
  let v1: string | undefined
  for (const part of value.split(',')) {
    const eq = part.indexOf('=')
    if (eq < 0) return null
    const key = part.slice(0, eq).trim()
    const val = part.slice(eq + 1).trim()
    if (key === 't') {
      if (t !== undefined) return null
      t = val
    } else if (key === 'v1') {
      if (v1 !== undefined) return null
      v1 = val
    }
  }
  if (t === undefined || v1 === undefined || !/^\d{1,12}$/.test(t)) return null
  const mac = decodeHexMac(v1)
  return mac ? { t, v1: mac } : null
}

/**
 * `Townsquare-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, t + "." + raw body)>`. The MAC is checked
 * first, so `expired` is only ever said of an authentic delivery (a replay or a skewed clock).
 */
export function verifySignature(rawBody: Buffer, headers: WebhookHeaders, secret: string, now: Date = new Date()): SignatureCheck {
  assertSecret(secret)
  const header = readHeader(headers, WEBSITE_SIGNATURE_HEADER)
  if (header.status !== 'present') return { ok: false, reason: header.status }
  const parsed = parseSignatureHeader(header.value)
  if (!parsed) return { ok: false, reason: 'malformed' }
  if (!bytesEqual(hmacSha256(secret, parsed.t, '.', rawBody), parsed.v1)) return { ok: false, reason: 'mismatch' }
  const skewMs = Math.abs(now.getTime() - Number(parsed.t) * 1000)
  // Written so that an invalid `now` (NaN) fails closed.
  if (!(skewMs <= WEBSITE_SIGNATURE_TOLERANCE_SECONDS * 1000)) return { ok: false, reason: 'expired' }
  return { ok: true }
}

/** The header value the website sends; for the website's implementers and for tests. */
export function websiteSignatureHeader(rawBody: Uint8Array, secret: string, at: Date = new Date()): string {
  const t = String(Math.floor(at.getTime() / 1000))
  return `t=${t},v1=${hmacSha256(secret, t, '.', rawBody).toString('hex')}`
}

// ---------------------------------------------------------------------------------------------
// Payloads

const TYPES: ReadonlyMap<string, CommentEventKind> = new Map([
  ['comment.created', 'created'],
  ['comment.edited', 'edited'],
  ['comment.deleted', 'deleted_by_author'],
])

const EnvelopeSchema = z.looseObject({ events: z.array(z.unknown()) })

const EventSchema = z.looseObject({
  id: z.string().min(1),
  type: z.string(),
  commentId: z.string().min(1),
  pageUrl: z.url({ protocol: /^https?$/ }),
  parentId: z.string().min(1).nullish(),
  author: z.looseObject({ id: z.string().min(1), name: z.string().nullish(), email: z.string().nullish() }),
  text: z.string().nullish(),
  occurredAt: z.iso.datetime({ offset: true }),
})

function websiteEvent(raw: unknown, path: string): CommentEvent | string {
  const type = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>).type : undefined
  const kind = typeof type === 'string' ? TYPES.get(type) : undefined
  if (!kind) return `website event type ${JSON.stringify(type) ?? 'undefined'} is not a comment event`
  const parsed = parseChange(EventSchema, raw, path)
  if (!parsed.ok) return parsed.reason
  const e = parsed.data
  if (kind !== 'deleted_by_author' && typeof e.text !== 'string') return `malformed change: ${path}.text: required for ${type}`
  return {
    platform: 'website',
    account: new URL(e.pageUrl).host,
    externalId: e.commentId,
    postId: e.pageUrl, // the page is what is commented on
    parentId: e.parentId ?? null,
    author: { id: e.author.id, name: e.author.name ?? null, email: e.author.email ?? null },
    text: kind === 'deleted_by_author' ? null : (e.text ?? null),
    platformTime: new Date(e.occurredAt).toISOString(),
    kind,
    byCityAccount: false, // the contract has no notion of the city's own account
    deliveryKey: e.id,
  }
}

/** Normalizes a website delivery. */
export function normalize(rawBody: Buffer): NormalizeResult {
  const envelope = parseEnvelope('website', EnvelopeSchema, parseJsonBody('website', rawBody))
  const events: CommentEvent[] = []
  const skipped: SkippedChange[] = []
  envelope.events.forEach((raw, i) => {
    const result = websiteEvent(raw, `$.events[${i}]`)
    if (typeof result === 'string') skipped.push({ reason: result, raw })
    else events.push(result)
  })
  return { events, skipped }
}
