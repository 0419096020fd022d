import type { NoticeChannels } from '../moderation/notice-channels.js'
import { createHash, randomUUID } from 'node:crypto'
import { asSql, type Queryable, type SqlClient } from '../db/sql.js'
import { ledgerInsertPart, type Clock, type NewEntry } from '../ledger/append.js'
import type { LedgerKind } from '../ledger/entry.js'
import { slices } from '../kernel/slices.js'
import { eventKey, type EventKeySecret } from './event-keys.js'
import { encodeFingerprint, fingerprintOf, type Fingerprint } from '../policy/repetition.js'
import { applyPolicy, evaluateVersions, evaluationsInsertPart, statusAtInsert, type NewCommentEvent, type VersionResult } from '../moderation/automatic.js'
import type { PolicyResolver } from '../policy/effective.js'
import type { CommentEvent, CommentEventKind, DeliveryIssue, NormalizeResult, WebhookSource } from './platforms/index.js'

export interface ReceivedDelivery {
  source: WebhookSource
  body: Buffer
  /** The headers kept with the raw delivery (see keptHeaders). */
  headers: Record<string, string>
  signatureVariant: string
}

export interface IngestResult {
  deliveryId: string
  /** The same bytes were delivered before: nothing new was stored. */
  duplicateDelivery: boolean
  /** Events new to Townsquare, each appended to the ledger. */
  accepted: number
  /** Events already known (redelivered inside another delivery). */
  duplicates: number
  skipped: number
  /** The events this delivery added (each evaluated against the policy when it is a version). */
  newEvents: NewCommentEvent[]
}

const LEDGER_KIND: Record<CommentEventKind, LedgerKind> = {
  created: 'comment.version',
  edited: 'comment.version',
  deleted_by_author: 'comment.author_deleted',
  hidden_on_platform: 'comment.platform_hidden',
  unhidden_on_platform: 'comment.platform_unhidden',
}

async function insertDelivery(
  sql: SqlClient,
  delivery: ReceivedDelivery,
  receivedAt: Date,
  outcome: 'accepted' | 'malformed',
  details: { eventCount: number; skipped: unknown; problems?: readonly DeliveryIssue[] },
): Promise<{ id: string; duplicate: boolean }> {
  const digest = bodyDigest(delivery)
  const inserted = await sql.query<{ id: string }>(
    `INSERT INTO webhook_delivery (id, source, received_at, body, body_sha256, headers, signature_variant, outcome, problems, event_count, skipped)
     VALUES ($1::uuid, $2, $3, $4, $5, $6::jsonb, $7, $8, $9::jsonb, $10, $11::jsonb)
     ON CONFLICT (source, body_sha256) DO NOTHING
     RETURNING id::text`,
    [
      randomUUID(),
      delivery.source,
      receivedAt,
      delivery.body,
      digest,
      JSON.stringify(delivery.headers),
      delivery.signatureVariant,
      outcome,
      details.problems ? JSON.stringify(details.problems) : null,
      details.eventCount,
      JSON.stringify(details.skipped),
    ],
  )
  if (inserted[0]) return { id: inserted[0].id, duplicate: false }
  const [id] = await existingDeliveryIds(sql, [{ source: delivery.source, digest }])
  return { id: id!, duplicate: true }
}

const bodyDigest = (delivery: ReceivedDelivery) => createHash('sha256').update(delivery.body).digest('hex')
const bodyKey = (source: string, digest: string) => `${source}\u0000${digest}`

/** The stored delivery of each body (source and digest), in the order given. */
async function existingDeliveryIds(sql: SqlClient, bodies: ReadonlyArray<{ source: WebhookSource; digest: string }>): Promise<string[]> {
  const rows = await sql.query<{ id: string; source: string; body_sha256: string }>(
    `SELECT id::text, source, body_sha256 FROM webhook_delivery
      WHERE (source, body_sha256) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
    [bodies.map((b) => b.source), bodies.map((b) => b.digest)],
  )
  const ids = new Map(rows.map((r) => [bodyKey(r.source, r.body_sha256), r.id]))
  return bodies.map((b) => ids.get(bodyKey(b.source, b.digest))!)
}

/** Keeps a delivery whose signature verified but whose body is not the platform's shape, for the TST to inspect. */
export async function recordMalformedDelivery(tx: Queryable, delivery: ReceivedDelivery, problems: readonly DeliveryIssue[], clock: Clock): Promise<string> {
  const { id } = await insertDelivery(asSql(tx), delivery, clock(), 'malformed', { eventCount: 0, skipped: [], problems })
  return id
}

/**
 * One statement stores a group of deliveries (one, or those the delivery writer gathered while
 * earlier groups were being written) with their comments, events, ledger entries and evaluations,
 * so a group costs one round trip and one plan however many deliveries it holds:
 * - the raw deliveries, once per distinct body, in body-digest order so concurrent groups cannot
 *   deadlock on them (nothing else happens for a body seen before);
 * - the events of the deliveries stored (`candidate`);
 * - one row per comment with such an event, upserted in a fixed order so concurrent groups cannot
 *   deadlock. A new comment gets the projection its single event gives (see `projectionAtInsert`),
 *   the moderation status its evaluation gives (statusAtInsert), and its parent when the parent is
 *   already stored; replies stored earlier that wait for it as their parent are linked to it (rows
 *   of this group are left to refreshComments, so no row is changed twice);
 * - every event not already stored for its comment (comment_id, event_key): the same change in two
 *   deliveries of the group is stored once, for the first;
 * - the ledger entry of each event stored (`%LEDGER%`, from ledgerInsertPart: appendEntries' SQL);
 * - the evaluation of each version stored, when there are any (`%EVALUATIONS%`, from
 *   evaluationsInsertPart).
 * The versions were evaluated with the published policy versions counted as `$10`: when this
 * statement's snapshot has another count (a version was published meanwhile), it writes nothing.
 * It returns a row per delivery stored (`d`), per comment (`c`), per new event (`e`), and that
 * count (`p`), so the caller can tell a stale evaluation (evaluate again and retry) from a delivery
 * stored before.
 */
const STORE_DELIVERIES = `
WITH published AS (
  SELECT count(*)::int AS n FROM policy_version WHERE status = 'published'
),
delivery AS (
  INSERT INTO webhook_delivery (id, source, received_at, body, body_sha256, headers, signature_variant, outcome, problems, event_count, skipped)
  SELECT d.id, d.source, $3, d.body, d.digest, d.headers, d.variant, 'accepted', NULL, d.event_count, d.skipped
    FROM unnest($1::uuid[], $2::text[], $4::bytea[], $5::text[], $6::jsonb[], $7::text[], $8::int[], $9::jsonb[])
         WITH ORDINALITY AS d(id, source, body, digest, headers, variant, event_count, skipped, ord)
   WHERE $10::int IS NULL OR $10::int = (SELECT n FROM published)
   ORDER BY d.ord
  ON CONFLICT (source, body_sha256) DO NOTHING
  RETURNING id
),
candidate AS (
  SELECT * FROM unnest($27::uuid[], $28::text[], $29::text[], $30::text[], $31::timestamptz[], $32::text[], $33::text[], $34::uuid[], $35::uuid[], $36::int[], $37::bytea[])
         WITH ORDINALITY AS e(id, platform, external_id, kind, platform_time, text, event_key, ledger_entry_id, delivery_id, comment_ord, fingerprint, ord)
   WHERE e.delivery_id IN (SELECT id FROM delivery)
),
input AS (
  SELECT * FROM unnest($11::uuid[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[], $18::text[], $19::text[],
                       $20::boolean[], $21::text[], $22::text[], $23::int[], $24::timestamptz[], $25::timestamptz[], $26::text[])
         WITH ORDINALITY AS c(id, platform, account, external_id, post_id, parent_external_id, author_id, author_name, author_email,
                              by_city, status, current_text, version_count, first_at, last_at, moderation_status, ord)
),
upserted AS (
  INSERT INTO comment (id, platform, account, external_id, post_id, parent_external_id, parent_id, author_id, author_name, author_email,
                       by_city, status, current_text, version_count, first_platform_at, last_platform_at, moderation_status)
  SELECT c.id, c.platform, c.account, c.external_id, c.post_id, c.parent_external_id,
         (SELECT p.id FROM comment p WHERE p.platform = c.platform AND p.external_id = c.parent_external_id),
         c.author_id, c.author_name, c.author_email, c.by_city, c.status, c.current_text, c.version_count, c.first_at, c.last_at,
         c.moderation_status
    FROM input c
   WHERE c.ord IN (SELECT comment_ord FROM candidate)
   ORDER BY c.ord
  ON CONFLICT (platform, external_id) DO UPDATE SET
    post_id = COALESCE(comment.post_id, EXCLUDED.post_id),
    parent_external_id = COALESCE(comment.parent_external_id, EXCLUDED.parent_external_id),
    author_id = COALESCE(comment.author_id, EXCLUDED.author_id),
    author_name = COALESCE(comment.author_name, EXCLUDED.author_name),
    author_email = COALESCE(comment.author_email, EXCLUDED.author_email),
    by_city = comment.by_city OR EXCLUDED.by_city
  RETURNING id, platform, external_id
),
events AS (
  INSERT INTO comment_event (id, comment_id, kind, platform_time, text, event_key, delivery_id, ledger_entry_id, received_at, repetition_fingerprint)
  SELECT e.id, u.id, e.kind, e.platform_time, e.text, e.event_key, e.delivery_id, e.ledger_entry_id, $3, e.fingerprint
    FROM candidate e
    JOIN upserted u ON u.platform = e.platform AND u.external_id = e.external_id
   ORDER BY e.ord
  ON CONFLICT (comment_id, event_key) DO NOTHING
  RETURNING id, comment_id, ledger_entry_id
),
ledger AS (
  -- ledgerInsertPart: the entry of each event stored above, about its comment.
  %LEDGER%
),%EVALUATIONS%
linked AS (
  UPDATE comment c SET parent_id = u.id
    FROM upserted u JOIN input n ON n.id = u.id
   WHERE c.parent_id IS NULL AND c.platform = u.platform AND c.parent_external_id = u.external_id
     AND NOT EXISTS (SELECT 1 FROM input x WHERE x.platform = c.platform AND x.external_id = c.external_id)
)
SELECT 'd' AS row, d.id::text AS id, NULL AS platform, NULL AS external_id FROM delivery d
UNION ALL
SELECT 'c', u.id::text, u.platform, u.external_id FROM upserted u
UNION ALL
SELECT 'e', e.id::text, NULL, NULL FROM events e
UNION ALL
SELECT 'p', n::text, NULL, NULL FROM published`

/** The parameters before the ledger's (`$38` on). */
const STORE_DELIVERIES_PARAMS = 37

/** A verified, normalized delivery waiting to be stored. */
export interface DeliveryToStore {
  delivery: ReceivedDelivery
  normalized: NormalizeResult
}

interface Slot extends DeliveryToStore {
  id: string
  digest: string
}

interface Candidate {
  event: CommentEvent
  slot: Slot
  eventId: string
  ledgerEntryId: string
  key: string
}

interface CommentInput {
  id: string
  key: string
  /** Its position in the statement's comment arrays (1-based, as WITH ORDINALITY counts). */
  ord: number
  /** Identity fields merged from the group's events for this comment. */
  identity: CommentEvent
  candidates: Candidate[]
}

const commentKey = (e: Pick<CommentEvent, 'platform' | 'externalId'>) => `${e.platform}\u0000${e.externalId}`

/**
 * What refreshComments would compute for a new comment whose only event is `event`, so it is
 * inserted complete instead of inserted and updated again. With several events it is left to
 * refreshComments (the insert then holds placeholders, as it always did).
 */
function projectionAtInsert(c: CommentInput) {
  const event = c.candidates.length === 1 ? c.candidates[0]!.event : null
  if (!event) return { status: 'active', currentText: null, versionCount: 0, firstAt: c.identity.platformTime, lastAt: c.identity.platformTime }
  const version = event.kind === 'created' || event.kind === 'edited'
  const status = event.kind === 'deleted_by_author' ? 'deleted_by_author' : event.kind === 'hidden_on_platform' ? 'hidden_on_platform' : 'active'
  return { status, currentText: version ? event.text : null, versionCount: version ? 1 : 0, firstAt: event.platformTime, lastAt: event.platformTime }
}

type IngestDeps = { clock: Clock; resolver: PolicyResolver; maxAttempts: number; eventKeys: EventKeySecret; noticeChannels?: NoticeChannels }

/**
 * Stores one verified delivery in the caller's transaction: the raw bytes, every comment event not
 * seen before (appended to the ledger), and the comments' current state. A redelivery stores
 * nothing new. The caller acknowledges only after the transaction commits.
 */
export async function ingestDelivery(tx: Queryable, delivery: ReceivedDelivery, normalized: NormalizeResult, deps: IngestDeps): Promise<IngestResult> {
  const [result] = await ingestDeliveries(tx, [{ delivery, normalized }], deps)
  return result!
}

/**
 * Stores several deliveries in the caller's transaction as ingestDelivery stores one (and with the
 * same result for each, in the order given), in one statement for all of them: the delivery
 * writer's group commit. The same body twice is stored once; the same change in two deliveries is
 * one event, counted as accepted by the first and as a duplicate by the others.
 */
export async function ingestDeliveries(tx: Queryable, items: readonly DeliveryToStore[], deps: IngestDeps): Promise<IngestResult[]> {
  if (items.length === 0) return []
  const sql = asSql(tx)
  const receivedAt = deps.clock()
  const secret = await deps.eventKeys.get(sql)

  // One row per distinct body; a second copy in the group is the first's duplicate.
  const slots: Slot[] = items.map((item) => ({ ...item, id: randomUUID(), digest: bodyDigest(item.delivery) }))
  const firstWithBody = new Map<string, Slot>()
  const copyOf = new Map<Slot, Slot>()
  for (const slot of slots) {
    const body = bodyKey(slot.delivery.source, slot.digest)
    const first = firstWithBody.get(body)
    if (first) copyOf.set(slot, first)
    else firstWithBody.set(body, slot)
  }
  // Delivery rows are locked in digest order, the same in every group.
  const distinct = [...firstWithBody.values()].sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0))

  // In arrival order: of the same change in two deliveries, the first delivery's is stored.
  const candidates: Candidate[] = slots.filter((slot) => !copyOf.has(slot)).flatMap((slot) =>
    slot.normalized.events.map((event) => ({ event, slot, eventId: randomUUID(), ledgerEntryId: randomUUID(), key: eventKey(event, secret) })),
  )
  const byComment = new Map<string, CommentInput>()
  for (const candidate of candidates) {
    const key = commentKey(candidate.event)
    const known = byComment.get(key)
    // Identity fields (post, parent, author) from whichever event carries them.
    if (known) {
      known.identity = mergeIdentity(known.identity, candidate.event)
      known.candidates.push(candidate)
    } else {
      byComment.set(key, { id: randomUUID(), key, ord: 0, identity: candidate.event, candidates: [candidate] })
    }
  }
  // Rows are locked in this order, the same in every group.
  const comments = [...byComment.values()].sort((a, b) => (a.identity.platform + a.identity.externalId < b.identity.platform + b.identity.externalId ? -1 : 1))
  comments.forEach((c, i) => (c.ord = i + 1))
  const commentOf = (candidate: Candidate) => byComment.get(commentKey(candidate.event))!
  const projections = comments.map(projectionAtInsert)

  // Every candidate's entry; the statement keeps those whose event it stored, about the comment row
  // it found or created (the subject given here is replaced by that row's id).
  const entries: NewEntry[] = candidates.map((candidate) => {
    const { event } = candidate
    return {
      id: candidate.ledgerEntryId,
      kind: LEDGER_KIND[event.kind],
      subject: commentOf(candidate).id,
      actor: `platform:${event.platform}`,
      payload: {
        deliveryId: candidate.slot.id,
        platform: event.platform,
        account: event.account,
        externalId: event.externalId,
        postId: event.postId,
        parentExternalId: event.parentId,
        author: event.author,
        kind: event.kind,
        text: event.text,
        platformTime: event.platformTime,
        byCityAccount: event.byCityAccount,
        eventKey: candidate.key,
      },
    }
  })
  const ledger = await ledgerInsertPart(entries, {
    firstParam: STORE_DELIVERIES_PARAMS + 1,
    onlyWith: { relation: 'events', entryIdColumn: 'ledger_entry_id', subjectColumn: 'comment_id' },
  })

  // The policy is applied before the group is stored (evaluateVersions), so the statement below
  // writes the evaluations and the new comments' moderation status with the rows themselves. It
  // writes nothing when a policy version was published since the evaluation: evaluated again then.
  const versionCandidates = candidates.filter((c) => c.event.kind === 'created' || c.event.kind === 'edited')
  // Each version's repetition fingerprint (src/policy/repetition.ts), computed once from its own
  // text: stored with it, and what repetition rules compare instead of the texts.
  const fingerprints = new Map<(typeof versionCandidates)[number], Fingerprint>()
  const next = slices()
  for (const c of versionCandidates) {
    fingerprints.set(c, fingerprintOf(c.event.text ?? ''))
    await next()
  }
  const toEvaluate = versionCandidates.map((c) => ({ event: c.event, key: c.key, authorId: commentOf(c).identity.author.id, fingerprint: fingerprints.get(c)! }))
  let publishedCount: number | undefined
  let results = new Map<string, VersionResult | null>()
  let rows: Array<{ row: 'd' | 'c' | 'e' | 'p'; id: string; platform: string | null; external_id: string | null }> = []
  for (let attempt = 1; ; attempt++) {
    const evaluation = versionCandidates.length === 0 ? null : await evaluateVersions(sql, toEvaluate, { ...deps, ...(publishedCount === undefined ? {} : { publishedCount }) })
    results = new Map(versionCandidates.map((c, i) => [c.eventId, evaluation?.results[i] ?? null]))
    const moderationStatuses = comments.map((c) =>
      statusAtInsert(c.candidates.filter((x) => results.has(x.eventId)).map((x) => ({ event: x.event, result: results.get(x.eventId)! }))),
    )
    const evaluated = versionCandidates.flatMap((c) => {
      const result = results.get(c.eventId)
      return result?.version && result.evaluation ? [{ eventId: c.eventId, result }] : []
    })
    const evaluations =
      evaluated.length > 0 ? evaluationsInsertPart(evaluated, deps.clock(), { firstParam: STORE_DELIVERIES_PARAMS + 1 + ledger.values.length, relation: 'events' }) : null
    const statement = STORE_DELIVERIES.replace('%LEDGER%', ledger.text).replace('%EVALUATIONS%', evaluations ? `\nevaluated AS (\n  ${evaluations.text}\n),` : '')
    rows = await sql.query<(typeof rows)[number]>(statement, [
      distinct.map((s) => s.id),
      distinct.map((s) => s.delivery.source),
      receivedAt,
      distinct.map((s) => s.delivery.body),
      distinct.map((s) => s.digest),
      distinct.map((s) => JSON.stringify(s.delivery.headers)),
      distinct.map((s) => s.delivery.signatureVariant),
      distinct.map((s) => s.normalized.events.length),
      distinct.map((s) => JSON.stringify(s.normalized.skipped)),
      evaluation?.publishedCount ?? null,
      comments.map((c) => c.id),
      comments.map((c) => c.identity.platform),
      comments.map((c) => c.identity.account),
      comments.map((c) => c.identity.externalId),
      comments.map((c) => c.identity.postId),
      comments.map((c) => c.identity.parentId),
      comments.map((c) => c.identity.author.id),
      comments.map((c) => c.identity.author.name),
      comments.map((c) => c.identity.author.email ?? null),
      comments.map((c) => c.identity.byCityAccount),
      projections.map((p) => p.status),
      projections.map((p) => p.currentText),
      projections.map((p) => p.versionCount),
      projections.map((p) => new Date(p.firstAt)),
      projections.map((p) => new Date(p.lastAt)),
      moderationStatuses,
      candidates.map((c) => c.eventId),
      candidates.map((c) => c.event.platform),
      candidates.map((c) => c.event.externalId),
      candidates.map((c) => c.event.kind),
      candidates.map((c) => new Date(c.event.platformTime)),
      candidates.map((c) => c.event.text),
      candidates.map((c) => c.key),
      candidates.map((c) => c.ledgerEntryId),
      candidates.map((c) => c.slot.id),
      candidates.map((c) => commentOf(c).ord),
      candidates.map((c) => {
        const f = fingerprints.get(c)
        return f ? encodeFingerprint(f) : null
      }),
      ...ledger.values,
      ...(evaluations?.values ?? []),
    ])
    const seen = Number(rows.find((r) => r.row === 'p')!.id)
    if (evaluation === null || evaluation.publishedCount === null || seen === evaluation.publishedCount) break
    // Nothing was written: a policy version was published since the evaluation.
    if (attempt >= 5) throw new Error('ingestDeliveries: the published policy versions kept changing during the delivery')
    publishedCount = seen
  }

  const stored = new Set(rows.filter((r) => r.row === 'd').map((r) => r.id))
  const commentIds = new Map(rows.filter((r) => r.row === 'c').map((r) => [`${r.platform}\u0000${r.external_id}`, r.id]))
  const freshIds = new Set(rows.filter((r) => r.row === 'e').map((r) => r.id))
  const fresh = candidates.filter((c) => freshIds.has(c.eventId)).map((c) => ({ ...c, commentId: commentIds.get(commentKey(c.event))! }))
  const newEventsOf = new Map<Slot, NewCommentEvent[]>()
  for (const { slot, commentId, eventId, ledgerEntryId, event } of fresh) {
    const list = newEventsOf.get(slot) ?? []
    if (list.length === 0) newEventsOf.set(slot, list)
    list.push({ commentId, eventId, ledgerEntryId, event })
  }

  // Comments created by this statement already hold their projection and links, except those with
  // several events here or whose parent arrived in the same group; comments that existed before
  // are refreshed when they got a new event.
  const created = new Set(comments.filter((c) => commentIds.get(c.key) === c.id).map((c) => c.id))
  const needsRefresh = (c: CommentInput) =>
    c.candidates.length > 1 || (c.identity.parentId !== null && byComment.has(commentKey({ platform: c.identity.platform, externalId: c.identity.parentId })))
  const refresh = new Set([...fresh.map((c) => c.commentId).filter((id) => !created.has(id)), ...comments.filter((c) => created.has(c.id) && needsRefresh(c)).map((c) => c.id)])
  if (refresh.size > 0) await refreshComments(sql, [...refresh])

  await applyPolicy(sql, [...newEventsOf.values()].flat(), results, created, deps)

  // Bodies stored before (by another group, or long ago): their existing delivery's id.
  const before = distinct.filter((s) => !stored.has(s.id))
  const ids = before.length === 0 ? [] : await existingDeliveryIds(sql, before.map((s) => ({ source: s.delivery.source, digest: s.digest })))
  const existing = new Map(before.map((s, i) => [s, ids[i]!]))
  return slots.map((slot) => {
    const first = copyOf.get(slot) ?? slot
    const skipped = slot.normalized.skipped.length
    if (first !== slot || !stored.has(slot.id)) {
      // The same bytes were stored before (or earlier in this group): nothing else was written.
      const deliveryId = stored.has(first.id) ? first.id : existing.get(first)!
      return { deliveryId, duplicateDelivery: true, accepted: 0, duplicates: slot.normalized.events.length, skipped, newEvents: [] }
    }
    const mine = newEventsOf.get(slot) ?? []
    return { deliveryId: slot.id, duplicateDelivery: false, accepted: mine.length, duplicates: slot.normalized.events.length - mine.length, skipped, newEvents: mine }
  })
}

function mergeIdentity(a: CommentEvent, b: CommentEvent): CommentEvent {
  return {
    ...a,
    postId: a.postId ?? b.postId,
    parentId: a.parentId ?? b.parentId,
    author: { id: a.author.id ?? b.author.id, name: a.author.name ?? b.author.name, email: a.author.email ?? b.author.email ?? null },
    byCityAccount: a.byCityAccount || b.byCityAccount,
    platformTime: a.platformTime < b.platformTime ? a.platformTime : b.platformTime,
  }
}

/**
 * Recomputes the current state of comments from their events alone, so the projection can always
 * be rebuilt: the latest version by platform time is current; a deletion by the author is final;
 * otherwise the latest hide or unhide decides. Thread links are resolved in both directions.
 */
export async function refreshComments(tx: Queryable, commentIds: string[]): Promise<void> {
  const sql = asSql(tx)
  await sql.query(
    `UPDATE comment c SET
       current_text = e.current_text,
       version_count = e.versions,
       status = CASE WHEN e.deleted THEN 'deleted_by_author'
                     WHEN e.last_visibility = 'hidden_on_platform' THEN 'hidden_on_platform'
                     ELSE 'active' END,
       first_platform_at = e.first_at,
       last_platform_at = e.last_at,
       updated_at = now()
     FROM (
       SELECT comment_id,
              count(*) FILTER (WHERE kind IN ('created', 'edited'))::int AS versions,
              (array_agg(text ORDER BY platform_time DESC, received_at DESC, id) FILTER (WHERE kind IN ('created', 'edited')))[1] AS current_text,
              bool_or(kind = 'deleted_by_author') AS deleted,
              (array_agg(kind ORDER BY platform_time DESC, received_at DESC, id) FILTER (WHERE kind IN ('hidden_on_platform', 'unhidden_on_platform')))[1] AS last_visibility,
              min(platform_time) AS first_at,
              max(platform_time) AS last_at
         FROM comment_event WHERE comment_id = ANY($1::uuid[]) GROUP BY comment_id
     ) e
     WHERE c.id = e.comment_id`,
    [commentIds],
  )
  // Two statements, each driven by an index: an OR across both sides of the join scanned the
  // whole table on every delivery (found by npm run bench:ingest).
  await sql.query(
    `UPDATE comment c SET parent_id = p.id
       FROM comment p
      WHERE c.id = ANY($1::uuid[]) AND c.parent_id IS NULL AND c.parent_external_id IS NOT NULL
        AND p.platform = c.platform AND p.external_id = c.parent_external_id`,
    [commentIds],
  )
  await sql.query(
    `UPDATE comment c SET parent_id = p.id
       FROM comment p
      WHERE p.id = ANY($1::uuid[]) AND c.parent_id IS NULL
        AND c.platform = p.platform AND c.parent_external_id = p.external_id`,
    [commentIds],
  )
}
