import { randomUUID } from 'node:crypto'
import { EventKeySecret, eventKey } from '../webhooks/event-keys.js'
import type pg from 'pg'
import { asSql, inPgTransaction, type Queryable } from '../db/sql.js'
import type { Clock } from '../ledger/append.js'
import { openPayload } from '../ledger/commitment.js'
import { committedDigest, storedPayloadDigest } from '../ledger/entry.js'

/**
 * Reconciliation: the comment projections (`comment`, `comment_event`) checked against the ledger.
 * The runtime role may UPDATE `comment` (it is a projection), and an owner can switch the
 * append-only triggers off and rewrite `comment_event`; ledger verification (src/ledger/verify.ts)
 * proves the ledger, not the tables read beside it. This recomputes each comment's state from its
 * ledger entries alone and names every field where the tables say something else
 * (docs/ledger.md, "Reconciliation").
 */

/** The ledger kinds a comment's projection is computed from (subject: the comment's id). */
export const COMMENT_ENTRY_KINDS = ['comment.version', 'comment.author_deleted', 'comment.platform_hidden', 'comment.platform_unhidden'] as const
const DECISION_KIND = 'moderation.decision'

/** The moderation status a decision leaves (recordDecision, src/moderation/decisions.ts). */
const STATUS_AFTER: Record<string, string> = { remove: 'removed', hide: 'hidden', approve: 'approved', restore: 'restored' }
/** What the policy alone can leave (src/moderation/automatic.ts): its evaluations are not ledger facts. */
const POLICY_STATUSES = ['unevaluated', 'allowed', 'flagged']

export type ReconcileField =
  | 'comment'
  | 'platform'
  | 'externalId'
  | 'account'
  | 'postId'
  | 'parentExternalId'
  | 'authorId'
  | 'authorName'
  | 'authorEmail'
  | 'byCity'
  | 'currentText'
  | 'versionCount'
  | 'status'
  | 'moderationStatus'
  | 'firstPlatformAt'
  | 'lastPlatformAt'
  | 'disposedAt'
  | 'event'
  | 'event.kind'
  | 'event.text'
  | 'event.platformTime'
  | 'event.eventKey'
  | 'ledger.payload'

/**
 * Fields whose values are what the public wrote or who wrote it: a divergence in one names the
 * field and never carries the values (reports are stored and logged). GET /v1/records/{id} shows
 * both, with the read logged.
 */
export const CONTENT_FIELDS: ReadonlySet<ReconcileField> = new Set(['currentText', 'authorId', 'authorName', 'authorEmail', 'event.text'])

export interface ProjectionDivergence {
  commentId: string
  field: ReconcileField
  /** The comment event concerned (fields `event*`), when there is one. */
  eventId: string | null
  /** The ledger entry concerned, when there is one. */
  ledgerEntryId: string | null
  /** What the tables hold, and what the ledger gives (several values: any of them is consistent); omitted for content fields. */
  projection?: string | null
  ledger?: string | null
}

/** The outcome of checking one comment. */
export interface CommentCheck {
  commentId: string
  divergences: ProjectionDivergence[]
  /** Events whose kind, text, time and key equal their ledger entry's payload (hash checked). */
  verifiedEventIds: Set<string>
  /** Its content was destroyed by a lawful disposal: only what the envelopes still say is checked. */
  disposed: boolean
  events: number
  entries: number
  /** Each event's text as its ledger entry's payload gives it (events whose payload is usable). */
  ledgerText: Map<string, string | null>
  /** The current text the ledger gives (undefined when it gives none: disposed, or no usable version). */
  ledgerCurrentText: string | null | undefined
}

interface CommentRow {
  id: string
  platform: string
  account: string
  external_id: string
  post_id: string | null
  parent_external_id: string | null
  author_id: string | null
  author_name: string | null
  author_email: string | null
  by_city: boolean
  status: string
  moderation_status: string
  current_text: string | null
  version_count: number
  first_platform_at: Date
  last_platform_at: Date
  disposed_at: Date | null
}

interface EntryRow {
  id: string
  kind: string
  subject: string
  recorded_at: Date
  seq: string
  payload: string | null
  format: number
  payload_sha256: string | null
  payload_commitment: string | null
  payload_salt: Buffer | null
}

interface EventRow {
  id: string
  comment_id: string
  kind: string
  platform_time: Date
  text: string | null
  event_key: string
  ledger_entry_id: string
}

interface CommentPayload {
  platform?: string
  account?: string
  externalId?: string
  postId?: string | null
  parentExternalId?: string | null
  author?: { id?: string | null; name?: string | null; email?: string | null } | null
  kind?: string
  text?: string | null
  platformTime?: string
  byCityAccount?: boolean
  eventKey?: string
}

interface Usable {
  row: EntryRow
  payload: CommentPayload
  time: number
}

const iso = (d: Date | null) => (d === null ? null : d.toISOString())

/** Reads the comments, their ledger entries and their events, and checks each comment. */
export async function reconcileComments(db: Queryable, ids: readonly string[], openings?: PayloadOpenings): Promise<Map<string, CommentCheck>> {
  const out = new Map<string, CommentCheck>()
  if (ids.length === 0) return out
  const sql = asSql(db)
  const comments = await sql.query<CommentRow>(
    `SELECT id::text AS id, platform, account, external_id, post_id, parent_external_id, author_id, author_name, author_email, by_city, status,
            moderation_status, current_text, version_count, first_platform_at, last_platform_at, disposed_at
       FROM comment WHERE id = ANY($1::uuid[])`,
    [ids],
  )
  const found = comments.map((c) => c.id)
  const entries = await sql.query<EntryRow>(
    `SELECT e.id::text AS id, e.kind, e.subject, e.recorded_at, e.seq::text AS seq, e.payload,
            e.format, e.payload_sha256, e.payload_commitment, e.payload_salt
       FROM ledger_entry e WHERE e.subject = ANY($1::text[]) AND e.kind = ANY($2::text[])
      ORDER BY e.recorded_at, e.seq`,
    [found, [...COMMENT_ENTRY_KINDS, DECISION_KIND]],
  )
  const events = await sql.query<EventRow>(
    `SELECT e.id::text AS id, e.comment_id::text AS comment_id, e.kind, e.platform_time, e.text, e.event_key, e.ledger_entry_id::text AS ledger_entry_id
       FROM comment_event e WHERE e.comment_id = ANY($1::uuid[]) ORDER BY e.platform_time, e.received_at, e.id`,
    [found],
  )
  const entriesOf = groupBy(entries, (e) => e.subject)
  const eventsOf = groupBy(events, (e) => e.comment_id)
  const secret = await new EventKeySecret().get(sql)
  for (const c of comments) out.set(c.id, checkComment(c, entriesOf.get(c.id) ?? [], eventsOf.get(c.id) ?? [], secret, openings))
  return out
}

/**
 * One comment against its entries (in ledger order): each entry has its event with the same kind,
 * text, time and key; no event lacks an entry; and the comment row holds what the entries give
 * (the rules of refreshComments in src/webhooks/ingest.ts and of the decisions).
 */
/**
 * What reconciliation opened of a format 2 entry, by entry id: its stored payload text, that text
 * parsed, and its field keys (openPayload), for a production to disclose the same payload without
 * deriving them again.
 */
export type PayloadOpenings = Map<string, { payload: string; parsed: unknown; keys: ReadonlyMap<string, Buffer> }>

export function checkComment(c: CommentRow, entries: readonly EntryRow[], events: readonly EventRow[], eventKeySecret: Buffer, openings?: PayloadOpenings): CommentCheck {
  const divergences: ProjectionDivergence[] = []
  const verifiedEventIds = new Set<string>()
  const ledgerText = new Map<string, string | null>()
  let ledgerCurrentText: string | null | undefined
  const diverge = (field: ReconcileField, projection: unknown, ledger: unknown, ids: { eventId?: string | null; ledgerEntryId?: string | null } = {}) => {
    const d: ProjectionDivergence = { commentId: c.id, field, eventId: ids.eventId ?? null, ledgerEntryId: ids.ledgerEntryId ?? null }
    if (!CONTENT_FIELDS.has(field)) {
      d.projection = show(projection)
      d.ledger = show(ledger)
    }
    divergences.push(d)
  }

  const commentEntries = entries.filter((e) => (COMMENT_ENTRY_KINDS as readonly string[]).includes(e.kind))
  const decisionEntries = entries.filter((e) => e.kind === DECISION_KIND)
  // A payload is used only when it is the one its (sealed) hash commits to; a null one was disposed.
  const usable = new Map<string, Usable>()
  const parsed = new Map<string, Record<string, unknown>>()
  let disposedPayloads = 0
  for (const e of entries) {
    if (e.payload === null) {
      disposedPayloads++
      continue
    }
    const committed = committedDigest({ format: e.format, payloadSha256: e.payload_sha256, payloadCommitment: e.payload_commitment })
    let payload: Record<string, unknown> | undefined
    let found: string | null
    if (openings && e.format === 2 && e.payload_salt) {
      payload = JSON.parse(e.payload) as Record<string, unknown>
      const opened = openPayload(payload, e.payload_salt)
      found = opened.commitment
      openings.set(e.id, { payload: e.payload, parsed: payload, keys: opened.keys })
    } else found = storedPayloadDigest({ format: e.format, payload: e.payload, payloadSalt: e.payload_salt })
    if (found !== committed) {
      diverge('ledger.payload', committed, 'a payload that does not match its hash', { ledgerEntryId: e.id })
      continue
    }
    payload ??= JSON.parse(e.payload) as Record<string, unknown>
    parsed.set(e.id, payload)
    if (e.kind !== DECISION_KIND) {
      const p = payload as CommentPayload
      usable.set(e.id, { row: e, payload: p, time: Date.parse(p.platformTime ?? '') })
    }
  }

  const disposed = c.disposed_at !== null && disposedPayloads === entries.length
  if (c.disposed_at !== null && !disposed) diverge('disposedAt', iso(c.disposed_at), 'content still in the ledger')
  if (c.disposed_at === null && disposedPayloads > 0) diverge('disposedAt', null, `${disposedPayloads} disposed payload(s)`)
  if (commentEntries.length === 0) diverge('comment', 'a comment row', 'no ledger entry about it')

  // Every entry has its event, equal to the payload; every event has its entry.
  const eventByEntry = new Map(events.map((e) => [e.ledger_entry_id, e]))
  const entryIds = new Set(commentEntries.map((e) => e.id))
  for (const entry of commentEntries) {
    const event = eventByEntry.get(entry.id)
    if (!event) {
      diverge('event', null, entry.kind, { ledgerEntryId: entry.id })
      continue
    }
    const ids = { eventId: event.id, ledgerEntryId: entry.id }
    if (disposed) {
      if (event.text !== null) diverge('event.text', 'text', null, ids)
      else if (!event.event_key.startsWith('disposed:') && (event.kind === 'created' || event.kind === 'edited')) diverge('event.eventKey', event.event_key, 'the key of a destroyed text', ids)
      else verifiedEventIds.add(event.id)
      continue
    }
    const u = usable.get(entry.id)
    if (!u) continue
    ledgerText.set(event.id, u.payload.text ?? null)
    let same = true
    const check = (field: ReconcileField, projection: unknown, ledger: unknown) => {
      if (projection === ledger) return
      same = false
      diverge(field, projection, ledger, ids)
    }
    check('event.kind', event.kind, u.payload.kind ?? null)
    check('event.text', event.text, u.payload.text ?? null)
    check('event.platformTime', iso(event.platform_time), Number.isNaN(u.time) ? null : new Date(u.time).toISOString())
    // A version's key is recomputed from the recorded text and time (payloads written before keys
    // were keyed hold the unkeyed form, so the payload's own key is not what the event keeps).
    const version = u.payload.kind === 'created' || u.payload.kind === 'edited'
    check('event.eventKey', event.event_key, version ? eventKey({ kind: u.payload.kind as 'created', text: u.payload.text ?? null, platformTime: u.payload.platformTime ?? '' }, eventKeySecret) : (u.payload.eventKey ?? null))
    if (same) verifiedEventIds.add(event.id)
  }
  for (const event of events) {
    if (!entryIds.has(event.ledger_entry_id)) diverge('event', event.kind, null, { eventId: event.id, ledgerEntryId: event.ledger_entry_id })
  }

  // The comment row: what the entries give.
  const versionEntries = commentEntries.filter((e) => e.kind === 'comment.version')
  if (c.version_count !== versionEntries.length) diverge('versionCount', c.version_count, versionEntries.length)
  if (disposed) {
    for (const [field, value] of [['currentText', c.current_text], ['authorId', c.author_id], ['authorName', c.author_name], ['authorEmail', c.author_email]] as const) {
      if (value !== null) diverge(field, value, null)
    }
  } else if (commentEntries.length > 0) {
    const all = [...usable.values()]
    const payloads = all.map((u) => u.payload)
    const oneOf = (field: ReconcileField, projection: string | null, values: ReadonlyArray<string | null | undefined>) => {
      const known = [...new Set(values.filter((v): v is string => typeof v === 'string'))]
      const ok = known.length === 0 ? projection === null : projection !== null && known.includes(projection)
      if (!ok) diverge(field, projection, known.length === 0 ? null : known.join(' | '))
    }
    oneOf('platform', c.platform, payloads.map((p) => p.platform))
    oneOf('externalId', c.external_id, payloads.map((p) => p.externalId))
    oneOf('account', c.account, payloads.map((p) => p.account))
    oneOf('postId', c.post_id, payloads.map((p) => p.postId))
    oneOf('parentExternalId', c.parent_external_id, payloads.map((p) => p.parentExternalId))
    oneOf('authorId', c.author_id, payloads.map((p) => p.author?.id))
    oneOf('authorName', c.author_name, payloads.map((p) => p.author?.name))
    oneOf('authorEmail', c.author_email, payloads.map((p) => p.author?.email))
    const byCity = payloads.some((p) => p.byCityAccount === true)
    if (c.by_city !== byCity) diverge('byCity', c.by_city, byCity)

    // The latest version by platform time, then by arrival, is current (refreshComments). Versions
    // that tie on both are ordered by their event ids there: any of them is consistent.
    const versions = all.filter((u) => u.row.kind === 'comment.version')
    const current = latest(versions).map((u) => u.payload.text ?? null)
    ledgerCurrentText = versions.length > 0 ? (current.includes(c.current_text) ? c.current_text : current[0]) : null
    if (versions.length > 0 ? !current.includes(c.current_text) : c.current_text !== null) diverge('currentText', c.current_text, null)

    const visibility = latest(all.filter((u) => u.row.kind === 'comment.platform_hidden' || u.row.kind === 'comment.platform_unhidden'))
    const statuses = commentEntries.some((e) => e.kind === 'comment.author_deleted')
      ? ['deleted_by_author']
      : visibility.length > 0
        ? [...new Set(visibility.map((u) => (u.row.kind === 'comment.platform_hidden' ? 'hidden_on_platform' : 'active')))]
        : ['active']
    if (!statuses.includes(c.status)) diverge('status', c.status, statuses.join(' | '))

    const times = all.map((u) => u.time).filter((t) => !Number.isNaN(t))
    if (times.length > 0) {
      const first = Math.min(...times)
      const last = Math.max(...times)
      if (c.first_platform_at.getTime() !== first) diverge('firstPlatformAt', iso(c.first_platform_at), new Date(first).toISOString())
      if (c.last_platform_at.getTime() !== last) diverge('lastPlatformAt', iso(c.last_platform_at), new Date(last).toISOString())
    }

    // The last decision sets the moderation status; without one, the city's own comment is `city`
    // and anyone else's is what the policy left (not a ledger fact: any of its statuses).
    const decisions = decisionEntries.filter((e) => parsed.has(e.id))
    const lastDecision = decisions.at(-1)
    const action = lastDecision ? String(parsed.get(lastDecision.id)!.action) : null
    const moderation = action !== null ? [STATUS_AFTER[action] ?? action] : byCity ? ['city'] : POLICY_STATUSES
    if (!moderation.includes(c.moderation_status)) diverge('moderationStatus', c.moderation_status, moderation.join(' | '), lastDecision ? { ledgerEntryId: lastDecision.id } : {})
  }
  return { commentId: c.id, divergences, verifiedEventIds, disposed, events: events.length, entries: entries.length, ledgerText, ledgerCurrentText }
}

/** How a read shows its check: the record's `ledger` object (LedgerCheck in src/comments/schemas.ts). */
export function ledgerCheckView(check: CommentCheck) {
  const divergentFields = [...new Set(check.divergences.map((d) => d.field))]
  return {
    verified: check.divergences.length === 0,
    disposed: check.disposed,
    divergentFields,
    ...(divergentFields.includes('currentText') && check.ledgerCurrentText !== undefined ? { text: check.ledgerCurrentText } : {}),
  }
}

/** How a read shows an event's check: `verified`, and the ledger's text when it is not. */
export function eventCheckView(check: CommentCheck, eventId: string) {
  const verified = check.verifiedEventIds.has(eventId)
  return { verified, ...(!verified && check.ledgerText.has(eventId) ? { ledgerText: check.ledgerText.get(eventId)! } : {}) }
}

/** The entries that sort last by platform time, then by arrival (recordedAt is the event's receivedAt). */
function latest(items: readonly Usable[]): Usable[] {
  let best: Usable[] = []
  for (const u of items) {
    const b = best[0]
    const cmp = !b ? 1 : u.time - b.time || u.row.recorded_at.getTime() - b.row.recorded_at.getTime()
    if (cmp > 0) best = [u]
    else if (cmp === 0) best.push(u)
  }
  return best
}

const show = (value: unknown): string | null => (value === null || value === undefined ? null : String(value))

/** Items by key, in their order (Map.groupBy, which the ES2023 lib we compile against does not declare). */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>()
  for (const item of items) {
    const list = out.get(key(item))
    if (list) list.push(item)
    else out.set(key(item), [item])
  }
  return out
}

export interface ReconciliationReport {
  id: string
  ok: boolean
  startedAt: string
  finishedAt: string
  commentsChecked: number
  eventsChecked: number
  entriesChecked: number
  /** Comments whose content a disposal destroyed: checked on what the envelopes keep, not counted as divergent. */
  disposedComments: number
  divergentComments: number
  divergenceCount: number
  /** The first `maxListed` divergences, in comment id order. */
  divergences: ProjectionDivergence[]
}

export interface ReconcileOptions {
  /** Comments read and checked per snapshot (keyset batches; memory is bounded by a batch). */
  batchSize?: number
  /** Divergences listed in the report (all are counted). */
  maxListed?: number
}

/**
 * Checks every comment against the ledger, `batchSize` comments at a time in id order. Each batch
 * is read in one REPEATABLE READ snapshot, so a comment written meanwhile is seen with its entries
 * or not at all (projections and entries are written in one transaction). Ledger entries about a
 * comment that has no row are reported too (field `comment`).
 */
export async function reconcileAll(pool: pg.Pool, clock: Clock, options: ReconcileOptions = {}): Promise<ReconciliationReport> {
  const batchSize = options.batchSize ?? 1000
  const maxListed = options.maxListed ?? 1000
  const startedAt = clock()
  const report = { commentsChecked: 0, eventsChecked: 0, entriesChecked: 0, disposedComments: 0, divergentComments: 0, divergenceCount: 0 }
  const divergences: ProjectionDivergence[] = []
  const add = (found: readonly ProjectionDivergence[]) => {
    report.divergenceCount += found.length
    for (const d of found) if (divergences.length < maxListed) divergences.push(d)
  }
  let after = '00000000-0000-0000-0000-000000000000'
  for (;;) {
    const checks = await inPgTransaction(
      pool,
      async (sql) => {
        // Ordered by the uuid column itself (its index), not by the text the row is returned as.
        const ids = await sql.query<{ id: string }>(`SELECT c.id::text AS id FROM comment c WHERE c.id > $1::uuid ORDER BY c.id LIMIT $2`, [after, batchSize])
        return { ids: ids.map((r) => r.id), checked: await reconcileComments(sql, ids.map((r) => r.id)) }
      },
      { isolation: 'REPEATABLE READ', statementTimeoutMs: 120_000 },
    )
    if (checks.ids.length === 0) break
    for (const id of checks.ids) {
      const check = checks.checked.get(id)
      if (!check) continue
      report.commentsChecked++
      report.eventsChecked += check.events
      report.entriesChecked += check.entries
      if (check.disposed) report.disposedComments++
      if (check.divergences.length > 0) report.divergentComments++
      add(check.divergences)
    }
    after = checks.ids.at(-1)!
    if (checks.ids.length < batchSize) break
  }
  // Entries about comments with no row (a row deleted, or never written).
  const { rows: orphans } = await pool.query<{ subject: string; first: string }>(
    `SELECT e.subject, (array_agg(e.id::text ORDER BY e.seq))[1] AS first
       FROM ledger_entry e
      WHERE e.kind = ANY($1::text[]) AND NOT EXISTS (SELECT 1 FROM comment c WHERE c.id::text = e.subject)
      GROUP BY e.subject ORDER BY e.subject`,
    [[...COMMENT_ENTRY_KINDS]],
  )
  report.divergentComments += orphans.length
  add(orphans.map((o) => ({ commentId: o.subject, field: 'comment' as const, eventId: null, ledgerEntryId: o.first, projection: null, ledger: 'ledger entries about it' })))
  const finishedAt = clock()
  return { id: randomUUID(), ok: report.divergenceCount === 0, startedAt: startedAt.toISOString(), finishedAt: finishedAt.toISOString(), ...report, divergences }
}

export type ReconcileTrigger = 'schedule' | 'request' | 'command'

export interface StoredReconciliation extends ReconciliationReport {
  trigger: ReconcileTrigger
  /** `system` (the schedule, the command) or `user:<sub>`. */
  actor: string
}

interface ReconcileLogger {
  info(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

/** Divergences as they may be logged: ids and field names only. */
const loggable = (d: ProjectionDivergence) => ({ commentId: d.commentId, field: d.field, eventId: d.eventId, ledgerEntryId: d.ledgerEntryId })

/**
 * Runs a reconciliation, stores its result (table `ledger_reconciliation`, shown by
 * GET /v1/ledger/status) and logs it: at error level, with the ids and field names of the first
 * 100 divergences, when there is any; at info level otherwise.
 */
export async function runReconciliation(
  deps: { pool: pg.Pool; clock: Clock; log: ReconcileLogger },
  by: { trigger: ReconcileTrigger; actor: string },
  options: ReconcileOptions = {},
): Promise<StoredReconciliation> {
  const report = await reconcileAll(deps.pool, deps.clock, options)
  await deps.pool.query(
    `INSERT INTO ledger_reconciliation (id, started_at, finished_at, trigger, actor, ok, comments_checked, events_checked, entries_checked,
                                        disposed_comments, divergent_comments, divergence_count, divergences)
     VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb)`,
    [
      report.id,
      report.startedAt,
      report.finishedAt,
      by.trigger,
      by.actor,
      report.ok,
      report.commentsChecked,
      report.eventsChecked,
      report.entriesChecked,
      report.disposedComments,
      report.divergentComments,
      report.divergenceCount,
      JSON.stringify(report.divergences),
    ],
  )
  const summary = {
    reconciliationId: report.id,
    trigger: by.trigger,
    commentsChecked: report.commentsChecked,
    disposedComments: report.disposedComments,
    divergentComments: report.divergentComments,
    divergenceCount: report.divergenceCount,
  }
  if (report.ok) deps.log.info(summary, 'ledger reconciliation: every comment projection agrees with the ledger')
  else deps.log.error({ ...summary, divergences: report.divergences.slice(0, 100).map(loggable) }, 'ledger reconciliation: comment projections diverge from the ledger')
  return { ...report, trigger: by.trigger, actor: by.actor }
}

/** The latest stored reconciliation, or null when none has run. */
export async function latestReconciliation(db: Queryable): Promise<StoredReconciliation | null> {
  const [row] = await asSql(db).query<{
    id: string
    started_at: Date
    finished_at: Date
    trigger: ReconcileTrigger
    actor: string
    ok: boolean
    comments_checked: number
    events_checked: number
    entries_checked: number
    disposed_comments: number
    divergent_comments: number
    divergence_count: number
    divergences: ProjectionDivergence[]
  }>(
    `SELECT id::text, started_at, finished_at, trigger, actor, ok, comments_checked, events_checked, entries_checked, disposed_comments,
            divergent_comments, divergence_count, divergences
       FROM ledger_reconciliation ORDER BY seq DESC LIMIT 1`,
  )
  if (!row) return null
  return {
    id: row.id,
    ok: row.ok,
    startedAt: row.started_at.toISOString(),
    finishedAt: row.finished_at.toISOString(),
    trigger: row.trigger,
    actor: row.actor,
    commentsChecked: row.comments_checked,
    eventsChecked: row.events_checked,
    entriesChecked: row.entries_checked,
    disposedComments: row.disposed_comments,
    divergentComments: row.divergent_comments,
    divergenceCount: row.divergence_count,
    divergences: row.divergences,
  }
}
