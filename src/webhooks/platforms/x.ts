// X Account Activity API: CRC check, signature, tweet create/delete events (v1.1 tweet objects).
import { z } from 'zod'
import { assertSecret, bytesEqual, decodeBase64Mac, hmacSha256, isHandshakeBody, isHandshakeToken, readHeader } from './crypto.js'
import { epochNumberSchema, idSchema, isoFromEpochMs, parseChange, parseEnvelope, parseJsonBody, singleQueryValue } from './parse.js'
import type { CommentEvent, HandshakeResult, NormalizeResult, SignatureCheck, SkippedChange, WebhookHeaders } from './types.js'

export const X_SIGNATURE_HEADER = 'x-twitter-webhooks-signature'
const SIGNATURE_PREFIX = 'sha256='

/** `x-twitter-webhooks-signature: sha256=<base64 HMAC-SHA256(consumer secret, raw body)>`. */
export function verifySignature(rawBody: Buffer, headers: WebhookHeaders, secret: string, _now?: Date): SignatureCheck {
  assertSecret(secret)
  const header = readHeader(headers, X_SIGNATURE_HEADER)
  if (header.status !== 'present') return { ok: false, reason: header.status }
  const provided = header.value.startsWith(SIGNATURE_PREFIX) ? decodeBase64Mac(header.value.slice(SIGNATURE_PREFIX.length)) : null
  if (!provided) return { ok: false, reason: 'malformed' }
  if (isHandshakeBody(rawBody)) return { ok: false, reason: 'handshake' }
  return bytesEqual(hmacSha256(secret, rawBody), provided) ? { ok: true } : { ok: false, reason: 'mismatch' }
}

const json = (status: number, body: unknown): HandshakeResult => ({ status, contentType: 'application/json', body: JSON.stringify(body) })

/**
 * The CRC check: `{"response_token":"sha256=<base64 HMAC-SHA256(consumer secret, crc_token)>"}`;
 * 400 without a token, or with one X never sends (crypto.ts, HANDSHAKE_TOKEN: never a signing oracle).
 */
export function xCrc(crcToken: string | undefined, consumerSecret: string): HandshakeResult {
  assertSecret(consumerSecret)
  if (typeof crcToken !== 'string' || crcToken === '') return json(400, { error: 'crc_token is required' })
  if (!isHandshakeToken(crcToken)) return json(400, { error: 'crc_token is not a token X sends' })
  return json(200, { response_token: SIGNATURE_PREFIX + hmacSha256(consumerSecret, crcToken).toString('base64') })
}

/** `GET ?crc_token=T` as a parsed query. */
export function xHandshake(query: Record<string, unknown>, consumerSecret: string): HandshakeResult {
  return xCrc(singleQueryValue(query, 'crc_token'), consumerSecret)
}

// ---------------------------------------------------------------------------------------------
// Payloads. Ids: `id_str` first. A numeric `id` is only a fallback (deletions carry `status.id`),
// and is exact because `parseJsonBody` turns integers beyond 2^53 into their digit strings.

const EnvelopeSchema = z.looseObject({
  for_user_id: idSchema,
  tweet_create_events: z.array(z.unknown()).optional(),
  tweet_delete_events: z.array(z.unknown()).optional(),
})

const TweetSchema = z.looseObject({
  id_str: idSchema.nullish(),
  id: idSchema.nullish(),
  text: z.string().nullish(),
  full_text: z.string().nullish(),
  truncated: z.boolean().nullish(),
  extended_tweet: z.looseObject({ full_text: z.string().nullish() }).nullish(),
  in_reply_to_status_id_str: idSchema.nullish(),
  in_reply_to_status_id: idSchema.nullish(),
  conversation_id_str: idSchema.nullish(),
  conversation_id: idSchema.nullish(),
  user: z.looseObject({ id_str: idSchema.nullish(), id: idSchema.nullish(), name: z.string().nullish() }).nullish(),
  created_at: z.string().nullish(),
  timestamp_ms: epochNumberSchema.nullish(),
  retweeted_status: z.unknown().optional(),
})

const DeleteSchema = z.looseObject({
  status: z.looseObject({
    id_str: idSchema.nullish(),
    id: idSchema.nullish(),
    user_id_str: idSchema.nullish(),
    user_id: idSchema.nullish(),
  }),
  timestamp_ms: epochNumberSchema,
})

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const CREATED_AT = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) (\d{2}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2}) (\d{4})$/

/** `Mon Mar 17 12:00:00 +0000 2026` → epoch ms, or null. Parsed by hand: Date.parse of this form is not standard. */
export function parseCreatedAt(value: string): number | null {
  const m = CREATED_AT.exec(value)
  if (!m) return null
  const month = MONTHS.indexOf(m[1] ?? '')
  const n = (group: number) => Number(m[group])
  const [day, hours, minutes, seconds, offsetHours, offsetMinutes, year] = [n(2), n(3), n(4), n(5), n(7), n(8), n(9)] as const
  if (month < 0 || hours > 23 || minutes > 59 || seconds > 59 || offsetMinutes > 59) return null
  const local = Date.UTC(year, month, day, hours, minutes, seconds)
  const check = new Date(local)
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month) return null // e.g. Feb 30
  const offset = (m[6] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000
  return local - offset
}

// v1.1 tweet text escapes exactly these three characters as HTML entities.
const decodeTweetText = (text: string): string => text.replace(/&(lt|gt|amp);/g, (_, name: string) => (name === 'lt' ? '<' : name === 'gt' ? '>' : '&'))

function tweetCreated(raw: unknown, account: string, path: string): CommentEvent | string {
  const parsed = parseChange(TweetSchema, raw, path)
  if (!parsed.ok) return parsed.reason
  const tweet = parsed.data
  const id = tweet.id_str ?? tweet.id
  if (!id) return `malformed change: ${path}: tweet has neither id_str nor id`
  if (tweet.retweeted_status !== undefined && tweet.retweeted_status !== null) return `x tweet ${id} is a retweet, not a comment`

  const ms = tweet.timestamp_ms ?? (tweet.created_at ? parseCreatedAt(tweet.created_at) : null)
  const platformTime = ms === null ? null : isoFromEpochMs(ms)
  if (!platformTime) return `malformed change: ${path}: tweet has no usable timestamp_ms or created_at`

  const fullText = tweet.truncated ? tweet.extended_tweet?.full_text : undefined
  const text = fullText ?? tweet.full_text ?? tweet.text ?? null
  const inReplyTo = tweet.in_reply_to_status_id_str ?? tweet.in_reply_to_status_id ?? null
  // v1.1 objects carry no conversation id; some payloads do. The root of a top-level tweet is itself.
  const conversation = tweet.conversation_id_str ?? tweet.conversation_id ?? null
  const root = conversation !== null && conversation !== id ? conversation : null
  const postId = root ?? inReplyTo
  const authorId = tweet.user?.id_str ?? tweet.user?.id ?? null
  return {
    platform: 'x',
    account,
    externalId: id,
    postId,
    // As for Facebook (parent_id === post_id), a reply to the post itself is top-level. Without a
    // conversation id the replied-to tweet is taken as the post, so the reply reads as top-level.
    parentId: inReplyTo !== null && inReplyTo !== postId ? inReplyTo : null,
    author: { id: authorId, name: tweet.user?.name ?? null },
    text: text === null ? null : decodeTweetText(text),
    platformTime,
    kind: 'created',
    byCityAccount: authorId === account,
    deliveryKey: `${id}:created`,
  }
}

function tweetDeleted(raw: unknown, account: string, path: string): CommentEvent | string {
  const parsed = parseChange(DeleteSchema, raw, path)
  if (!parsed.ok) return parsed.reason
  const { status, timestamp_ms } = parsed.data
  const id = status.id_str ?? status.id
  if (!id) return `malformed change: ${path}.status: deletion has neither id_str nor id`
  const platformTime = isoFromEpochMs(timestamp_ms)
  if (!platformTime) return `malformed change: ${path}.timestamp_ms: out of range`
  const authorId = status.user_id_str ?? status.user_id ?? null
  return {
    platform: 'x',
    account,
    externalId: id,
    postId: null,
    parentId: null,
    author: { id: authorId, name: null },
    text: null,
    platformTime,
    kind: 'deleted_by_author',
    byCityAccount: authorId === account,
    deliveryKey: `${id}:deleted_by_author`,
  }
}

/** Normalizes an Account Activity delivery. Event arrays other than tweet create/delete are skipped whole. */
export function normalize(rawBody: Buffer): NormalizeResult {
  const body = parseJsonBody('x', rawBody)
  const envelope = parseEnvelope('x', EnvelopeSchema, body)
  const account = envelope.for_user_id
  const events: CommentEvent[] = []
  const skipped: SkippedChange[] = []
  const collect = (result: CommentEvent | string, raw: unknown) => {
    if (typeof result === 'string') skipped.push({ reason: result, raw })
    else events.push(result)
  }
  envelope.tweet_create_events?.forEach((raw, i) => collect(tweetCreated(raw, account, `$.tweet_create_events[${i}]`), raw))
  envelope.tweet_delete_events?.forEach((raw, i) => collect(tweetDeleted(raw, account, `$.tweet_delete_events[${i}]`), raw))
  for (const [key, value] of Object.entries(envelope)) {
    if (Array.isArray(value) && key !== 'tweet_create_events' && key !== 'tweet_delete_events') {
      skipped.push({ reason: `x ${key} are not comment events`, raw: value })
    }
  }
  return { events, skipped }
}
