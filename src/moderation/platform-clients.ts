// Carrying out moderation on the platforms, and replying to the author there.
//
// Plain functions over the global fetch (no Fastify): one request per call, no retries (the
// background job decides when to try again, from `transient`). Every call returns what was sent as
// a RecordedRequest (method, URL, body) for the log and the ledger. Tokens only ever travel in the
// Authorization header, never in the URL or the body, so the RecordedRequest never holds a secret.
//
// The requests, per platform (base = the configured baseUrl, trailing slashes removed; every id is
// percent-encoded as one path segment; every request sends `Accept: application/json`):
//
// Facebook (Graph API, Page token)
//   hide/unhide  POST   {base}/{comment-id}                 form  is_hidden=true|false
//   delete       DELETE {base}/{comment-id}                 no body
//   notice       POST   {base}/{page-id}/messages           JSON  {"recipient":{"comment_id":"<id>"},"message":{"text":"..."}}
//                (a private reply: once per comment, within 7 days of the comment; the author sees it
//                in Messenger, nobody else does)
// Instagram (Graph API)
//   hide/unhide  POST   {base}/{ig-comment-id}              form  hide=true|false
//   delete       DELETE {base}/{ig-comment-id}              no body
//   notice       POST   {base}/{ig-comment-id}/replies      form  message=...   (a PUBLIC reply)
// X (API v2, user-context OAuth 2 token)
//   hide/unhide  PUT    {base}/2/tweets/{id}/hidden         JSON  {"hidden":true|false}
//   delete       UnsupportedOperationError (other people's posts cannot be deleted)
//   notice       POST   {base}/2/tweets                     JSON  {"text":"...","reply":{"in_reply_to_tweet_id":"<id>"}}   (PUBLIC)
// LinkedIn (versioned REST API; headers LinkedIn-Version and X-Restli-Protocol-Version: 2.0.0)
//   delete       DELETE {base}/rest/socialActions/{post urn}/comments/{comment id}?actor={org urn}   no body
//                (post urn = target.postId, else the activity URN inside the comment URN; comment id
//                = the number at the end of `urn:li:comment:(urn:li:activity:123,456)`)
//   hide/unhide  UnsupportedOperationError (LinkedIn has no hide)
//   notice       POST   {base}/rest/socialActions/{parent comment urn}/comments
//                JSON  {"actor":"<org urn>","object":"<post urn>","message":{"text":"..."},"parentComment":"<parent comment urn>"}
//                (a PUBLIC nested reply. LinkedIn threads are two levels deep, so the parent is the
//                target comment, or its own parent when the target is itself a reply.)
// Website (Townsquare's own contract with the city website, defined here)
//   hide         POST   {base}/comments/{id}/hide           no body
//   unhide       POST   {base}/comments/{id}/unhide         no body
//   delete       DELETE {base}/comments/{id}                no body
//   notice       POST   {base}/comments/{id}/notices        JSON  {"text":"..."}
//   The website answers 2xx on success (a notice: 201 or 200 with {"id":"<notice id>"}), 404 when the
//   comment does not exist, and errors as JSON {"message":"..."}.
//
// Form bodies are application/x-www-form-urlencoded (URLSearchParams encoding), JSON bodies
// application/json. All use `Authorization: Bearer <token>` (the Graph API accepts the access token
// as a Bearer header, which keeps it out of URLs and access logs).
//
// Failures: network errors, timeouts, 408, 429 and 5xx are transient; any other non-2xx is
// permanent (404: the comment is gone; 403: not allowed), except Graph API errors that Meta marks
// transient (`is_transient`, or the throttling/temporary codes below), which Meta answers with 400
// or 403. A 2xx Graph answer of {"success":false} is a permanent failure. Redirects are not
// followed (they would carry the Authorization header elsewhere): a 3xx is a permanent failure.

import type { Platform } from '../webhooks/platforms/types.js'
import { PLATFORM_CAPABILITIES } from './platforms.js'

/**
 * The LinkedIn API version sent in `LinkedIn-Version` unless the config names another. LinkedIn
 * supports each monthly version for about a year: 202411 was sunset on 2025-11-17; 202603 (March
 * 2026) is documented as supported until 2027-03-16. Move it forward before then.
 */
export const LINKEDIN_API_VERSION = '202603'
export const LINKEDIN_RESTLI_PROTOCOL_VERSION = '2.0.0'
export const DEFAULT_PLATFORM_TIMEOUT_MS = 10_000
/** How much of a platform's error message is kept in `error`. */
export const MAX_PLATFORM_MESSAGE_CHARS = 500

export interface PlatformApiConfig {
  /** Graph API, e.g. https://graph.facebook.com/v21.0 */
  facebook: { baseUrl: string; pageId: string; pageToken: string } | null
  /** Graph API too. */
  instagram: { baseUrl: string; accessToken: string } | null
  /** https://api.x.com (a user-context OAuth 2 token of the city's account). */
  x: { baseUrl: string; bearerToken: string } | null
  /** https://api.linkedin.com; `apiVersion` defaults to LINKEDIN_API_VERSION. */
  linkedin: { baseUrl: string; accessToken: string; organizationUrn: string; apiVersion?: string } | null
  /** The city website's API (the contract above). */
  website: { baseUrl: string; token: string } | null
  /** Per request, covering the response body too. Default 10 s. */
  timeoutMs?: number
}

export interface PlatformTarget {
  platform: Platform
  /** The city's page/account the comment was made on. */
  account: string
  /** The platform's comment id (LinkedIn: the comment URN). */
  externalId: string
  /** The post commented on (LinkedIn: the share/ugcPost URN; website: the page URL). */
  postId: string | null
  /** The parent comment when the comment is a reply. */
  parentExternalId: string | null
  authorId: string | null
}

export type PlatformOperation = 'delete' | 'hide' | 'unhide'

/** What was sent, for the log and the ledger. Never holds a token: those travel in headers only. */
export interface RecordedRequest {
  method: string
  url: string
  body: string | null
}

export type PlatformCallResult =
  | {
      ok: true
      status: number
      request: RecordedRequest
      /** The id of what a notice created (reply, message, post), when the platform returned one. */
      createdId?: string
    }
  | {
      ok: false
      transient: boolean
      /** Null when no HTTP answer came (network error, timeout). */
      status: number | null
      error: string
      request: RecordedRequest
      /** From Retry-After (or X's x-rate-limit-reset), when the platform said when to come back. */
      retryAfterSeconds?: number
    }

/** The platform has no credentials in the configuration. */
export class PlatformNotConfiguredError extends Error {
  readonly platform: Platform

  constructor(platform: Platform) {
    super(`${DISPLAY_NAMES[platform]} is not configured: no API credentials for ${platform}`)
    this.name = 'PlatformNotConfiguredError'
    this.platform = platform
  }
}

/** The platform cannot do this (delete on X, hide on LinkedIn). The message names what it can do. */
export class UnsupportedOperationError extends Error {
  readonly platform: Platform
  readonly operation: PlatformOperation
  readonly supported: readonly PlatformOperation[]

  constructor(platform: Platform, operation: PlatformOperation) {
    const supported = supportedOperations(platform)
    const name = DISPLAY_NAMES[platform]
    const can = supported.length > 0 ? `${name} supports only ${supported.join(' and ')}` : `${name} supports no moderation`
    super(`cannot ${operation} a comment on ${name}: ${can}${CAPABILITY_NOTES[platform]}`)
    this.name = 'UnsupportedOperationError'
    this.platform = platform
    this.operation = operation
    this.supported = supported
  }
}

/** The target or the text cannot make a valid request (empty id, unparseable LinkedIn URN, empty text). */
export class InvalidPlatformRequestError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'InvalidPlatformRequestError'
  }
}

const DISPLAY_NAMES: Readonly<Record<Platform, string>> = {
  facebook: 'Facebook',
  instagram: 'Instagram',
  x: 'X',
  linkedin: 'LinkedIn',
  website: 'the city website',
}

const CAPABILITY_NOTES: Readonly<Record<Platform, string>> = {
  facebook: '',
  instagram: '',
  x: " (replies in conversations the city started); other people's posts cannot be deleted",
  linkedin: ' (LinkedIn has no hiding)',
  website: '',
}

/** The operations a platform supports, from PLATFORM_CAPABILITIES. */
export function supportedOperations(platform: Platform): PlatformOperation[] {
  const c = PLATFORM_CAPABILITIES[platform]
  const ops: PlatformOperation[] = []
  if (c.remove) ops.push('delete')
  if (c.hide) ops.push('hide', 'unhide')
  return ops
}

// ---------------------------------------------------------------------------------------------
// Building the requests

interface OutgoingRequest {
  platform: Platform
  kind: 'action' | 'notice'
  method: 'POST' | 'PUT' | 'DELETE'
  url: string
  /** The secret, sent as `Authorization: Bearer <token>` and recorded nowhere. */
  token: string
  /** Headers other than Authorization, Accept and Content-Type. */
  headers: Record<string, string>
  body: { type: 'form' | 'json'; text: string } | null
}

function joinUrl(baseUrl: string, path: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/${path}`
}

/** One path segment: percent-encoded, and never empty, `.` or `..` (URL parsing would collapse those). */
function segment(value: string, what: string): string {
  // eslint-disable-next-line no-control-regex
  if (value === '' || value === '.' || value === '..' || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new InvalidPlatformRequestError(`invalid ${what}: ${JSON.stringify(value)}`)
  }
  return encodeURIComponent(value)
}

/**
 * Rest.li 2.0 wants URNs fully percent-encoded in paths and query values, parentheses and commas
 * included (encodeURIComponent leaves ( ) ! ' * alone).
 */
export function encodeUrn(urn: string): string {
  return encodeURIComponent(urn).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
}

function form(fields: Record<string, string>): { type: 'form'; text: string } {
  return { type: 'form', text: new URLSearchParams(fields).toString() }
}

function json(value: unknown): { type: 'json'; text: string } {
  return { type: 'json', text: JSON.stringify(value) }
}

function requireText(text: string): string {
  if (text.trim() === '') throw new InvalidPlatformRequestError('the notice text is empty')
  return text
}

const COMMENT_URN = /^urn:li:comment:\((urn:li:[A-Za-z]+:[^,()]+),([^,()]+)\)$/

/** `urn:li:comment:(urn:li:activity:123,456)` → { parent: 'urn:li:activity:123', id: '456' }. */
export function parseLinkedInCommentUrn(urn: string): { parent: string; id: string } | null {
  const m = COMMENT_URN.exec(urn)
  return m?.[1] !== undefined && m[2] !== undefined ? { parent: m[1], id: m[2] } : null
}

/** The post URN a LinkedIn comment hangs on: the stored postId, else the activity inside the comment URN. */
function linkedInPostUrn(target: PlatformTarget): string {
  const post = target.postId ?? parseLinkedInCommentUrn(target.externalId)?.parent
  if (post === undefined) throw new InvalidPlatformRequestError(`no LinkedIn post URN for comment ${JSON.stringify(target.externalId)}`)
  return segmentValue(post, 'LinkedIn post URN')
}

function linkedInHeaders(c: NonNullable<PlatformApiConfig['linkedin']>): Record<string, string> {
  return { 'LinkedIn-Version': c.apiVersion ?? LINKEDIN_API_VERSION, 'X-Restli-Protocol-Version': LINKEDIN_RESTLI_PROTOCOL_VERSION }
}

function configured<P extends Platform>(config: PlatformApiConfig, platform: P): NonNullable<PlatformApiConfig[P]> {
  const c = config[platform]
  if (c === null || c === undefined) throw new PlatformNotConfiguredError(platform)
  return c as NonNullable<PlatformApiConfig[P]>
}

function buildAction(config: PlatformApiConfig, target: PlatformTarget, operation: PlatformOperation): OutgoingRequest {
  const platform = target.platform
  if (!supportedOperations(platform).includes(operation)) throw new UnsupportedOperationError(platform, operation)
  const base = { platform, kind: 'action' as const, headers: {} }
  switch (platform) {
    case 'facebook': {
      const c = configured(config, 'facebook')
      const url = joinUrl(c.baseUrl, segment(target.externalId, 'Facebook comment id'))
      return operation === 'delete'
        ? { ...base, method: 'DELETE', url, token: c.pageToken, body: null }
        : { ...base, method: 'POST', url, token: c.pageToken, body: form({ is_hidden: String(operation === 'hide') }) }
    }
    case 'instagram': {
      const c = configured(config, 'instagram')
      const url = joinUrl(c.baseUrl, segment(target.externalId, 'Instagram comment id'))
      return operation === 'delete'
        ? { ...base, method: 'DELETE', url, token: c.accessToken, body: null }
        : { ...base, method: 'POST', url, token: c.accessToken, body: form({ hide: String(operation === 'hide') }) }
    }
    case 'x': {
      // operation is hide or unhide: delete was refused above.
      const c = configured(config, 'x')
      const url = joinUrl(c.baseUrl, `2/tweets/${segment(target.externalId, 'X post id')}/hidden`)
      return { ...base, method: 'PUT', url, token: c.bearerToken, body: json({ hidden: operation === 'hide' }) }
    }
    case 'linkedin': {
      // operation is delete: hide and unhide were refused above.
      const c = configured(config, 'linkedin')
      const commentId = parseLinkedInCommentUrn(target.externalId)?.id ?? target.externalId
      const post = linkedInPostUrn(target)
      const path =
        `rest/socialActions/${encodeUrn(post)}/comments/${encodeUrn(segmentValue(commentId, 'LinkedIn comment id'))}` +
        `?actor=${encodeUrn(c.organizationUrn)}`
      return { ...base, method: 'DELETE', url: joinUrl(c.baseUrl, path), token: c.accessToken, headers: linkedInHeaders(c), body: null }
    }
    case 'website': {
      const c = configured(config, 'website')
      const id = segment(target.externalId, 'website comment id')
      return operation === 'delete'
        ? { ...base, method: 'DELETE', url: joinUrl(c.baseUrl, `comments/${id}`), token: c.token, body: null }
        : { ...base, method: 'POST', url: joinUrl(c.baseUrl, `comments/${id}/${operation}`), token: c.token, body: null }
    }
  }
}

/** Checks a value like segment() but returns it unencoded (for encodeUrn). */
function segmentValue(value: string, what: string): string {
  segment(value, what)
  return value
}

function buildNotice(config: PlatformApiConfig, target: PlatformTarget, text: string): OutgoingRequest {
  const platform = target.platform
  const base = { platform, kind: 'notice' as const, method: 'POST' as const, headers: {} }
  switch (platform) {
    case 'facebook': {
      const c = configured(config, 'facebook')
      segment(target.externalId, 'Facebook comment id')
      const url = joinUrl(c.baseUrl, `${segment(c.pageId, 'Facebook page id')}/messages`)
      return { ...base, url, token: c.pageToken, body: json({ recipient: { comment_id: target.externalId }, message: { text: requireText(text) } }) }
    }
    case 'instagram': {
      // A private reply (Instagram messaging): one message to the commenter, within 7 days of the comment.
      const c = configured(config, 'instagram')
      segment(target.externalId, 'Instagram comment id')
      const url = joinUrl(c.baseUrl, `${segment(target.account, 'Instagram account id')}/messages`)
      return { ...base, url, token: c.accessToken, body: json({ recipient: { comment_id: target.externalId }, message: { text: requireText(text) } }) }
    }
    case 'x': {
      const c = configured(config, 'x')
      segment(target.externalId, 'X post id')
      const body = json({ text: requireText(text), reply: { in_reply_to_tweet_id: target.externalId } })
      return { ...base, url: joinUrl(c.baseUrl, '2/tweets'), token: c.bearerToken, body }
    }
    case 'linkedin': {
      const c = configured(config, 'linkedin')
      // Threads are two levels deep: a reply to a reply goes under the top-level comment.
      const parent = target.parentExternalId !== null && parseLinkedInCommentUrn(target.parentExternalId) ? target.parentExternalId : target.externalId
      if (!parseLinkedInCommentUrn(parent)) {
        throw new InvalidPlatformRequestError(`not a LinkedIn comment URN: ${JSON.stringify(parent)}`)
      }
      const body = json({ actor: c.organizationUrn, object: linkedInPostUrn(target), message: { text: requireText(text) }, parentComment: parent })
      const url = joinUrl(c.baseUrl, `rest/socialActions/${encodeUrn(parent)}/comments`)
      return { ...base, url, token: c.accessToken, headers: linkedInHeaders(c), body }
    }
    case 'website': {
      const c = configured(config, 'website')
      const url = joinUrl(c.baseUrl, `comments/${segment(target.externalId, 'website comment id')}/notices`)
      return { ...base, url, token: c.token, body: json({ text: requireText(text) }) }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Sending and classifying

/**
 * Hides, unhides or deletes the comment on its platform. Rejects with UnsupportedOperationError
 * (delete on X, hide/unhide on LinkedIn), PlatformNotConfiguredError or InvalidPlatformRequestError
 * before anything is sent; any answer or network failure resolves to a PlatformCallResult.
 */
export async function performPlatformAction(
  config: PlatformApiConfig,
  target: PlatformTarget,
  operation: PlatformOperation,
): Promise<PlatformCallResult> {
  return send(buildAction(config, target, operation), config.timeoutMs ?? DEFAULT_PLATFORM_TIMEOUT_MS)
}

/**
 * Delivers the notice to the comment's author where the platform allows it: a private reply on
 * Facebook and Instagram, a public reply on X and LinkedIn, the website's notice endpoint. Rejects like
 * performPlatformAction; never truncates the text (the platform refuses a text that is too long,
 * e.g. X's 280 characters, and that is a permanent failure).
 */
export async function replyToAuthor(config: PlatformApiConfig, target: PlatformTarget, text: string): Promise<PlatformCallResult> {
  return send(buildNotice(config, target, text), config.timeoutMs ?? DEFAULT_PLATFORM_TIMEOUT_MS)
}

// ---------------------------------------------------------------------------------------------
// Blocking accounts (docs/moderation.md, "Blocks and bans")
//
// Facebook  block    POST   {base}/{page-id}/blocked            form  uid=<author id>
//           unblock  DELETE {base}/{page-id}/blocked?uid=<author id>   no body
//           (the Page's blocked edge; `uid` takes an app- or page-scoped id)
// Website   block    POST   {base}/authors/{author id}/block    JSON  {"reason":"..."}
//           unblock  POST   {base}/authors/{author id}/unblock  no body
// Instagram, X and LinkedIn have no API to block an account for a page in 2026 (X's v2 blocks
// endpoints are read-only): a block there is done in the platform's app and recorded by hand.

export type BlockOperation = 'block' | 'unblock'

/** The platforms whose API can block an account. */
export const BLOCKABLE_BY_API: readonly Platform[] = ['facebook', 'website']

function buildBlock(config: PlatformApiConfig, platform: Platform, authorId: string, operation: BlockOperation, reason: string): OutgoingRequest {
  const base = { platform, kind: 'action' as const, headers: {} }
  switch (platform) {
    case 'facebook': {
      const c = configured(config, 'facebook')
      segment(authorId, 'Facebook user id')
      const edge = joinUrl(c.baseUrl, `${segment(c.pageId, 'Facebook page id')}/blocked`)
      return operation === 'block'
        ? { ...base, method: 'POST', url: edge, token: c.pageToken, body: form({ uid: authorId }) }
        : { ...base, method: 'DELETE', url: `${edge}?${new URLSearchParams({ uid: authorId }).toString()}`, token: c.pageToken, body: null }
    }
    case 'website': {
      const c = configured(config, 'website')
      const url = joinUrl(c.baseUrl, `authors/${segment(authorId, 'website author id')}/${operation}`)
      return { ...base, method: 'POST', url, token: c.token, body: operation === 'block' ? json({ reason }) : null }
    }
    default:
      throw new InvalidPlatformRequestError(`${DISPLAY_NAMES[platform]} has no API to ${operation} an account: do it in its app and record it by hand`)
  }
}

/** Blocks or unblocks an account on the city's page through the platform's API (Facebook, the website). */
export async function blockOnPlatform(config: PlatformApiConfig, platform: Platform, authorId: string, operation: BlockOperation, reason: string): Promise<PlatformCallResult> {
  return send(buildBlock(config, platform, authorId, operation, reason), config.timeoutMs ?? DEFAULT_PLATFORM_TIMEOUT_MS)
}

async function send(req: OutgoingRequest, timeoutMs: number): Promise<PlatformCallResult> {
  const request: RecordedRequest = { method: req.method, url: req.url, body: req.body?.text ?? null }
  const headers: Record<string, string> = { ...req.headers, Accept: 'application/json', Authorization: `Bearer ${req.token}` }
  if (req.body) headers['Content-Type'] = req.body.type === 'json' ? 'application/json' : 'application/x-www-form-urlencoded'

  let response: Response
  let text: string
  try {
    response = await fetch(req.url, {
      method: req.method,
      headers,
      body: req.body?.text ?? null,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    })
    text = await response.text()
  } catch (err) {
    return { ok: false, transient: true, status: null, error: describeFetchError(err, timeoutMs), request }
  }

  const status = response.status
  const parsed = parseJson(text)
  const name = DISPLAY_NAMES[req.platform]

  if (status >= 200 && status < 300) {
    if ((req.platform === 'facebook' || req.platform === 'instagram') && isRecord(parsed) && parsed.success === false) {
      return { ok: false, transient: false, status, error: `${name} answered ${status} with {"success":false}`, request }
    }
    const createdId = req.kind === 'notice' ? createdIdFrom(parsed, response.headers) : undefined
    return createdId === undefined ? { ok: true, status, request } : { ok: true, status, request, createdId }
  }

  if (status >= 300 && status < 400) {
    const location = response.headers.get('location')
    return { ok: false, transient: false, status, error: `${name} answered ${status} (redirect${location ? ` to ${truncate(location)}` : ''}; not followed)`, request }
  }

  const message = platformMessage(parsed, text)
  const transient = status === 408 || status === 429 || status >= 500 || graphSaysTransient(req.platform, parsed)
  const retryAfterSeconds = retryAfter(response.headers)
  const result: PlatformCallResult = {
    ok: false,
    transient,
    status,
    error: `${name} answered ${status}${message ? `: ${message}` : ''}`,
    request,
  }
  if (retryAfterSeconds !== undefined) result.retryAfterSeconds = retryAfterSeconds
  return result
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return `no answer within ${timeoutMs} ms (timed out)`
  }
  if (err instanceof Error) {
    // undici reports `fetch failed` with the socket error as the cause (an AggregateError, with an
    // empty message, when every address of the host refused).
    const cause = err.cause instanceof Error ? err.cause : undefined
    const code = (cause as { code?: unknown } | undefined)?.code
    const detail = cause?.message || (typeof code === 'string' ? code : '') || err.message
    return `network error: ${truncate(detail)}`
  }
  return `network error: ${truncate(String(err))}`
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function parseJson(text: string): unknown {
  if (text.trim() === '') return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

function truncate(s: string, max = MAX_PLATFORM_MESSAGE_CHARS): string {
  const chars = Array.from(s)
  return chars.length <= max ? s : `${chars.slice(0, max).join('')}…`
}

function nonEmptyString(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined
}

/**
 * The platform's own words: Graph `error.message` (with its code), X `detail`/`title`/`errors[0]`,
 * LinkedIn and the website `message`, OAuth `error_description`/`error`; else the start of a
 * non-JSON body. Truncated to MAX_PLATFORM_MESSAGE_CHARS.
 */
function platformMessage(parsed: unknown, raw: string): string {
  if (isRecord(parsed)) {
    const e = parsed.error
    if (isRecord(e)) {
      const msg = nonEmptyString(e.message)
      if (msg !== undefined) {
        const codes = [typeof e.code === 'number' ? `code ${e.code}` : null, typeof e.error_subcode === 'number' ? `subcode ${e.error_subcode}` : null].filter(Boolean)
        return truncate(codes.length > 0 ? `${msg} (${codes.join(', ')})` : msg)
      }
    }
    const firstError = Array.isArray(parsed.errors) && isRecord(parsed.errors[0]) ? parsed.errors[0] : undefined
    const candidate =
      nonEmptyString(parsed.detail) ??
      nonEmptyString(parsed.message) ??
      nonEmptyString(firstError?.message) ??
      nonEmptyString(firstError?.detail) ??
      nonEmptyString(parsed.title) ??
      nonEmptyString(parsed.error_description) ??
      nonEmptyString(parsed.error)
    if (candidate !== undefined) return truncate(candidate)
    return ''
  }
  const text = raw.replace(/\s+/g, ' ').trim()
  return text === '' ? '' : truncate(text)
}

/**
 * Graph API errors Meta documents as temporary, sent with 400/403: `is_transient`, 1 (unknown, retry),
 * 2 (service unavailable), 4/17/32/613 (rate limits), 341 (application limit), 80001–80014
 * (business use case rate limits).
 */
function graphSaysTransient(platform: Platform, parsed: unknown): boolean {
  if (platform !== 'facebook' && platform !== 'instagram') return false
  if (!isRecord(parsed) || !isRecord(parsed.error)) return false
  const e = parsed.error
  if (e.is_transient === true) return true
  const code = e.code
  if (typeof code !== 'number') return false
  return [1, 2, 4, 17, 32, 341, 613].includes(code) || (code >= 80001 && code <= 80014)
}

function retryAfter(headers: Headers): number | undefined {
  const value = headers.get('retry-after')
  if (value !== null) {
    if (/^\d+$/.test(value.trim())) return Number(value.trim())
    const at = Date.parse(value)
    if (!Number.isNaN(at)) return Math.max(0, Math.ceil((at - Date.now()) / 1000))
  }
  const reset = headers.get('x-rate-limit-reset') // X: epoch seconds
  if (reset !== null && /^\d+$/.test(reset.trim())) return Math.max(0, Number(reset.trim()) - Math.floor(Date.now() / 1000))
  return undefined
}

/** Graph `{id}` / `{message_id}`, X `{data:{id}}`, LinkedIn `x-restli-id` or `{id}`, website `{id}`. */
function createdIdFrom(parsed: unknown, headers: Headers): string | undefined {
  const restli = headers.get('x-restli-id') ?? headers.get('x-linkedin-id')
  if (restli) return restli
  if (!isRecord(parsed)) return undefined
  const idOf = (v: unknown) => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined)
  return idOf(parsed.id) ?? idOf(parsed.message_id) ?? (isRecord(parsed.data) ? idOf(parsed.data.id) : undefined) ?? idOf(parsed.commentUrn)
}
