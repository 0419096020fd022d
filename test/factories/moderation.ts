// Rows the moderation read models read (comments, versions, evaluations, decisions, appeals),
// inserted directly. Ledger entries are not written: these read models never follow them, so the
// ledger ids are fresh uuids.
import { createHash, randomUUID } from 'node:crypto'
import type { PrismaClient } from '../../src/generated/prisma/client.js'
import type { RuleAction, RuleCategory } from '../../src/policy/rules.js'

let n = 0
const next = () => ++n

export interface RuleSpec {
  code: string
  title: string
  category: RuleCategory
  action: RuleAction
}

/** A published policy version with the rules given (terms matchers: the read models ignore them). */
export async function publishedVersion(
  prisma: PrismaClient,
  options: { policyName?: string; version: number; effectiveFrom: Date; rules: RuleSpec[] },
): Promise<{ id: string; policyId: string }> {
  const name = options.policyName ?? 'City Social Media Comment Policy'
  const policy =
    (await prisma.policy.findUnique({ where: { name } })) ??
    (await prisma.policy.create({ data: { id: randomUUID(), name, description: 'test policy', createdBy: 'user:test' } }))
  const id = randomUUID()
  await prisma.policyVersion.create({
    data: {
      id,
      policyId: policy.id,
      version: options.version,
      status: 'published',
      content: {
        rules: options.rules.map((r) => ({
          ...r,
          sectionText: `Section ${r.code}: ${r.title}.`,
          noticeTemplate: 'Your comment was removed under {ruleCode} ({ruleTitle}). Appeal at {appealUrl}.',
          matcher: { type: 'terms', terms: [`term-${r.code}`] },
        })),
        policyUrl: 'https://www.citykankakee-il.gov/comment-policy',
        appealUrl: 'https://www.citykankakee-il.gov/comment-appeals',
      },
      effectiveFrom: options.effectiveFrom,
      publishedAt: options.effectiveFrom,
      publishedBy: 'user:test-admin',
      ledgerEntryId: randomUUID(),
      createdBy: 'user:test-admin',
      updatedBy: 'user:test-admin',
    },
  })
  return { id, policyId: policy.id }
}

export interface CommentSpec {
  platform: 'facebook' | 'instagram' | 'x' | 'linkedin' | 'website'
  text: string
  at: Date
  externalId?: string
  authorId?: string
  authorName?: string
  authorEmail?: string
}

async function delivery(prisma: PrismaClient, source: string, at: Date): Promise<string> {
  const id = randomUUID()
  const body = Buffer.from(`delivery ${id}`)
  await prisma.webhookDelivery.create({
    data: {
      id,
      source,
      receivedAt: at,
      body,
      bodySha256: createHash('sha256').update(body).digest('hex'),
      headers: {},
      signatureVariant: 'test',
      outcome: 'accepted',
      eventCount: 1,
      skipped: [],
    },
  })
  return id
}

/** A comment with its first version (a `created` event). */
export async function comment(prisma: PrismaClient, spec: CommentSpec): Promise<{ id: string; eventId: string }> {
  const i = next()
  const id = randomUUID()
  await prisma.comment.create({
    data: {
      id,
      platform: spec.platform,
      account: 'city-of-kankakee',
      externalId: spec.externalId ?? `ext-${i}-${id.slice(0, 8)}`,
      authorId: spec.authorId ?? `author-${i}`,
      authorName: spec.authorName ?? `Resident ${i}`,
      authorEmail: spec.authorEmail ?? null,
      byCity: false,
      status: 'active',
      currentText: spec.text,
      versionCount: 1,
      firstPlatformAt: spec.at,
      lastPlatformAt: spec.at,
    },
  })
  const eventId = await commentVersion(prisma, id, { platform: spec.platform, text: spec.text, at: spec.at, kind: 'created' })
  return { id, eventId }
}

/** Another version of a comment (an `edited` event); returns the event id. */
export async function commentVersion(
  prisma: PrismaClient,
  commentId: string,
  spec: { platform: string; text: string; at: Date; kind?: 'created' | 'edited' },
): Promise<string> {
  const eventId = randomUUID()
  await prisma.commentEvent.create({
    data: {
      id: eventId,
      commentId,
      kind: spec.kind ?? 'edited',
      platformTime: spec.at,
      text: spec.text,
      eventKey: createHash('sha256').update(`${eventId}`).digest('hex'),
      deliveryId: await delivery(prisma, spec.platform === 'facebook' || spec.platform === 'instagram' ? 'meta' : spec.platform, spec.at),
      ledgerEntryId: randomUUID(),
      receivedAt: spec.at,
    },
  })
  return eventId
}

export interface MatchSpec {
  ruleCode: string
  category?: RuleCategory
  action?: RuleAction
  /** The evidence texts (offsets are made up: the read models use the text). */
  texts: string[]
}

/** The automatic evaluation of one comment version, with matches shaped as src/policy/evaluate.ts writes them. */
export async function evaluation(
  prisma: PrismaClient,
  spec: { commentId: string; eventId: string; policyVersionId: string; matches: MatchSpec[]; evaluatedAt: Date },
): Promise<void> {
  const matches = spec.matches.map((m) => ({
    ruleCode: m.ruleCode,
    category: m.category ?? 'other',
    action: m.action ?? 'flag',
    evidence: m.texts.map((text, i) => ({ start: i * 10, end: i * 10 + text.length, text, detail: text.trim().toLowerCase() })),
  }))
  const outcome = matches.some((m) => m.action === 'remove') ? 'remove' : matches.length > 0 ? 'flag' : 'allow'
  await prisma.commentEvaluation.create({
    data: { eventId: spec.eventId, commentId: spec.commentId, policyVersionId: spec.policyVersionId, outcome, matches, evaluatedAt: spec.evaluatedAt },
  })
}

/** A moderation decision: automatic when the actor is `system` (the default). */
export async function decision(
  prisma: PrismaClient,
  spec: {
    commentId: string
    eventId: string
    action: 'remove' | 'hide' | 'approve' | 'restore'
    decidedAt: Date
    actor?: string
    ruleCodes?: string[]
    policyVersionId?: string | null
    note?: string
  },
): Promise<string> {
  const id = randomUUID()
  const actor = spec.actor ?? 'system'
  await prisma.moderationDecision.create({
    data: {
      id,
      commentId: spec.commentId,
      eventId: spec.eventId,
      policyVersionId: spec.policyVersionId ?? null,
      actor,
      automatic: actor === 'system',
      action: spec.action,
      platformAction: spec.action === 'remove' ? 'delete' : spec.action === 'hide' ? 'hide' : 'none',
      ruleCodes: spec.ruleCodes ?? [],
      evidence: [],
      note: spec.note ?? null,
      ledgerEntryId: randomUUID(),
      decidedAt: spec.decidedAt,
    },
  })
  return id
}

/** An appeal of a decision. */
export async function appeal(
  prisma: PrismaClient,
  spec: { decisionId: string; commentId: string; status: 'open' | 'upheld' | 'reversed'; filedAt: Date; decidedAt?: Date; contact?: string; statement?: string },
): Promise<string> {
  const id = randomUUID()
  const decided = spec.status !== 'open'
  await prisma.appeal.create({
    data: {
      id,
      decisionId: spec.decisionId,
      commentId: spec.commentId,
      contact: spec.contact ?? 'appellant@example.org',
      statement: spec.statement ?? 'Please reconsider.',
      status: spec.status,
      filedAt: spec.filedAt,
      filedEntryId: randomUUID(),
      decidedAt: decided ? (spec.decidedAt ?? spec.filedAt) : null,
      decidedBy: decided ? 'user:test-admin' : null,
      reason: decided ? 'Reviewed.' : null,
      decidedEntryId: decided ? randomUUID() : null,
    },
  })
  return id
}
