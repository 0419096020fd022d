import { z } from 'zod'
import { Prisma } from '../generated/prisma/client.js'
import { DateParam } from '../http/dates.js'
import { ValidationProblem } from '../plugins/errors.js'

/**
 * What a records clerk asks for: one description of a set of retained comments, shared by the
 * search route, the searches kept with a FOIA request (re-run later), and legal holds placed on a
 * search. Everything below describes comments; a comment matches as a whole, with every version.
 */

/**
 * The record kinds the city's retention schedules speak of. A comment the city ever removed or hid
 * is a removed comment for as long as it is kept, even after an appeal restored it: the removal
 * and its notice are part of the record.
 */
export const RecordKind = z.enum(['comment', 'removed_comment', 'city_comment'])
export type RecordKind = z.infer<typeof RecordKind>

export const DecisionAction = z.enum(['remove', 'hide', 'approve', 'restore'])

export const RecordQuery = z
  .object({
    q: z
      .string()
      .trim()
      .min(1)
      .max(500)
      .optional()
      .describe('Full-text search over every version of a comment: words (all must match), "an exact phrase", prefix* and -excluded'),
    platform: z.enum(['facebook', 'instagram', 'x', 'linkedin', 'website']).optional(),
    account: z.string().min(1).optional().describe('The city page or account it was posted to'),
    postId: z.string().min(1).optional(),
    authorId: z.string().min(1).optional(),
    authorName: z.string().min(1).max(200).optional().describe('Part of the author\'s display name or handle, any case'),
    from: DateParam.optional().describe('Posted on the platform at or after this time (a plain date: from the start of that day)'),
    to: DateParam.optional().describe('Posted on the platform before this time (a plain date: that day included)'),
    kind: RecordKind.optional(),
    removed: z.boolean().optional().describe('Only comments the city removed or hid (true), or never did (false)'),
    rule: z.string().min(1).optional().describe('A decision cited this rule code'),
    moderator: z.string().min(1).optional().describe('A decision was made by this person (the JWT subject)'),
    decision: DecisionAction.optional().describe('A decision of this action was recorded'),
  })
  .strict()
  .meta({ id: 'RecordQuery' })
export type RecordQuery = z.infer<typeof RecordQuery>

/** The query string form: booleans arrive as text. */
export const RecordQueryString = RecordQuery.extend({
  removed: z.enum(['true', 'false']).transform((v) => v === 'true').optional().describe('Only comments the city removed or hid (true), or never did (false)'),
}).strict()

/**
 * The English text search vector of a comment version (alias `e` = comment_event): what the table
 * comment_text_search stores for each version (its trigger computes exactly this expression).
 * Searches read the stored vectors through recordConditions rather than recomputing them.
 */
export const TEXT_SEARCH_VECTOR = Prisma.sql`to_tsvector('english'::regconfig, coalesce(e.text, ''))`

type Term = { kind: 'word' | 'prefix' | 'phrase'; text: string; negated: boolean }

/** Splits a clerk's query into words, "phrases", prefix* and -negations. Never a syntax error. */
export function parseTextQuery(q: string): Term[] {
  const terms: Term[] = []
  const pattern = /(-?)"([^"]*)"?|(-?)(\S+)/gu
  for (const m of q.matchAll(pattern)) {
    if (m[2] !== undefined) {
      const text = m[2].trim()
      if (text) terms.push({ kind: 'phrase', text, negated: m[1] === '-' })
      continue
    }
    const raw = m[4] ?? ''
    const prefix = raw.endsWith('*')
    // Only letters and digits reach to_tsquery: its operators in user text would be syntax errors.
    const text = raw.replace(/[^\p{L}\p{N}]+/gu, ' ').trim()
    if (!text) continue
    if (prefix && !text.includes(' ')) terms.push({ kind: 'prefix', text, negated: m[3] === '-' })
    else terms.push({ kind: 'word', text, negated: m[3] === '-' })
  }
  return terms
}

/** The tsquery for a clerk's text query, or null when nothing searchable is left in it. */
export function textQuerySql(q: string): Prisma.Sql | null {
  const terms = parseTextQuery(q)
  if (!terms.some((t) => !t.negated)) return null
  const parts = terms.map((t) => {
    const one =
      t.kind === 'phrase'
        ? Prisma.sql`phraseto_tsquery('english'::regconfig, ${t.text})`
        : t.kind === 'prefix'
          ? Prisma.sql`to_tsquery('english'::regconfig, ${t.text + ':*'})`
          : Prisma.sql`plainto_tsquery('english'::regconfig, ${t.text})`
    return t.negated ? Prisma.sql`(!! ${one})` : one
  })
  return Prisma.join(parts, ' && ')
}

/**
 * The conditions on a comment (alias `c`) for a query, as SQL with bound parameters: usable in
 * $queryRaw and, through `.text` ($1 placeholders) and `.values`, on a plain pg client.
 */
export function recordConditions(query: RecordQuery): Prisma.Sql {
  const where: Prisma.Sql[] = []
  if (query.q !== undefined) {
    const tsquery = textQuerySql(query.q)
    if (!tsquery) {
      throw new ValidationProblem('The search has no words to look for.', [{ path: '$.q', message: 'no searchable words' }])
    }
    // Any version matches: a clerk looks for what was said, whenever it was said.
    // The stored vectors (GIN-indexed), so a phrase's recheck never recomputes to_tsvector.
    where.push(Prisma.sql`c.id IN (SELECT s.comment_id FROM comment_text_search s WHERE s.vector @@ (${tsquery}))`)
  }
  if (query.platform) where.push(Prisma.sql`c.platform = ${query.platform}`)
  if (query.account) where.push(Prisma.sql`c.account = ${query.account}`)
  if (query.postId) where.push(Prisma.sql`c.post_id = ${query.postId}`)
  if (query.authorId) where.push(Prisma.sql`c.author_id = ${query.authorId}`)
  if (query.authorName) where.push(Prisma.sql`c.author_name ILIKE ${'%' + escapeLike(query.authorName) + '%'}`)
  if (query.from) where.push(Prisma.sql`c.first_platform_at >= ${new Date(query.from)}`)
  if (query.to) where.push(Prisma.sql`c.first_platform_at < ${new Date(query.to)}`)
  if (query.kind) where.push(Prisma.sql`(${recordKindSql}) = ${query.kind}`)
  if (query.removed !== undefined) where.push(query.removed ? everRemoved : Prisma.sql`NOT ${everRemoved}`)
  if (query.rule || query.moderator || query.decision) {
    const d: Prisma.Sql[] = [Prisma.sql`d.comment_id = c.id`]
    if (query.rule) d.push(Prisma.sql`${query.rule} = ANY(d.rule_codes)`)
    if (query.moderator) d.push(Prisma.sql`d.actor = ${'user:' + query.moderator}`)
    if (query.decision) d.push(Prisma.sql`d.action = ${query.decision}`)
    where.push(Prisma.sql`EXISTS (SELECT 1 FROM moderation_decision d WHERE ${Prisma.join(d, ' AND ')})`)
  }
  return where.length > 0 ? Prisma.join(where, ' AND ') : Prisma.sql`TRUE`
}

const everRemoved = Prisma.sql`EXISTS (SELECT 1 FROM moderation_decision r WHERE r.comment_id = c.id AND r.action IN ('remove', 'hide'))`

/** The record kind of a comment (alias `c`); see RecordKind. */
export const recordKindSql = Prisma.sql`CASE WHEN c.by_city THEN 'city_comment' WHEN ${everRemoved} THEN 'removed_comment' ELSE 'comment' END`

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (ch) => '\\' + ch)
}
