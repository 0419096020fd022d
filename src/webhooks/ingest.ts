import { createHash, randomUUID } from 'node:crypto'
import { Prisma } from '../generated/prisma/client.js'
import type { Tx } from '../db/tx.js'
import { appendEntries, type Clock, type NewEntry } from '../ledger/append.js'
import { canonicalJson, sha256Hex } from '../ledger/canonical-json.js'
import type { LedgerKind } from '../ledger/entry.js'
import { applyPolicy, type NewCommentEvent } from '../moderation/automatic.js'
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

/**
 * Identifies one change of a comment, so the same change arriving twice (a retry, or inside two
 * deliveries) is stored once. A version is its text at its time; an edit back to an earlier text
 * at a later time is a new version.
 */
export function eventKey(event: Pick<CommentEvent, 'kind' | 'text' | 'platformTime'>): string {
  if (event.kind === 'created' || event.kind === 'edited') {
    return 'v:' + sha256Hex(canonicalJson({ text: event.text ?? '', platformTime: event.platformTime }))
  }
  return `${event.kind}@${event.platformTime}`
}

async function insertDelivery(
  tx: Tx,
  delivery: ReceivedDelivery,
  receivedAt: Date,
  outcome: 'accepted' | 'malformed',
  details: { eventCount: number; skipped: unknown; problems?: readonly DeliveryIssue[] },
): Promise<{ id: string; duplicate: boolean }> {
  const id = randomUUID()
  const digest = createHash('sha256').update(delivery.body).digest('hex')
  const inserted = await tx.$queryRaw<Array<{ id: string }>>`
    INSERT INTO webhook_delivery (id, source, received_at, body, body_sha256, headers, signature_variant, outcome, problems, event_count, skipped)
    VALUES (${id}::uuid, ${delivery.source}, ${receivedAt}, ${delivery.body}, ${digest}, ${JSON.stringify(delivery.headers)}::jsonb,
            ${delivery.signatureVariant}, ${outcome}, ${details.problems ? JSON.stringify(details.problems) : null}::jsonb,
            ${details.eventCount}, ${JSON.stringify(details.skipped)}::jsonb)
    ON CONFLICT (source, body_sha256) DO NOTHING
    RETURNING id::text`
  if (inserted[0]) return { id: inserted[0].id, duplicate: false }
  const existing = await tx.$queryRaw<Array<{ id: string }>>`
    SELECT id::text FROM webhook_delivery WHERE source = ${delivery.source} AND body_sha256 = ${digest}`
  return { id: existing[0]!.id, duplicate: true }
}

/** Keeps a delivery whose signature verified but whose body is not the platform's shape, for the TST to inspect. */
export async function recordMalformedDelivery(tx: Tx, delivery: ReceivedDelivery, problems: readonly DeliveryIssue[], clock: Clock): Promise<string> {
  const { id } = await insertDelivery(tx, delivery, clock(), 'malformed', { eventCount: 0, skipped: [], problems })
  return id
}

/**
 * Stores one verified delivery in the caller's transaction: the raw bytes, every comment event not
 * seen before (appended to the ledger), and the comments' current state. A redelivery stores
 * nothing new. The caller acknowledges only after the transaction commits.
 */
export async function ingestDelivery(
  tx: Tx,
  delivery: ReceivedDelivery,
  normalized: NormalizeResult,
  deps: { clock: Clock; resolver: PolicyResolver; maxAttempts: number },
): Promise<IngestResult> {
  const receivedAt = deps.clock()
  const stored = await insertDelivery(tx, delivery, receivedAt, 'accepted', {
    eventCount: normalized.events.length,
    skipped: normalized.skipped,
  })
  const base = { deliveryId: stored.id, skipped: normalized.skipped.length, newEvents: [] }
  if (stored.duplicate) return { ...base, duplicateDelivery: true, accepted: 0, duplicates: normalized.events.length }
  if (normalized.events.length === 0) return { ...base, duplicateDelivery: false, accepted: 0, duplicates: 0 }

  // One row per comment, locked in a fixed order so concurrent deliveries cannot deadlock.
  const byComment = new Map<string, CommentEvent>()
  for (const event of normalized.events) {
    const key = `${event.platform}\u0000${event.externalId}`
    const known = byComment.get(key)
    // Identity fields (post, parent, author) from whichever event carries them.
    byComment.set(key, known ? mergeIdentity(known, event) : event)
  }
  const comments = [...byComment.values()].sort((a, b) => (a.platform + a.externalId < b.platform + b.externalId ? -1 : 1))
  const commentRows = await tx.$queryRaw<Array<{ id: string; platform: string; external_id: string }>>`
    INSERT INTO comment (id, platform, account, external_id, post_id, parent_external_id, author_id, author_name, author_email,
                         by_city, status, version_count, first_platform_at, last_platform_at)
    SELECT gen_random_uuid(), c.platform, c.account, c.external_id, c.post_id, c.parent_external_id, c.author_id, c.author_name,
           c.author_email, c.by_city, 'active', 0, c.platform_time, c.platform_time
      FROM unnest(${comments.map((c) => c.platform)}::text[], ${comments.map((c) => c.account)}::text[],
                  ${comments.map((c) => c.externalId)}::text[], ${comments.map((c) => c.postId)}::text[],
                  ${comments.map((c) => c.parentId)}::text[], ${comments.map((c) => c.author.id)}::text[],
                  ${comments.map((c) => c.author.name)}::text[], ${comments.map((c) => c.author.email ?? null)}::text[],
                  ${comments.map((c) => c.byCityAccount)}::boolean[], ${comments.map((c) => new Date(c.platformTime))}::timestamptz[])
           WITH ORDINALITY AS c(platform, account, external_id, post_id, parent_external_id, author_id, author_name, author_email, by_city, platform_time, ord)
     ORDER BY c.ord
    ON CONFLICT (platform, external_id) DO UPDATE SET
      post_id = COALESCE(comment.post_id, EXCLUDED.post_id),
      parent_external_id = COALESCE(comment.parent_external_id, EXCLUDED.parent_external_id),
      author_id = COALESCE(comment.author_id, EXCLUDED.author_id),
      author_name = COALESCE(comment.author_name, EXCLUDED.author_name),
      author_email = COALESCE(comment.author_email, EXCLUDED.author_email),
      by_city = comment.by_city OR EXCLUDED.by_city
    RETURNING id::text, platform, external_id`
  const commentIds = new Map(commentRows.map((r) => [`${r.platform}\u0000${r.external_id}`, r.id]))

  const candidates = normalized.events.map((event) => ({
    event,
    commentId: commentIds.get(`${event.platform}\u0000${event.externalId}`)!,
    eventId: randomUUID(),
    ledgerEntryId: randomUUID(),
    key: eventKey(event),
  }))
  const inserted = await tx.$queryRaw<Array<{ id: string }>>`
    INSERT INTO comment_event (id, comment_id, kind, platform_time, text, event_key, delivery_id, ledger_entry_id, received_at)
    SELECT e.id, e.comment_id, e.kind, e.platform_time, e.text, e.event_key, ${stored.id}::uuid, e.ledger_entry_id, ${receivedAt}
      FROM unnest(${candidates.map((c) => c.eventId)}::uuid[], ${candidates.map((c) => c.commentId)}::uuid[],
                  ${candidates.map((c) => c.event.kind)}::text[], ${candidates.map((c) => new Date(c.event.platformTime))}::timestamptz[],
                  ${candidates.map((c) => c.event.text)}::text[], ${candidates.map((c) => c.key)}::text[],
                  ${candidates.map((c) => c.ledgerEntryId)}::uuid[])
           AS e(id, comment_id, kind, platform_time, text, event_key, ledger_entry_id)
    ON CONFLICT (comment_id, event_key) DO NOTHING
    RETURNING id::text`
  const insertedIds = new Set(inserted.map((r) => r.id))
  const fresh = candidates.filter((c) => insertedIds.has(c.eventId))

  const entries: NewEntry[] = fresh.map(({ event, commentId, ledgerEntryId, key }) => ({
    id: ledgerEntryId,
    kind: LEDGER_KIND[event.kind],
    subject: commentId,
    actor: `platform:${event.platform}`,
    payload: {
      deliveryId: stored.id,
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
      eventKey: key,
    },
  }))
  await appendEntries(tx, entries, () => receivedAt)

  const touched = [...new Set(fresh.map((c) => c.commentId))]
  if (touched.length > 0) await refreshComments(tx, touched)
  const newEvents = fresh.map(({ commentId, eventId, ledgerEntryId, event }) => ({ commentId, eventId, ledgerEntryId, event }))
  await applyPolicy(tx, newEvents, deps)

  return {
    ...base,
    duplicateDelivery: false,
    accepted: fresh.length,
    duplicates: candidates.length - fresh.length,
    newEvents,
  }
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
export async function refreshComments(tx: Tx, commentIds: string[]): Promise<void> {
  const ids = Prisma.sql`${commentIds}::uuid[]`
  await tx.$executeRaw`
    UPDATE comment c SET
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
        FROM comment_event WHERE comment_id = ANY(${ids}) GROUP BY comment_id
    ) e
    WHERE c.id = e.comment_id`
  // Two statements, each driven by an index: an OR across both sides of the join scanned the
  // whole table on every delivery (found by npm run bench:ingest).
  await tx.$executeRaw`
    UPDATE comment c SET parent_id = p.id
      FROM comment p
     WHERE c.id = ANY(${ids}) AND c.parent_id IS NULL AND c.parent_external_id IS NOT NULL
       AND p.platform = c.platform AND p.external_id = c.parent_external_id`
  await tx.$executeRaw`
    UPDATE comment c SET parent_id = p.id
      FROM comment p
     WHERE p.id = ANY(${ids}) AND c.parent_id IS NULL
       AND c.platform = p.platform AND c.parent_external_id = p.external_id`
}
