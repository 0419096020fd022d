// Shared, pure helpers for turning a delivery's bytes into checked values.
import { z } from 'zod'
import { MalformedDeliveryError, type DeliveryIssue, type WebhookSource } from './types.js'

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
  // PostgreSQL text and jsonb cannot hold U+0000, so a comment carrying one could be neither stored
  // nor searched: the delivery is refused as malformed (its bytes are kept in bytea). JSON can only
  // carry it as the escape, so bodies without that text are not walked.
  if (text.includes('\\u0000')) {
    const paths = nulPaths(value, '$')
    if (paths.length > 0) {
      throw new MalformedDeliveryError(
        source,
        paths.slice(0, 20).map((path) => ({ path, message: 'contains U+0000 (NUL), which cannot be stored as text' })),
      )
    }
  }
  return value
}

const NUL = '\u0000'

/** The JSON paths of strings and keys holding U+0000 (a key's NUL is shown as the escape). */
function nulPaths(value: unknown, path: string): string[] {
  if (typeof value === 'string') return value.includes(NUL) ? [path] : []
  if (Array.isArray(value)) return value.flatMap((item, i) => nulPaths(item, `${path}[${i}]`))
  if (value === null || typeof value !== 'object') return []
  return Object.entries(value).flatMap(([key, item]) => {
    const at = `${path}.${key.replaceAll(NUL, '\\u0000')}`
    return key.includes(NUL) ? [at] : nulPaths(item, at)
  })
}

/** `['entry', 0, 'id']` under `$.x` becomes `$.x.entry[0].id`. */
export function jsonPath(base: string, path: ReadonlyArray<PropertyKey>): string {
  return base + path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')
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
