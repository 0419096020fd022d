// Meta webhooks: Facebook Page `feed` comments and Instagram `comments`, one route, one app secret.
import { z } from 'zod'
import { assertSecret, bytesEqual, decodeHexMac, hmacSha256, readHeader, shortDigest, stringsEqual } from './crypto.js'
import { epochNumberSchema, idSchema, isoFromEpochMs, parseChange, parseEnvelope, parseJsonBody, singleQueryValue } from './parse.js'
import type { CommentEvent, CommentEventKind, HandshakeResult, NormalizeResult, SignatureCheck, SkippedChange, WebhookHeaders } from './types.js'

export const META_SIGNATURE_HEADER = 'x-hub-signature-256'
const SIGNATURE_PREFIX = 'sha256='

/**
 * `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`. The legacy SHA-1
 * `X-Hub-Signature` is ignored: it neither satisfies nor spoils the check.
 */
export function verifySignature(rawBody: Buffer, headers: WebhookHeaders, secret: string, _now?: Date): SignatureCheck {
  assertSecret(secret)
  const header = readHeader(headers, META_SIGNATURE_HEADER)
  if (header.status !== 'present') return { ok: false, reason: header.status }
  const provided = header.value.startsWith(SIGNATURE_PREFIX) ? decodeHexMac(header.value.slice(SIGNATURE_PREFIX.length)) : null
  if (!provided) return { ok: false, reason: 'malformed' }
  return bytesEqual(hmacSha256(secret, rawBody), provided) ? { ok: true } : { ok: false, reason: 'mismatch' }
}

// `hub.mode` arrives as a flat key with Node's querystring (Fastify's default); a `qs`-style
// parser nests it as `{ hub: { mode } }`. Both are read.
function hubParam(query: Record<string, unknown>, name: 'mode' | 'verify_token' | 'challenge'): string | undefined {
  const flat = singleQueryValue(query, `hub.${name}`)
  if (flat !== undefined) return flat
  const nested = query.hub
  return nested !== null && typeof nested === 'object' && !Array.isArray(nested) ? singleQueryValue(nested as Record<string, unknown>, name) : undefined
}

const text = (status: number, body: string): HandshakeResult => ({ status, contentType: 'text/plain', body })

/**
 * The subscription handshake: `GET ?hub.mode=subscribe&hub.verify_token=T&hub.challenge=C`.
 * 200 with C as plain text, byte for byte, when the mode is `subscribe` and T is the verify token;
 * 400 when a parameter is missing (or repeated); 403 otherwise.
 */
export function metaHandshake(query: Record<string, unknown>, verifyToken: string): HandshakeResult {
  assertSecret(verifyToken)
  const mode = hubParam(query, 'mode')
  const token = hubParam(query, 'verify_token')
  const challenge = hubParam(query, 'challenge')
  if (mode === undefined || token === undefined || challenge === undefined) {
    return text(400, 'hub.mode, hub.verify_token and hub.challenge are required')
  }
  if (mode !== 'subscribe' || !stringsEqual(token, verifyToken)) return text(403, 'Forbidden')
  return text(200, challenge)
}

// ---------------------------------------------------------------------------------------------
// Payloads

const FACEBOOK_VERBS: ReadonlyMap<string, CommentEventKind> = new Map([
  ['add', 'created'],
  ['edited', 'edited'],
  ['edit', 'edited'], // some deliveries say `edit`
  ['remove', 'deleted_by_author'],
  ['hide', 'hidden_on_platform'],
  ['unhide', 'unhidden_on_platform'],
])

const ObjectSchema = z.looseObject({ object: z.string() })

const EnvelopeSchema = z.looseObject({
  object: z.enum(['page', 'instagram']),
  entry: z.array(
    z.looseObject({
      id: idSchema,
      time: epochNumberSchema,
      changes: z.array(z.unknown()).optional(),
    }),
  ),
})

const ChangeSchema = z.looseObject({ field: z.string(), value: z.unknown() })

const FacebookCommentSchema = z.looseObject({
  comment_id: idSchema,
  post_id: idSchema.nullish(),
  parent_id: idSchema.nullish(),
  from: z.looseObject({ id: idSchema.nullish(), name: z.string().nullish() }).nullish(),
  sender_id: idSchema.nullish(), // older API versions, instead of `from`
  sender_name: z.string().nullish(),
  message: z.string().nullish(),
  created_time: epochNumberSchema.nullish(),
})

const InstagramCommentSchema = z.looseObject({
  id: idSchema,
  text: z.string().nullish(),
  from: z.looseObject({ id: idSchema.nullish(), username: z.string().nullish() }).nullish(),
  media: z.looseObject({ id: idSchema.nullish() }).nullish(),
  parent_id: idSchema.nullish(),
})

// Meta's times are Unix seconds. Some Meta products send `entry.time` in milliseconds; a seconds
// value of 1e11 would be the year 5138, so anything that large is taken as milliseconds.
const metaTimeToIso = (time: number): string | null => isoFromEpochMs(time >= 1e11 ? time : time * 1000)

interface EntryContext {
  account: string
  time: number
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** A comment event, or why the change is skipped. */
function facebookChange(value: unknown, entry: EntryContext, path: string): CommentEvent | string {
  const item = isRecord(value) ? value.item : undefined
  if (item !== 'comment') return `facebook feed item ${JSON.stringify(item) ?? 'undefined'} is not a comment`
  const verb = isRecord(value) ? value.verb : undefined
  const kind = typeof verb === 'string' ? FACEBOOK_VERBS.get(verb) : undefined
  if (!kind) return `facebook comment verb ${JSON.stringify(verb) ?? 'undefined'} is not known`

  const parsed = parseChange(FacebookCommentSchema, value, `${path}.value`)
  if (!parsed.ok) return parsed.reason
  const v = parsed.data

  // `created_time` is the comment's creation time, also on later changes (edit, remove, hide):
  // those are dated by the notification, `entry.time`.
  const time = kind === 'created' ? (v.created_time ?? entry.time) : entry.time
  const platformTime = metaTimeToIso(time)
  if (!platformTime) return `malformed change: ${path}: time ${time} out of range`

  const authorId = v.from?.id ?? v.sender_id ?? null
  const postId = v.post_id ?? null
  const text = kind === 'deleted_by_author' ? null : (v.message ?? null)
  return {
    platform: 'facebook',
    account: entry.account,
    externalId: v.comment_id,
    postId,
    // Facebook's parent_id is the post for a top-level comment.
    parentId: v.parent_id && v.parent_id !== postId ? v.parent_id : null,
    author: { id: authorId, name: v.from?.name ?? v.sender_name ?? null },
    text,
    platformTime,
    kind,
    byCityAccount: authorId === entry.account,
    deliveryKey: metaDeliveryKey(v.comment_id, kind, time, text),
  }
}

/**
 * Creation and deletion happen once per comment, so the id and kind identify them. Edits, hides and
 * unhides repeat: the notification time is added, and for edits a digest of the new text, so two
 * edits batched under one `entry.time` stay distinct while a redelivery gets the same key.
 */
function metaDeliveryKey(commentId: string, kind: CommentEventKind, time: number, text: string | null): string {
  if (kind === 'created' || kind === 'deleted_by_author') return `${commentId}:${kind}`
  if (kind === 'edited') return `${commentId}:${kind}:${time}:${shortDigest(text ?? '')}`
  return `${commentId}:${kind}:${time}`
}

function instagramChange(value: unknown, entry: EntryContext, path: string): CommentEvent | string {
  const parsed = parseChange(InstagramCommentSchema, value, `${path}.value`)
  if (!parsed.ok) return parsed.reason
  const v = parsed.data
  // No created_time on Instagram: the notification's `entry.time` dates it.
  const platformTime = metaTimeToIso(entry.time)
  if (!platformTime) return `malformed change: ${path}: time ${entry.time} out of range`
  const authorId = v.from?.id ?? null
  return {
    platform: 'instagram',
    account: entry.account,
    externalId: v.id,
    postId: v.media?.id ?? null,
    parentId: v.parent_id ?? null,
    author: { id: authorId, name: v.from?.username ?? null },
    text: v.text ?? null,
    platformTime,
    kind: 'created', // Instagram notifies new comments only; deletions are found by reconciliation
    byCityAccount: authorId === entry.account,
    deliveryKey: `${v.id}:created`,
  }
}

/** Normalizes a Meta delivery (`object: "page"` or `"instagram"`). Linear in the number of changes. */
export function normalize(rawBody: Buffer): NormalizeResult {
  const body = parseJsonBody('meta', rawBody)
  const events: CommentEvent[] = []
  const skipped: SkippedChange[] = []

  const { object } = parseEnvelope('meta', ObjectSchema, body)
  if (object !== 'page' && object !== 'instagram') {
    skipped.push({ reason: `meta object ${JSON.stringify(object)} is neither page nor instagram`, raw: body })
    return { events, skipped }
  }
  const envelope = parseEnvelope('meta', EnvelopeSchema, body)

  envelope.entry.forEach((rawEntry, e) => {
    if (!rawEntry.changes) {
      skipped.push({ reason: 'meta entry has no changes[]', raw: rawEntry })
      return
    }
    const entry: EntryContext = { account: rawEntry.id, time: rawEntry.time }
    rawEntry.changes.forEach((raw, c) => {
      const path = `$.entry[${e}].changes[${c}]`
      const change = parseChange(ChangeSchema, raw, path)
      let result: CommentEvent | string
      if (!change.ok) result = change.reason
      else if (object === 'page' && change.data.field === 'feed') result = facebookChange(change.data.value, entry, path)
      else if (object === 'instagram' && change.data.field === 'comments') result = instagramChange(change.data.value, entry, path)
      else result = `meta ${object} field ${JSON.stringify(change.data.field)} is not handled`
      if (typeof result === 'string') skipped.push({ reason: result, raw })
      else events.push(result)
    })
  })
  return { events, skipped }
}
