import { createHash, randomBytes, randomUUID } from 'node:crypto'
import type { Tx } from '../db/tx.js'
import type { FoiaRedaction } from '../generated/prisma/client.js'
import type { Clock } from '../ledger/append.js'
import { disclose, mapScalars, type Disclosure, type WithheldSpan } from '../ledger/commitment.js'
import { ConflictError, NotFoundError, ValidationProblem } from '../plugins/errors.js'

/**
 * Redactions of a produced copy. The original ledger entry is never touched: a redaction names a
 * span of one string in one entry's payload (JSON Pointer + [start, end) in UTF-16 code units), and
 * the production replaces it with a marker naming the exemption, beside a commitment to the removed
 * text (docs/foia.md, "What a redacted record proves").
 */

export type RedactionCategory = 'email' | 'phone' | 'ssn' | 'address' | 'access_code' | 'other'

/** Private information as 5 ILCS 140/2(c-5) defines it ("passwords or other access codes" included): exempt under 7(1)(b). */
export const DEFAULT_CITATION: Record<RedactionCategory, string> = {
  email: '5 ILCS 140/7(1)(b)',
  phone: '5 ILCS 140/7(1)(b)',
  ssn: '5 ILCS 140/7(1)(b)',
  address: '5 ILCS 140/7(1)(b)',
  access_code: '5 ILCS 140/7(1)(b)',
  other: '5 ILCS 140/7(1)(c)',
}

export interface Span {
  start: number
  end: number
  category: RedactionCategory
}

// In priority order: where two overlap, the earlier kind wins (an SSN is not also a phone number).
const PATTERNS: Array<[Exclude<RedactionCategory, 'other'>, RegExp]> = [
  ['ssn', /(?<![\d-])(?!000|666|9\d\d)\d{3}[- ](?!00)\d{2}[- ](?!0000)\d{4}(?![\d-])/g],
  ['email', /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g],
  ['phone', /(?<![\w-])(?:\+?1[-.\s]?)?(?:\(\d{3}\)\s?|\d{3}[-.\s])\d{3}[-.\s]\d{4}(?![\w-])/g],
  [
    'address',
    /\b\d{1,6}\s+(?:(?:[NSEW]|North|South|East|West)\.?\s+)?(?:[A-Z0-9][A-Za-z0-9'-]*\s+){1,4}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Drive|Dr|Lane|Ln|Court|Ct|Place|Pl|Way|Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy)\b\.?(?:,?\s*(?:Apt|Unit|Suite|#)\.?\s*[A-Za-z0-9-]+)?/g,
  ],
  // The appeal reference a removal notice gives its author (src/moderation/notices.ts): whoever
  // holds it can file the author's one appeal, so a production withholds it.
  ['access_code', /(?<=\b[Rr]eference:? )[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}(?![0-9A-Za-z])/g],
]

/** Private information found in a text: e-mail addresses, US phone numbers, SSNs, street addresses, appeal references. */
export function suggestSpans(text: string): Span[] {
  const found: Span[] = []
  for (const [category, pattern] of PATTERNS) {
    for (const m of text.matchAll(pattern)) {
      const span = { start: m.index, end: m.index + m[0].length, category }
      if (!found.some((f) => f.start < span.end && span.start < f.end)) found.push(span)
    }
  }
  return found.sort((a, b) => a.start - b.start)
}

// Identifiers, hashes, times and enumerations are not private information: not scanned.
const NOT_TEXT = /(^id$|Id$|Ids$|Sha256$|^eventKey$|At$|Time$|^kind$|^platform$|^action$|^platformAction$|^account$|^v$)/

const escapePointer = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1')

/** Every string in a payload worth scanning, with its JSON Pointer (RFC 6901). */
export function textFields(payload: unknown, pointer = ''): Array<{ path: string; text: string }> {
  if (typeof payload === 'string') return [{ path: pointer, text: payload }]
  if (Array.isArray(payload)) return payload.flatMap((v, i) => textFields(v, `${pointer}/${i}`))
  if (payload && typeof payload === 'object') {
    return Object.entries(payload).flatMap(([k, v]) => (NOT_TEXT.test(k) ? [] : textFields(v, `${pointer}/${escapePointer(k)}`)))
  }
  return []
}

/** The value at a JSON Pointer, or undefined. */
export function resolvePointer(payload: unknown, pointer: string): unknown {
  if (pointer === '') return payload
  let at: unknown = payload
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (Array.isArray(at) && /^(0|[1-9]\d*)$/.test(key)) at = at[Number(key)]
    else if (at && typeof at === 'object' && !Array.isArray(at) && Object.hasOwn(at, key)) at = (at as Record<string, unknown>)[key]
    else return undefined
  }
  return at
}

function setPointer(payload: unknown, pointer: string, value: string): void {
  const keys = pointer.slice(1).split('/').map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'))
  const last = keys.pop()!
  const parent = resolvePointer(payload, keys.length ? '/' + keys.map(escapePointer).join('/') : '') as Record<string, unknown>
  parent[Array.isArray(parent) ? Number(last) : last] = value
}

/** The marker that replaces a redacted span in every file of a production. */
export function redactionMarker(citation: string): string {
  return `[REDACTED ${citation}]`
}

/** SHA-256(nonce || UTF-8 of the original text), hex: binds the city to the text without revealing it. */
export function commitment(nonce: Buffer, text: string): string {
  return createHash('sha256').update(nonce).update(text, 'utf8').digest('hex')
}

export interface AppliedRedaction {
  id: string
  path: string
  start: number
  end: number
  citation: string
  category: string
  nonce: Buffer
}

export interface RedactedSpan {
  id: string
  path: string
  category: string
  citation: string
  /** Where the marker starts in the redacted string. */
  redactedStart: number
  replacement: string
  /** SHA-256(nonce || original text), hex; the city keeps the nonce. */
  commitment: string
}

/**
 * A redacted copy of a payload (the original is not modified) and, for each span, its marker's
 * place and a commitment to what it replaced. Spans of one string must not overlap.
 */
export function applyRedactions(payload: unknown, redactions: readonly AppliedRedaction[]): { payload: unknown; spans: RedactedSpan[] } {
  const copy = structuredClone(payload)
  const spans: RedactedSpan[] = []
  const byPath = new Map<string, AppliedRedaction[]>()
  for (const r of redactions) byPath.set(r.path, [...(byPath.get(r.path) ?? []), r])
  for (const [path, list] of byPath) {
    const original = resolvePointer(payload, path)
    if (typeof original !== 'string') throw new Error(`redaction ${list[0]!.id}: ${path} is not a string in the payload`)
    let out = ''
    let at = 0
    for (const r of [...list].sort((a, b) => a.start - b.start)) {
      if (r.start < at || r.end > original.length || r.start >= r.end) throw new Error(`redaction ${r.id}: span [${r.start}, ${r.end}) is invalid or overlaps another`)
      out += original.slice(at, r.start)
      const replacement = redactionMarker(r.citation)
      spans.push({ id: r.id, path, category: r.category, citation: r.citation, redactedStart: out.length, replacement, commitment: commitment(r.nonce, original.slice(r.start, r.end)) })
      out += replacement
      at = r.end
    }
    setPointer(copy, path, out + original.slice(at))
  }
  return { payload: copy, spans }
}

// Fields computed from a payload's text (a deduplication key, a digest): in an entry with a
// redaction they are withheld whole, under the entry's first redaction, since they could confirm a
// guess of the withheld text.
const DERIVED_FROM_TEXT = /\/(eventKey|[A-Za-z]*Sha256)$/

/**
 * A format 2 entry as a production shows it (docs/foia.md, "What a redacted record proves"): the
 * displayed payload, with each redacted span widened to the whole segments (words with the
 * whitespace after them) it touches and replaced by its marker, and its disclosure, which proves
 * every shown character against the entry's payloadCommitment without the salt. With no redaction,
 * every field is shown with its field key.
 */
export function discloseRedacted(
  payload: unknown,
  salt: Buffer,
  redactions: readonly AppliedRedaction[],
  keys?: ReadonlyMap<string, Buffer>,
): { payload: unknown; disclosure: Disclosure; spans: RedactedSpan[] } {
  const byPath = new Map<string, WithheldSpan[]>()
  const byId = new Map(redactions.map((r) => [r.id, r]))
  for (const r of [...redactions].sort((a, b) => a.start - b.start)) {
    const original = resolvePointer(payload, r.path)
    if (typeof original !== 'string') throw new Error(`redaction ${r.id}: ${r.path} is not a string in the payload`)
    if (r.end > original.length || r.start >= r.end) throw new Error(`redaction ${r.id}: span [${r.start}, ${r.end}) is invalid`)
    byPath.set(r.path, [...(byPath.get(r.path) ?? []), { id: r.id, start: r.start, end: r.end, marker: redactionMarker(r.citation) }])
  }
  const whole = new Map<string, { id: string; marker: string }>()
  const first = [...redactions].sort((a, b) => a.id.localeCompare(b.id))[0]
  if (first) {
    mapScalars(payload, (p) => {
      if (DERIVED_FROM_TEXT.test(p) && !byPath.has(p)) whole.set(p, { id: first.id, marker: redactionMarker(first.citation) })
      return null
    })
  }
  const { displayed, disclosure, spans } = disclose(payload, salt, { spans: byPath, whole }, keys)
  const out: RedactedSpan[] = []
  for (const span of spans) {
    if (whole.has(span.path)) continue
    const r = byId.get(span.id)!
    const original = resolvePointer(payload, r.path) as string
    out.push({ id: r.id, path: span.path, category: r.category, citation: r.citation, redactedStart: span.displayedStart, replacement: span.marker, commitment: commitment(r.nonce, original.slice(r.start, r.end)) })
  }
  return { payload: displayed, disclosure, spans: out }
}

/**
 * Puts withheld texts back into a redacted copy (an auditor's check: the result must hash to the
 * envelope's payloadSha256, and each text must open its commitment with the city's nonce).
 */
export function openRedactions(redacted: unknown, openings: ReadonlyArray<{ path: string; redactedStart: number; replacement: string; text: string }>): unknown {
  const copy = structuredClone(redacted)
  const byPath = new Map<string, Array<(typeof openings)[number]>>()
  for (const o of openings) byPath.set(o.path, [...(byPath.get(o.path) ?? []), o])
  for (const [path, list] of byPath) {
    const found = resolvePointer(copy, path)
    if (typeof found !== 'string') throw new Error(`${path} is not a string in the redacted copy`)
    let value = found
    // From the last marker back, so earlier positions stay valid.
    for (const o of [...list].sort((a, b) => b.redactedStart - a.redactedStart)) {
      if (value.slice(o.redactedStart, o.redactedStart + o.replacement.length) !== o.replacement) throw new Error(`no marker at ${path}[${o.redactedStart}]`)
      value = value.slice(0, o.redactedStart) + o.text + value.slice(o.redactedStart + o.replacement.length)
    }
    setPointer(copy, path, value)
  }
  return copy
}

// ---------------------------------------------------------------------------------------------
// Stored redactions of a request

async function lockRequest(tx: Tx, requestId: string): Promise<void> {
  const rows = await tx.$queryRaw<Array<{ id: string }>>`SELECT id::text FROM foia_request WHERE id = ${requestId}::uuid FOR UPDATE`
  if (rows.length === 0) throw new NotFoundError(`No FOIA request ${requestId}.`)
}

/**
 * Scans every ledger entry of every record attached to the request and stores what looks like
 * private information as suggestions (never twice for the same span). Returns how many are new.
 */
export async function suggestRedactions(tx: Tx, requestId: string, actor: string, clock: Clock, batchSize = 2000): Promise<{ scanned: number; suggested: number; pending: number }> {
  await lockRequest(tx, requestId)
  const now = clock()
  let scanned = 0
  let suggested = 0
  for (let after = '00000000-0000-0000-0000-000000000000'; ; ) {
    const rows = await tx.$queryRaw<Array<{ id: string; subject: string; payload: string }>>`
      SELECT e.id::text, e.subject, e.payload FROM foia_request_record r JOIN ledger_entry e ON e.subject = r.comment_id::text
       WHERE r.request_id = ${requestId}::uuid AND r.detached_at IS NULL AND e.id > ${after}::uuid AND e.payload IS NOT NULL ORDER BY e.id LIMIT ${batchSize}`
    if (rows.length === 0) break
    scanned += rows.length
    const found: Array<{ entryId: string; commentId: string; path: string; start: number; end: number; category: RedactionCategory }> = []
    for (const row of rows) {
      for (const field of textFields(JSON.parse(row.payload))) {
        for (const span of suggestSpans(field.text)) found.push({ entryId: row.id, commentId: row.subject, path: field.path, ...span })
      }
    }
    if (found.length > 0) {
      suggested += await tx.$executeRaw`
        INSERT INTO foia_redaction (id, request_id, comment_id, entry_id, path, start, "end", category, citation, status, source, nonce, created_at, created_by)
        SELECT gen_random_uuid(), ${requestId}::uuid, f.comment_id, f.entry_id, f.path, f.start, f.end_, f.category, f.citation, 'suggested', 'suggested',
               f.nonce, ${now}, ${actor}
          FROM unnest(${found.map((f) => f.commentId)}::uuid[], ${found.map((f) => f.entryId)}::uuid[], ${found.map((f) => f.path)}::text[],
                      ${found.map((f) => f.start)}::int[], ${found.map((f) => f.end)}::int[], ${found.map((f) => f.category)}::text[],
                      ${found.map((f) => DEFAULT_CITATION[f.category])}::text[], ${found.map(() => randomBytes(32))}::bytea[])
               AS f(comment_id, entry_id, path, start, end_, category, citation, nonce)
        ON CONFLICT (request_id, entry_id, path, start, "end") DO NOTHING`
    }
    after = rows[rows.length - 1]!.id
    if (rows.length < batchSize) break
  }
  const pending = await tx.foiaRedaction.count({ where: { requestId, status: 'suggested' } })
  return { scanned, suggested, pending }
}

export interface RedactionView {
  row: FoiaRedaction
  /** The original text of the span, for the clerk's review. */
  text: string
}

/** The request's redactions with the original text of each span (for review, never produced). */
export async function listRedactions(tx: Tx, requestId: string, filter: { status?: string | undefined }, page: { limit: number; after?: string }): Promise<{ items: RedactionView[]; more: boolean }> {
  if (!(await tx.foiaRequest.findUnique({ where: { id: requestId }, select: { id: true } }))) throw new NotFoundError(`No FOIA request ${requestId}.`)
  const rows = await tx.foiaRedaction.findMany({
    where: { requestId, ...(filter.status ? { status: filter.status } : {}), ...(page.after ? { id: { gt: page.after } } : {}) },
    orderBy: { id: 'asc' },
    take: page.limit + 1,
  })
  const shown = rows.slice(0, page.limit)
  const payloads = await entryPayloads(tx, [...new Set(shown.map((r) => r.entryId))])
  const items = shown.map((row) => {
    const value = resolvePointer(payloads.get(row.entryId), row.path)
    return { row, text: typeof value === 'string' ? value.slice(row.start, row.end) : '' }
  })
  return { items, more: rows.length > page.limit }
}

export async function getRedaction(tx: Tx, requestId: string, redactionId: string): Promise<RedactionView> {
  const row = await tx.foiaRedaction.findFirst({ where: { id: redactionId, requestId } })
  if (!row) throw new NotFoundError(`No redaction ${redactionId} on FOIA request ${requestId}.`)
  const value = resolvePointer((await entryPayloads(tx, [row.entryId])).get(row.entryId), row.path)
  return { row, text: typeof value === 'string' ? value.slice(row.start, row.end) : '' }
}

async function entryPayloads(tx: Tx, ids: string[]): Promise<Map<string, unknown>> {
  if (ids.length === 0) return new Map()
  const rows = await tx.$queryRaw<Array<{ id: string; payload: string | null }>>`SELECT id::text, payload FROM ledger_entry WHERE id = ANY(${ids}::uuid[])`
  return new Map(rows.map((r) => [r.id, r.payload === null ? null : (JSON.parse(r.payload) as unknown)]))
}

async function assertNoOverlap(tx: Tx, r: { id: string; requestId: string; entryId: string; path: string; start: number; end: number }): Promise<void> {
  const clash = await tx.foiaRedaction.findFirst({
    where: { requestId: r.requestId, entryId: r.entryId, path: r.path, status: 'accepted', id: { not: r.id }, start: { lt: r.end }, end: { gt: r.start } },
  })
  if (clash) {
    throw new ConflictError(`The span [${r.start}, ${r.end}) of ${r.path} overlaps accepted redaction ${clash.id} [${clash.start}, ${clash.end}); reject one first.`, 'foia-redaction-overlap')
  }
}

/** A clerk's own redaction, accepted at once: the entry must belong to a record of the request. */
export async function addRedaction(
  tx: Tx,
  requestId: string,
  input: { entryId: string; path: string; start?: number | undefined; end?: number | undefined; category: RedactionCategory; citation: string; note?: string | undefined },
  actor: string,
  clock: Clock,
): Promise<string> {
  await lockRequest(tx, requestId)
  const [entry] = await tx.$queryRaw<Array<{ subject: string; payload: string }>>`
    SELECT e.subject, e.payload FROM ledger_entry e JOIN foia_request_record r ON r.comment_id::text = e.subject AND r.request_id = ${requestId}::uuid AND r.detached_at IS NULL
     WHERE e.id = ${input.entryId}::uuid`
  if (!entry) {
    throw new ValidationProblem(`Ledger entry ${input.entryId} is not part of a record attached to this request.`, [{ path: 'body:$.entryId', message: 'not an entry of an attached record' }])
  }
  const value = resolvePointer(JSON.parse(entry.payload), input.path)
  if (typeof value !== 'string') {
    throw new ValidationProblem(`${input.path} is not a string in the payload of entry ${input.entryId}.`, [{ path: 'body:$.path', message: 'not a string in the payload' }])
  }
  const start = input.start ?? 0
  const end = input.end ?? value.length
  if (start >= end || end > value.length) {
    throw new ValidationProblem(`The span [${start}, ${end}) is not inside the ${value.length} characters of ${input.path}.`, [{ path: 'body:$.end', message: 'span outside the text' }])
  }
  const id = randomUUID()
  await assertNoOverlap(tx, { id, requestId, entryId: input.entryId, path: input.path, start, end })
  const now = clock()
  const existing = await tx.foiaRedaction.findUnique({ where: { requestId_entryId_path_start_end: { requestId, entryId: input.entryId, path: input.path, start, end } } })
  if (existing) throw new ConflictError(`Redaction ${existing.id} already covers this span (${existing.status}); accept it instead.`, 'foia-redaction-exists')
  await tx.foiaRedaction.create({
    data: {
      id,
      requestId,
      commentId: entry.subject,
      entryId: input.entryId,
      path: input.path,
      start,
      end,
      category: input.category,
      citation: input.citation,
      status: 'accepted',
      source: 'clerk',
      nonce: randomBytes(32),
      note: input.note ?? null,
      createdAt: now,
      createdBy: actor,
      decidedAt: now,
      decidedBy: actor,
    },
  })
  return id
}

/** Accepts or rejects a redaction (a suggestion or an earlier decision), optionally citing another exemption. */
export async function decideRedaction(
  tx: Tx,
  requestId: string,
  redactionId: string,
  input: { status: 'accepted' | 'rejected'; citation?: string | undefined; note?: string | undefined },
  actor: string,
  clock: Clock,
): Promise<void> {
  await lockRequest(tx, requestId)
  const row = await tx.foiaRedaction.findFirst({ where: { id: redactionId, requestId } })
  if (!row) throw new NotFoundError(`No redaction ${redactionId} on FOIA request ${requestId}.`)
  if (input.status === 'accepted') await assertNoOverlap(tx, row)
  await tx.foiaRedaction.update({
    where: { id: redactionId },
    data: { status: input.status, ...(input.citation ? { citation: input.citation } : {}), ...(input.note ? { note: input.note } : {}), decidedAt: clock(), decidedBy: actor },
  })
}
