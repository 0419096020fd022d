// LinkedIn organization social action notifications: validation challenge, signature, comments.
import { z } from 'zod'
import { assertSecret, bytesEqual, decodeHexMac, hmacSha256, isHandshakeBody, isHandshakeToken, readHeader } from './crypto.js'
import { epochNumberSchema, idSchema, isoFromEpochMs, parseChange, parseEnvelope, parseJsonBody, singleQueryValue } from './parse.js'
import type { CommentEvent, CommentEventKind, HandshakeResult, NormalizeResult, SignatureCheck, SkippedChange, WebhookHeaders } from './types.js'

export const LINKEDIN_SIGNATURE_HEADER = 'x-li-signature'

/**
 * ---- UNCONFIRMED: the forms of `X-LI-Signature` accepted. Keep all variant logic here. ----
 * `documented`: hex HMAC-SHA256(client secret, "hmacsha256=" + raw body), as LinkedIn documents it.
 * `header-prefix`: "hmacsha256=" + hex HMAC-SHA256(client secret, raw body), seen in public code.
 * `plain`: hex HMAC-SHA256(client secret, raw body), seen in public code.
 * The matching variant is reported in `SignatureCheck.variant` so the caller can log it; once
 * LinkedIn's real form is known, delete the other rows.
 */
const SIGNATURE_TAG = 'hmacsha256='
export const LINKEDIN_SIGNATURE_VARIANTS = [
  { variant: 'documented', headerPrefix: '', messagePrefix: SIGNATURE_TAG },
  { variant: 'header-prefix', headerPrefix: SIGNATURE_TAG, messagePrefix: '' },
  { variant: 'plain', headerPrefix: '', messagePrefix: '' },
] as const

export function verifySignature(rawBody: Buffer, headers: WebhookHeaders, secret: string, _now?: Date): SignatureCheck {
  assertSecret(secret)
  const header = readHeader(headers, LINKEDIN_SIGNATURE_HEADER)
  if (header.status !== 'present') return { ok: false, reason: header.status }
  const hasTag = header.value.toLowerCase().startsWith(SIGNATURE_TAG)
  const provided = decodeHexMac(hasTag ? header.value.slice(SIGNATURE_TAG.length) : header.value)
  if (!provided) return { ok: false, reason: 'malformed' }
  if (isHandshakeBody(rawBody)) return { ok: false, reason: 'handshake' }
  for (const { variant, headerPrefix, messagePrefix } of LINKEDIN_SIGNATURE_VARIANTS) {
    if (hasTag !== (headerPrefix !== '')) continue
    if (bytesEqual(hmacSha256(secret, messagePrefix, rawBody), provided)) return { ok: true, variant }
  }
  return { ok: false, reason: 'mismatch' }
}

const json = (status: number, body: unknown): HandshakeResult => ({ status, contentType: 'application/json', body: JSON.stringify(body) })

/**
 * The validation challenge: `{"challengeCode":C,"challengeResponse":"<hex HMAC-SHA256(client secret, C)>"}`;
 * 400 without a code, or with one LinkedIn never sends (crypto.ts, HANDSHAKE_TOKEN: never a signing oracle).
 */
export function linkedinChallenge(challengeCode: string | undefined, clientSecret: string): HandshakeResult {
  assertSecret(clientSecret)
  if (typeof challengeCode !== 'string' || challengeCode === '') return json(400, { error: 'challengeCode is required' })
  if (!isHandshakeToken(challengeCode)) return json(400, { error: 'challengeCode is not a code LinkedIn sends' })
  return json(200, { challengeCode, challengeResponse: hmacSha256(clientSecret, challengeCode).toString('hex') })
}

/** `GET ?challengeCode=C&applicationId=A` as a parsed query. */
export function linkedinHandshake(query: Record<string, unknown>, clientSecret: string): HandshakeResult {
  return linkedinChallenge(singleQueryValue(query, 'challengeCode'), clientSecret)
}

// ---------------------------------------------------------------------------------------------
// Payloads

export const LINKEDIN_NOTIFICATION_TYPE = 'ORGANIZATION_SOCIAL_ACTION_NOTIFICATIONS'

const ACTIONS: ReadonlyMap<string, { kind: CommentEventKind; byCityAccount: boolean }> = new Map([
  ['COMMENT', { kind: 'created', byCityAccount: false }],
  ['COMMENT_EDIT', { kind: 'edited', byCityAccount: false }],
  ['COMMENT_DELETE', { kind: 'deleted_by_author', byCityAccount: false }],
  ['ADMIN_COMMENT', { kind: 'created', byCityAccount: true }], // the city's own comment
])

const TypeSchema = z.looseObject({ type: z.string() })
const EnvelopeSchema = z.looseObject({ type: z.literal(LINKEDIN_NOTIFICATION_TYPE), notifications: z.array(z.unknown()) })

// `decoratedGeneratedActivity.comment`'s field names are UNCONFIRMED: a field of an unexpected type
// reads as absent instead of failing the notification.
const loose = <T extends z.ZodType>(schema: T) => schema.nullish().catch(undefined)

const NotificationSchema = z.looseObject({
  notificationId: idSchema,
  action: z.string(),
  lastModifiedAt: epochNumberSchema, // epoch milliseconds
  organizationalEntity: idSchema,
  sourcePost: idSchema.nullish(),
  generatedActivity: idSchema.nullish(),
  decoratedGeneratedActivity: loose(
    z.looseObject({
      comment: loose(
        z.looseObject({
          entity: loose(z.string()),
          owner: loose(z.string()),
          actor: loose(z.string()),
          object: loose(z.string()),
          parentComment: loose(z.string()),
          text: loose(z.string()),
        }),
      ),
    }),
  ),
})

const isCommentUrn = (urn: string | null | undefined): urn is string => typeof urn === 'string' && urn.startsWith('urn:li:comment:')

function notificationEvent(raw: unknown, path: string): CommentEvent | string {
  const action = raw !== null && typeof raw === 'object' ? (raw as Record<string, unknown>).action : undefined
  const known = typeof action === 'string' ? ACTIONS.get(action) : undefined
  if (!known) return `linkedin action ${JSON.stringify(action) ?? 'undefined'} is not a comment action`

  const parsed = parseChange(NotificationSchema, raw, path)
  if (!parsed.ok) return parsed.reason
  const n = parsed.data
  const comment = n.decoratedGeneratedActivity?.comment
  // The comment URN: `generatedActivity` is documented as it; the decorated `entity` is the fallback.
  const candidates = [n.generatedActivity, comment?.entity]
  const commentUrn = candidates.find(isCommentUrn) ?? candidates.find((c) => typeof c === 'string' && c !== '')
  if (!commentUrn) return `malformed change: ${path}: no comment URN in generatedActivity or decoratedGeneratedActivity.comment.entity`
  const platformTime = isoFromEpochMs(n.lastModifiedAt)
  if (!platformTime) return `malformed change: ${path}.lastModifiedAt: out of range`

  const authorId = comment?.owner ?? comment?.actor ?? null
  // A reply's object (or parentComment) is its parent comment; a top-level comment's is the post.
  const parentId = [comment?.parentComment, comment?.object].find(isCommentUrn) ?? null
  return {
    platform: 'linkedin',
    account: n.organizationalEntity,
    externalId: commentUrn,
    postId: n.sourcePost ?? null,
    parentId,
    author: { id: authorId, name: null }, // LinkedIn does not send the display name
    text: known.kind === 'deleted_by_author' ? null : (comment?.text ?? null),
    platformTime,
    kind: known.kind,
    byCityAccount: known.byCityAccount || authorId === n.organizationalEntity,
    deliveryKey: n.notificationId, // LinkedIn documents duplicates; notificationId identifies the change
  }
}

/** Normalizes a LinkedIn delivery. A delivery of another `type` is skipped whole. */
export function normalize(rawBody: Buffer): NormalizeResult {
  const body = parseJsonBody('linkedin', rawBody)
  const events: CommentEvent[] = []
  const skipped: SkippedChange[] = []
  const { type } = parseEnvelope('linkedin', TypeSchema, body)
  if (type !== LINKEDIN_NOTIFICATION_TYPE) {
    skipped.push({ reason: `linkedin delivery type ${JSON.stringify(type)} is not handled`, raw: body })
    return { events, skipped }
  }
  const envelope = parseEnvelope('linkedin', EnvelopeSchema, body)
  envelope.notifications.forEach((raw, i) => {
    const result = notificationEvent(raw, `$.notifications[${i}]`)
    if (typeof result === 'string') skipped.push({ reason: result, raw })
    else events.push(result)
  })
  return { events, skipped }
}
