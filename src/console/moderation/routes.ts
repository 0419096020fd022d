// The review queue pages: the same domain functions as /v1/moderation/queue and
// /v1/comments/:id/decisions, with the reads logged in the access log like the API's.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { accessFrom, loggedRead } from '../../audit/access-log.js'
import { decodeCursor, encodeCursor } from '../../http/cursor.js'
import { inTransaction, type Tx } from '../../db/tx.js'
import { decide } from '../../moderation/decisions.js'
import { claimItem, listQueue, releaseItem, type ReviewReason } from '../../moderation/queue.js'
import type { Role } from '../../plugins/auth.js'
import { ProblemError, ValidationProblem } from '../../plugins/errors.js'
import type { RuleMatch } from '../../policy/rules.js'
import { sendPage, viewerOf } from '../plugin.js'
import { ItemPage, PLATFORM_NAMES, QueuePage, REASON_NAMES, type DecideForm, type ItemView } from './views.js'

const MODERATORS: readonly Role[] = ['tst_moderator', 'tst_admin']
const PAGE = { access: 'public', page: MODERATORS } as const
const PAGE_SIZE = 50
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

const text = (value: unknown) => (typeof value === 'string' ? value.trim() : '')
const actorOfPage = (request: FastifyRequest) => `user:${request.consoleSession!.subject}`

export async function moderationPages(app: FastifyInstance): Promise<void> {
  const prisma = app.db.prisma

  app.get('/console/queue', { config: PAGE, schema: { hide: true } }, async (request, reply) => {
    const q = request.query as Record<string, unknown>
    const filter = {
      platform: text(q.platform) in PLATFORM_NAMES ? text(q.platform) : '',
      reason: text(q.reason) in REASON_NAMES ? text(q.reason) : '',
      rule: text(q.rule).slice(0, 20),
    }
    let after: { createdAt: Date; id: string } | undefined
    try {
      const c = text(q.cursor) ? decodeCursor(text(q.cursor), { createdAt: 'time', id: 'uuid' }) : null
      if (c) after = { createdAt: new Date(c.createdAt), id: c.id }
    } catch {
      after = undefined // a mangled cursor starts from the oldest item
    }
    const now = app.clock()
    const page = await loggedRead(prisma, accessFrom(request, 'moderation.queue', { ...filter, console: true }, now), async (tx) => {
      const found = await listQueue(
        tx,
        { ...(filter.platform ? { platform: filter.platform } : {}), ...(filter.reason ? { reason: filter.reason as ReviewReason } : {}), ...(filter.rule ? { ruleCode: filter.rule } : {}) },
        { limit: PAGE_SIZE, ...(after ? { after } : {}) },
        now,
      )
      return { value: found, recordIds: found.items.map((i) => i.comment.id) }
    })
    const last = page.items[page.items.length - 1]
    const nextHref =
      page.more && last
        ? '/console/queue?' + new URLSearchParams({ ...filter, cursor: encodeCursor({ createdAt: last.createdAt.toISOString(), id: last.id }) }).toString()
        : null
    return sendPage(
      reply,
      QueuePage({
        viewer: viewerOf(request)!,
        now,
        filter,
        nextHref,
        notice:
          text(q.decided) === '1'
            ? { type: 'success', heading: 'Decision recorded', text: 'The decision is in the ledger; the platform action and the notice to the author follow as jobs.' }
            : text(q.gone) === '1'
              ? { type: 'info', heading: 'That item is no longer in the queue', text: 'Someone decided it meanwhile, or it never existed. The queue below is current.' }
              : null,
        rows: page.items.map((i) => ({
          id: i.id,
          reason: i.reason,
          ruleCodes: i.ruleCodes,
          createdAt: i.createdAt,
          claimedBy: i.claimedBy,
          claimExpiresAt: i.claimExpiresAt,
          comment: { platform: i.comment.platform, authorName: i.comment.authorName, text: i.comment.currentText },
        })),
      }),
    )
  })

  /** Everything one item's page shows, read in one logged snapshot; null when there is no such open item. */
  async function itemView(request: FastifyRequest, itemId: string): Promise<ItemView | null> {
    if (!UUID.test(itemId)) return null
    const now = app.clock()
    return loggedRead(prisma, accessFrom(request, 'moderation.queue.item', { itemId, console: true }, now), async (tx) => {
      const view = await readItem(tx, itemId)
      return { value: view, recordIds: view ? [view.comment.id] : [] }
    })
  }

  async function readItem(tx: Tx, itemId: string): Promise<ItemView | null> {
    const item = await tx.reviewItem.findUnique({ where: { id: itemId }, include: { comment: true } })
    if (!item || item.status !== 'open') return null
    const versions = await tx.commentEvent.findMany({
      where: { commentId: item.commentId, kind: { in: ['created', 'edited'] } },
      orderBy: [{ platformTime: 'asc' }, { receivedAt: 'asc' }],
      select: { id: true, kind: true, platformTime: true, text: true },
    })
    const latest = versions[versions.length - 1]
    if (!latest) return null
    const [effective] = await app.policy.resolver.versionsAt(tx, [latest.platformTime])
    const history = item.comment.authorId
      ? await tx.comment.findMany({
          where: { platform: item.comment.platform, authorId: item.comment.authorId, id: { not: item.commentId } },
          orderBy: { lastPlatformAt: 'desc' },
          take: 5,
          select: { currentText: true, lastPlatformAt: true, moderationStatus: true },
        })
      : []
    const next = await tx.reviewItem.findFirst({
      where: { status: 'open', OR: [{ createdAt: { gt: item.createdAt } }, { createdAt: item.createdAt, id: { gt: item.id } }] },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      select: { id: true },
    })
    const stale = latest.id !== item.eventId
    const matches = Array.isArray(item.evidence) ? (item.evidence as unknown as RuleMatch[]) : []
    return {
      id: item.id,
      reason: item.reason,
      createdAt: item.createdAt,
      claimedBy: item.claimedBy,
      claimExpiresAt: item.claimExpiresAt,
      versionId: latest.id,
      versionText: latest.text,
      versionPlatformTime: latest.platformTime,
      stale,
      // Evidence offsets belong to the version the rules saw; an edit makes them meaningless.
      evidence: stale ? [] : matches.flatMap((m) => (Array.isArray(m.evidence) ? m.evidence.map((e) => ({ ruleCode: m.ruleCode, start: e.start, end: e.end })) : [])),
      ruleCodes: item.ruleCodes,
      comment: {
        id: item.comment.id,
        platform: item.comment.platform,
        authorName: item.comment.authorName,
        postId: item.comment.postId,
        status: item.comment.status,
        moderationStatus: item.comment.moderationStatus,
      },
      versions,
      authorHistory: history.map((h) => ({ text: h.currentText, platformTime: h.lastPlatformAt, moderationStatus: h.moderationStatus })),
      policyVersion: effective?.version ?? null,
      rules: effective?.content.rules ?? [],
      nextItemId: next?.id ?? null,
    }
  }

  // Decided by someone else meanwhile, or never there: back to the queue, which says so.
  const gone = (_request: FastifyRequest, reply: Parameters<typeof sendPage>[0]) => reply.redirect('/console/queue?gone=1', 303)

  const itemPage = async (
    request: FastifyRequest,
    reply: Parameters<typeof sendPage>[0],
    item: ItemView,
    extra: { form?: DecideForm; errors?: Array<{ field: string; message: string }>; conflict?: string | null; status?: number } = {},
  ) =>
    sendPage(
      reply,
      ItemPage({
        viewer: viewerOf(request)!,
        viewerActor: actorOfPage(request),
        now: app.clock(),
        item,
        form: extra.form ?? { action: '', ruleCodes: [], note: '' },
        errors: extra.errors ?? [],
        conflict: extra.conflict ?? null,
      }),
      extra.status ?? 200,
    )

  app.get('/console/queue/:itemId', { config: PAGE, schema: { hide: true } }, async (request, reply) => {
    const item = await itemView(request, (request.params as { itemId: string }).itemId)
    if (!item) return gone(request, reply)
    return itemPage(request, reply, item)
  })

  app.post('/console/queue/:itemId/claim', { config: PAGE, schema: { hide: true } }, async (request, reply) => {
    const itemId = (request.params as { itemId: string }).itemId
    if (!UUID.test(itemId)) return gone(request, reply)
    const release = text((request.body as Record<string, unknown>)?.claim) === 'release'
    try {
      await inTransaction(prisma, (tx) =>
        release ? releaseItem(tx, actorOfPage(request), itemId, app.clock()) : claimItem(tx, actorOfPage(request), itemId, app.config.moderation.claimMinutes, app.clock()),
      )
    } catch (err) {
      if (!(err instanceof ProblemError) || err.status === 500) throw err
      const item = await itemView(request, itemId)
      if (!item) return gone(request, reply)
      return itemPage(request, reply, item, { conflict: err.message, status: err.status })
    }
    return reply.redirect(`/console/queue/${itemId}`, 303)
  })

  app.post('/console/queue/:itemId/decision', { config: PAGE, schema: { hide: true } }, async (request, reply) => {
    const itemId = (request.params as { itemId: string }).itemId
    const item = await itemView(request, itemId)
    if (!item) return gone(request, reply)
    const body = (request.body ?? {}) as Record<string, unknown>
    const form: DecideForm = {
      action: text(body.action),
      ruleCodes: [body.ruleCodes ?? []].flat().filter((c): c is string => typeof c === 'string'),
      note: typeof body.note === 'string' ? body.note : '',
    }
    const errors: Array<{ field: string; message: string }> = []
    if (!['approve', 'hide', 'remove'].includes(form.action)) errors.push({ field: 'action-approve', message: 'Choose a decision' })
    if ((form.action === 'hide' || form.action === 'remove') && form.ruleCodes.length === 0) {
      errors.push({ field: `rule-${item.rules[0]?.code ?? ''}`, message: `Cite at least one rule for a ${form.action === 'hide' ? 'hide' : 'removal'}` })
    }
    if (form.note.length > 2000) errors.push({ field: 'note', message: 'Keep the note under 2,000 characters' })
    if (errors.length) return itemPage(request, reply, item, { form, errors, status: 400 })
    try {
      await inTransaction(prisma, (tx) =>
        decide(
          tx,
          actorOfPage(request),
          item.comment.id,
          { action: form.action as 'approve' | 'hide' | 'remove', versionId: text(body.versionId), ruleCodes: form.ruleCodes, ...(form.note.trim() ? { note: form.note.trim() } : {}) },
          { clock: app.clock, resolver: app.policy.resolver, maxAttempts: app.config.jobs.maxAttempts },
        ),
      )
    } catch (err) {
      if (!(err instanceof ProblemError) || err.status >= 500) throw err
      // A stale version, someone else's claim, a platform that cannot do it: shown, nothing changed.
      const fresh = await itemView(request, itemId)
      if (!fresh) return gone(request, reply)
      if (err instanceof ValidationProblem) return itemPage(request, reply, fresh, { form, errors: [{ field: 'action-approve', message: err.message }], status: 400 })
      return itemPage(request, reply, fresh, { form, conflict: err.message, status: err.status })
    }
    return reply.redirect('/console/queue?decided=1', 303)
  })
}
