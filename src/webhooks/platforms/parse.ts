// Shared, pure helpers for turning a delivery's bytes into checked values.
import { z } from 'zod'
import { MalformedDeliveryError, type CommentEvent, type DeliveryIssue, type NormalizeResult, type WebhookSource } from './types.js'

const utf8 = new TextDecoder('utf-8', { fatal: true })

// A whole JSON string (so digits inside strings are never touched) or a whole number token.
const JSON_STRING_OR_NUMBER = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g
const INTEGER = /^-?\d+$/
// A number token starts the body or follows `:`, `[` or `,` (and whitespace). Without a 16-digit
// one there, no integer can be unsafe and the rewriting pass is skipped (Meta's ids are strings).
// A match inside a string is only a false alarm: the full pass then leaves strings alone.
const MAYBE_LONG_INTEGER = /(?:^|[:[,])\s*-?\d{16}/

function quoteUnsafeInteger(token: string): string {
  if (token.charCodeAt(0) === 0x22 /* " */) return token
  // Up to 15 digits is always exact; longer integers are exact only below 2^53.
  if (token.length <= 15 || !INTEGER.test(token) || Number.isSafeInteger(Number(token))) return token
  return `"${token}"`
}

/**
 * Parses a delivery's bytes as JSON. `JSON.parse` decodes `\uXXXX` escapes (Meta's non-ASCII), but
 * rounds integers beyond 2^53, and X (and possibly LinkedIn) send 64-bit ids as numbers. Node 20's
 * `JSON.parse` gives a reviver no access to the source text, so before parsing, every integer
 * literal outside a string that is not a safe integer is turned into a JSON string of its exact
 * digits. One linear regex pass; safe integers and fractions stay numbers. Id schemas accept both.
 */
export function parseJsonBody(source: WebhookSource, rawBody: Uint8Array): unknown {
  let text: string
  try {
    text = utf8.decode(rawBody)
  } catch {
    throw new MalformedDeliveryError(source, [{ path: '$', message: 'body is not valid UTF-8' }])
  }
  let value: unknown
  try {
    value = JSON.parse(MAYBE_LONG_INTEGER.test(text) ? text.replace(JSON_STRING_OR_NUMBER, quoteUnsafeInteger) : text)
  } catch (error) {
    throw new MalformedDeliveryError(source, [{ path: '$', message: `body is not JSON (${(error as Error).message})` }])
  }
  return value
}

// ---------------------------------------------------------------------------------------------
// What PostgreSQL can keep. Its text and jsonb hold neither U+0000 nor a lone UTF-16 surrogate
// (JSON's `\ud800` escape decodes to one; converting it to UTF-8 would silently turn it into
// U+FFFD, altering the record), and jsonb refuses very deep nesting. Such a value is never half
// stored: the comment or change carrying it is skipped with the reason, the delivery's other
// changes are stored, and its exact bytes are in the archive (webhook_delivery.body) either way.

/** Nesting deeper than this is not kept as JSON; the bytes stay in the archive. */
export const MAX_JSON_DEPTH = 64

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

function textProblem(text: string): string | null {
  if (text.includes('\u0000')) return 'contains U+0000 (NUL), which cannot be stored as text'
  if (LONE_SURROGATE.test(text)) return 'contains a lone UTF-16 surrogate, which cannot be stored as text'
  return null
}

/** `text` with NUL and lone surrogates written as JSON escapes (`\u0000`), so it can be stored and shown. */
export function printable(text: string): string {
  return textProblem(text) === null ? text : JSON.stringify(text).slice(1, -1)
}

/** Where (a JSON path) and why `value` cannot be kept as PostgreSQL text or jsonb, or null when it can. */
export function unrepresentable(value: unknown, path = '$', depth = 0): DeliveryIssue | null {
  if (typeof value === 'string') {
    const problem = textProblem(value)
    return problem === null ? null : { path, message: problem }
  }
  if (value === null || typeof value !== 'object') return null
  if (depth >= MAX_JSON_DEPTH) return { path, message: `is nested deeper than ${MAX_JSON_DEPTH} levels` }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = unrepresentable(value[i], `${path}[${i}]`, depth + 1)
      if (problem) return problem
    }
    return null
  }
  for (const [key, item] of Object.entries(value)) {
    const keyProblem = textProblem(key)
    if (keyProblem) return { path: `${path}.${printable(key)}`, message: `(a key) ${keyProblem}` }
    const problem = unrepresentable(item, `${path}.${key}`, depth + 1)
    if (problem) return problem
  }
  return null
}

const described = (issue: DeliveryIssue) => `${issue.path} ${issue.message}`

/**
 * A platform's normalized delivery, less what PostgreSQL cannot keep: a comment event holding such
 * text is skipped with the reason, and a skipped change's raw value that cannot be kept as jsonb is
 * dropped from the skip (its bytes are in the archive). Everything else is untouched.
 */
export function keepRepresentable(result: NormalizeResult): NormalizeResult {
  const events: CommentEvent[] = []
  const skipped = result.skipped.map(({ reason, raw }) => {
    const problem = unrepresentable(raw)
    return problem === null
      ? { reason: printable(reason), raw }
      : { reason: `${printable(reason)}; the change is not kept as JSON (${described(problem)}): its exact bytes are in the delivery`, raw: null }
  })
  for (const event of result.events) {
    const problem = unrepresentable(event)
    if (problem === null) events.push(event)
    else skipped.push({ reason: `comment ${printable(event.externalId)} not stored: ${described(problem)}; its exact bytes are in the delivery`, raw: null })
  }
  return { events, skipped }
}

/** `['entry', 0, 'id']` under `$.x` becomes `$.x.entry[0].id`. */
export function jsonPath(base: string, path: ReadonlyArray<PropertyKey>): string {
  return base + path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${printable(String(p))}`)).join('')
}

export function issuesOf(error: z.ZodError, base: string): DeliveryIssue[] {
  return error.issues.map((issue) => ({ path: jsonPath(base, issue.path), message: issue.message }))
}

/** Parses the envelope (the part that must hold for the delivery to be the platform's at all) or throws. */
export function parseEnvelope<S extends z.ZodType>(source: WebhookSource, schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value)
  if (!result.success) throw new MalformedDeliveryError(source, issuesOf(result.error, '$'))
  return result.data
}

/**
 * Parses one change of a known kind. A change that fails is skipped with the reasons, not thrown:
 * one odd change must not lose the other 999 of a batch. The raw change stays in the archive.
 */
export function parseChange<S extends z.ZodType>(
  schema: S,
  value: unknown,
  path: string,
): { ok: true; data: z.output<S> } | { ok: false; reason: string } {
  const result = schema.safeParse(value)
  if (result.success) return { ok: true, data: result.data }
  const issues = issuesOf(result.error, path).map((i) => `${i.path}: ${i.message}`)
  return { ok: false, reason: `malformed change: ${issues.join('; ')}` }
}

/**
 * An id that must come out as a string: a non-empty string, or a number that is a safe integer
 * (unsafe ones were already turned into exact strings by `parseJsonBody`).
 */
export const idSchema = z.union([
  z.string().min(1),
  z
    .number()
    .refine((n) => Number.isSafeInteger(n) && n >= 0, 'numeric id is not a safe non-negative integer')
    .transform((n) => String(n)),
])

const MAX_EPOCH_MS = 253_402_300_799_999 // 9999-12-31T23:59:59.999Z

/** A non-negative integer sent as a number or as a string of digits (X sends `timestamp_ms` as a string). */
export const epochNumberSchema = z.union([z.number(), z.string().regex(/^\d+$/, 'expected digits').transform(Number)]).pipe(z.number().int().nonnegative())

export function isoFromEpochMs(ms: number): string | null {
  return Number.isInteger(ms) && ms >= 0 && ms <= MAX_EPOCH_MS ? new Date(ms).toISOString() : null
}

/** A query parameter that must be given exactly once; arrays (repeated keys) and non-strings count as absent. */
export function singleQueryValue(query: Record<string, unknown>, key: string): string | undefined {
  const value = query[key]
  return typeof value === 'string' && value !== '' ? value : undefined
}
