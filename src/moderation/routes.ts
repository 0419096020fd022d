import rateLimit from '@fastify/rate-limit'
import type { FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { z } from 'zod'
import { accessFrom, loggedRead } from '../audit/access-log.js'
import { toSummary } from '../comments/queries.js'
import { inTransaction } from '../db/tx.js'
import type { Appeal as AppealRow, ModerationDecision, PlatformAction } from '../generated/prisma/client.js'
import { decodeCursor, encodeCursor } from '../http/cursor.js'
import { actorOf, type Role } from '../plugins/auth.js'
import { NotFoundError, Problem } from '../plugins/errors.js'
import { numberOf, versionNumbers } from '../policy/version-numbers.js'
import { ledgerCheckView, reconcileComments } from '../records/reconcile.js'
import { appealStatus, decideAppeal, fileAppeal } from './appeals.js'
import { decide, previewDecision } from './decisions.js'
import { resolvePlatformAction, retryPlatformAction } from './platform-actions.js'
import { claimItem, listQueue, releaseItem } from './queue.js'
import * as S from './schemas.js'

const MODERATORS: readonly Role[] = ['tst_moderator', 'tst_admin']
const errors = { 400: Problem, 401: Problem, 403: Problem, 404: Problem }
const iso = (d: Date | null) => d?.toISOString() ?? null
type ActionSummary = z.infer<typeof S.Decision>['actions'][number]

function decisionBody(d: ModerationDecision, actions: PlatformAction[], numbers: ReadonlyMap<string, number>): z.infer<typeof S.Decision> {
  return {
    id: d.id,
    commentId: d.commentId,
    versionId: d.eventId,
    actor: d.actor,
    automatic: d.automatic,
    action: d.action as z.infer<typeof S.Decision>['action'],
    platformAction: d.platformAction as z.infer<typeof S.Decision>['platformAction'],
    policyVersionId: d.policyVersionId,
    policyVersion: numberOf(numbers, d.policyVersionId),
    ruleCodes: d.ruleCodes,
    note: d.note,
    noticeText: d.noticeText,
    noticeDelivery: (d.noticeDelivery ?? null) as z.infer<typeof S.Decision>['noticeDelivery'],
    ledgerEntryId: d.ledgerEntryId,
    decidedAt: d.decidedAt.toISOString(),
    actions: actions.filter((a) => a.decisionId === d.id).map(actionBody),
  }
}

function actionBody(a: PlatformAction): ActionSummary {
  return {
    id: a.id,
    operation: a.operation as ActionSummary['operation'],
    status: a.status as ActionSummary['status'],
    attempts: a.attempts,
    lastError: a.lastError,
    text: a.text,
    appealId: a.appealId,
    resolvedBy: a.resolvedBy,
    resolution: a.resolution,
  }
}

function appealBody(a: AppealRow): z.infer<typeof S.Appeal> {
  return {
    id: a.id,
    decisionId: a.decisionId,
    commentId: a.commentId,
    contact: a.contact,
    statement: a.statement,
    status: a.status as z.infer<typeof S.Appeal>['status'],
    filedAt: a.filedAt.toISOString(),
    decidedAt: iso(a.decidedAt),
    decidedBy: a.decidedBy,
    reason: a.reason,
    reversalDecisionId: a.reversalDecisionId,
    outcomeText: a.outcomeText,
    outcomeDelivery: (a.outcomeDelivery ?? null) as z.infer<typeof S.Appeal>['outcomeDelivery'],
  }
}

export const moderationRoutes: FastifyPluginAsyncZod = async (app) => {
  const prisma = app.db.prisma
  const actor = (request: FastifyRequest) => `user:${actorOf(request).sub}`
  const deps = () => ({
    clock: app.clock,
    resolver: app.policy.resolver,
    maxAttempts: app.config.jobs.maxAttempts,
    noticeChannels: app.config.moderation.noticeChannels,
    selfCorrectionMinutes: app.config.moderation.selfCorrectionMinutes,
    appealReviewer: app.config.moderation.appealReviewer,
  })
  // The public routes (appeals by reference) are rate limited per client address.
  await app.register(rateLimit, { global: false })

  app.get(
    '/moderation/queue',
    {
      config: { access: MODERATORS },
      schema: {
        tags: ['moderation'],
        summary: 'Comments waiting for a person (flagged, unevaluated, or a failed platform action), oldest first',
        description: 'What needs a person: flagged by the matcher, not evaluated, or a platform action that failed for good. Each item carries its comment and a check against the ledger; pages with nextCursor; the read is logged.',
        querystring: S.QueueQuery,
        response: { 200: S.Queue, ...errors },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query
      const after = cursor ? decodeCursor(cursor, { createdAt: 'time', id: 'uuid' }) : null
      const page = await loggedRead(prisma, accessFrom(request, 'moderation.queue', request.query, app.clock()), async (tx) => {
        const found = await listQueue(tx, filter, { limit, ...(after ? { after: { createdAt: new Date(after.createdAt), id: after.id } } : {}) }, app.clock())
        // Each comment checked against the ledger in the same snapshot (src/records/reconcile.ts).
        const checks = await reconcileComments(tx, [...new Set(found.items.map((item) => item.comment.id))])
        const numbers = await versionNumbers(tx, found.items.map((item) => item.policyVersionId))
        return { value: { ...found, checks, numbers }, recordIds: found.items.map((item) => item.comment.id) }
      })
      const last = page.items[page.items.length - 1]
      return {
        items: page.items.map((item) => ({
          id: item.id,
          reason: item.reason as z.infer<typeof S.ReviewReason>,
          versionId: item.eventId,
          policyVersionId: item.policyVersionId,
          policyVersion: numberOf(page.numbers, item.policyVersionId),
          ruleCodes: item.ruleCodes,
          evidence: item.evidence,
          createdAt: item.createdAt.toISOString(),
          claimedBy: item.claimedBy,
          claimExpiresAt: iso(item.claimExpiresAt),
          comment: toSummary(item.comment),
          ledger: ledgerCheckView(page.checks.get(item.comment.id)!),
        })),
        nextCursor: page.more && last ? encodeCursor({ createdAt: last.createdAt.toISOString(), id: last.id }) : null,
      }
    },
  )

  const claimResponse = (item: { id: string; claimedBy: string | null; claimExpiresAt: Date | null }) => ({ id: item.id, claimedBy: item.claimedBy, claimExpiresAt: iso(item.claimExpiresAt) })

  app.post(
    '/moderation/queue/:itemId/claim',
    {
      config: { access: MODERATORS },
      schema: {
        tags: ['moderation'],
        summary: `Claim an item for ${app.config.moderation.claimMinutes} minutes, so no one else decides it meanwhile (renewable)`,
        description: 'A claim keeps other moderators from deciding the item while it lasts; claiming again renews it. 409 when someone else holds it.',
        params: S.ItemParams,
        response: { 200: S.ReviewItem.pick({ id: true, claimedBy: true, claimExpiresAt: true }), 409: Problem, ...errors },
      },
    },
    async (request) => claimResponse(await inTransaction(prisma, (tx) => claimItem(tx, actor(request), request.params.itemId, app.config.moderation.claimMinutes, app.clock()))),
  )

  app.delete(
    '/moderation/queue/:itemId/claim',
    {
      config: { access: MODERATORS },
      schema: { tags: ['moderation'], summary: 'Release a claim', description: 'Ends one\'s own claim early so others can take the item. 409 when the claim is someone else\'s.', params: S.ItemParams, response: { 200: S.ReviewItem.pick({ id: true, claimedBy: true, claimExpiresAt: true }), 409: Problem, ...errors } },
    },
    async (request) => claimResponse(await inTransaction(prisma, (tx) => releaseItem(tx, actor(request), request.params.itemId, app.clock()))),
  )

  app.post(
    '/comments/:id/decisions',
    {
      config: { access: MODERATORS, idempotent: true },
      schema: {
        tags: ['moderation'],
        summary: 'Decide a comment: remove, hide, approve or restore; recorded in the ledger and carried out on the platform',
        description:
          "versionId must be the comment's latest version (409 otherwise, so nobody decides on text they did not see). A removal or hide cites rules of the policy version in force when it was posted. " +
          'The notice follows the action taken (removed, hidden, restored), names each cited rule once in the words of the policy version in force, ' +
          'and is recorded in the ledger exactly as sent. A decision identical to the one in force (same action, rules, policy version and comment version) ' +
          'records nothing and sends nothing: the answer is 200 with that decision. Restoring one\'s own removal is allowed only within ' +
          `${app.config.moderation.selfCorrectionMinutes} minutes and before its notice reached the author (409 self-reversal otherwise).`,
        params: S.CommentParams,
        body: S.DecisionInput,
        response: { 200: S.Decision, 201: S.Decision, 409: Problem, 422: Problem, ...errors },
      },
    },
    async (request, reply) => {
      const result = await inTransaction(prisma, async (tx) => {
        const recorded = await decide(tx, actor(request), request.params.id, request.body, deps())
        const decision = await tx.moderationDecision.findUniqueOrThrow({ where: { id: recorded.decisionId } })
        const actions = await tx.platformAction.findMany({ where: { decisionId: decision.id }, orderBy: { createdAt: 'asc' } })
        return { body: decisionBody(decision, actions, await versionNumbers(tx, [decision.policyVersionId])), existing: recorded.existing }
      })
      return reply.status(result.existing ? 200 : 201).send(result.body)
    },
  )

  app.post(
    '/comments/:id/decisions/preview',
    {
      config: { access: MODERATORS },
      schema: {
        tags: ['moderation'],
        summary: 'The exact notice and deliveries a proposed decision would produce, before it is made (nothing is recorded)',
        description:
          'Computed as the decision itself would be: the same policy version, rules, templates and notice channels. The author\'s appeal reference, ' +
          'which only the real decision creates, is shown as XXXXX-XXXXX. Refusals are those of the decision (stale version, unknown rule, unsupported action).',
        params: S.CommentParams,
        body: S.DecisionInput,
        response: { 200: S.DecisionPreview, 409: Problem, 422: Problem, ...errors },
      },
    },
    async (request) => inTransaction(prisma, (tx) => previewDecision(tx, actor(request), request.params.id, request.body, deps())),
  )

  app.post(
    '/platform-actions/:actionId/retry',
    {
      config: { access: MODERATORS },
      schema: {
        tags: ['moderation'],
        summary: 'Run a failed platform action again (recorded in the ledger; no new decision, no new notice)',
        description: 'Only a failed action can be retried (409 otherwise). The retry is a ledger entry (platform.action.retried) and a new job; the comment leaves the queue once none of its actions is failed.',
        params: S.ActionParams,
        response: { 200: S.PlatformActionSummary, 409: Problem, ...errors },
      },
    },
    async (request) => actionBody(await inTransaction(prisma, (tx) => retryPlatformAction(tx, actor(request), request.params.actionId, deps()))),
  )

  app.post(
    '/platform-actions/:actionId/resolve',
    {
      config: { access: MODERATORS },
      schema: {
        tags: ['moderation'],
        summary: 'Mark a failed platform action resolved by hand, with a reason (recorded in the ledger; no new decision, no new notice)',
        description: 'For what was done in the platform\'s own app, or is no longer needed. Only a failed action (409 otherwise); recorded as platform.action.resolved with the reason.',
        params: S.ActionParams,
        body: S.ResolveInput,
        response: { 200: S.PlatformActionSummary, 409: Problem, ...errors },
      },
    },
    async (request) => actionBody(await inTransaction(prisma, (tx) => resolvePlatformAction(tx, actor(request), request.params.actionId, request.body.reason, deps()))),
  )

  app.get(
    '/comments/:id/decisions',
    {
      config: { access: [...MODERATORS, 'records_clerk', 'auditor'] },
      schema: { tags: ['moderation'], summary: "Every decision on a comment, with its platform actions' status", description: 'Oldest first, each with its policy version, rules, note, notice text and the status of its platform actions. The read is logged.', params: S.CommentParams, response: { 200: S.DecisionList, ...errors } },
    },
    async (request) => {
      // Decisions carry notes and notice texts: a read of the comment's record, logged found or not.
      const items = await loggedRead(prisma, accessFrom(request, 'comments.decisions', request.params, app.clock()), async (tx) => {
        const comment = await tx.comment.findUnique({ where: { id: request.params.id } })
        if (!comment) return { value: null, recordIds: [] }
        const decisions = await tx.moderationDecision.findMany({ where: { commentId: comment.id }, orderBy: { decidedAt: 'asc' } })
        const actions = await tx.platformAction.findMany({ where: { commentId: comment.id }, orderBy: { createdAt: 'asc' } })
        const numbers = await versionNumbers(tx, decisions.map((d) => d.policyVersionId))
        return { value: decisions.map((d) => decisionBody(d, actions, numbers)), recordIds: [comment.id] }
      })
      if (!items) throw new NotFoundError(`No comment ${request.params.id}.`)
      return { items, nextCursor: null }
    },
  )

  const appealDeps = () => ({ clock: app.clock, windowDays: app.config.moderation.appealWindowDays })

  app.post(
    '/appeals',
    {
      config: { access: 'public', idempotent: true, rateLimit: { max: 10, timeWindow: '1 hour' } },
      schema: {
        tags: ['appeals'],
        summary: `Appeal a removal or hide with the reference its notice gave the author, within ${app.config.moderation.appealWindowDays} days (public; one appeal per decision)`,
        description:
          'Only the reference names the decision: a reference that is not in use, mistyped or guessed, gets 404 and changes nothing, ' +
          'and the 404 is the same whether such a reference ever existed or not.',
        body: S.AppealInput,
        response: { 201: S.AppealReceipt, 409: Problem, 429: Problem, ...errors },
      },
    },
    async (request, reply) => {
      const appeal = await inTransaction(prisma, (tx) => fileAppeal(tx, request.body, appealDeps()))
      return reply.status(201).send({ id: appeal.id, status: 'open' as const, filedAt: appeal.filedAt.toISOString() })
    },
  )

  app.get(
    '/appeals/by-reference/:reference',
    {
      config: { access: 'public', rateLimit: { max: 30, timeWindow: '1 hour' } },
      schema: {
        tags: ['appeals'],
        summary: 'Where the appeal of a decision stands, by the reference in its notice (public; dates and status only)',
        description: 'Public and rate limited, for the author who has the notice: whether the decision can still be appealed, and the appeal\'s status and dates. An unknown reference is 404, the same whether it ever existed or not.',
        params: S.ReferenceParams,
        response: { 200: S.AppealStatus, 429: Problem, ...errors },
      },
    },
    async (request) => {
      const found = await inTransaction(prisma, (tx) => appealStatus(tx, request.params.reference, appealDeps()))
      return {
        status: found.status,
        decidedAt: found.decidedAt.toISOString(),
        appealableUntil: found.appealableUntil.toISOString(),
        filedAt: iso(found.filedAt),
        appealDecidedAt: iso(found.appealDecidedAt),
        notice: found.notice,
        noticeDelivery: found.noticeDelivery as z.infer<typeof S.AppealStatus>['noticeDelivery'],
        outcome: found.outcome,
      }
    },
  )

  app.get(
    '/appeals',
    {
      config: { access: ['tst_admin'] },
      schema: { tags: ['appeals'], summary: 'Appeals, oldest first', description: 'Every appeal with the appellant\'s contact and statement, optionally by status, oldest first. The read is logged.', querystring: S.AppealQuery, response: { 200: S.AppealList, ...errors } },
    },
    async (request) =>
      // Appeals carry the appellant's contact and statement: the ids of their comments, one per appeal, in order.
      loggedRead(prisma, accessFrom(request, 'appeals.list', request.query, app.clock()), async (tx) => {
        const appeals = await tx.appeal.findMany({ where: request.query.status ? { status: request.query.status } : {}, orderBy: { filedAt: 'asc' }, take: 500 })
        return { value: { items: appeals.map(appealBody), nextCursor: null }, recordIds: appeals.map((a) => a.commentId) }
      }),
  )

  app.post(
    '/appeals/:id/decision',
    {
      config: { access: ['tst_admin'] },
      schema: {
        tags: ['appeals'],
        summary: 'Uphold or reverse a removal; the outcome is sent to the author and published under the reference; a reversal restores the comment',
        description:
          `Decided by a tst_admin other than the person whose decision is appealed (APPEAL_REVIEWER=${app.config.moderation.appealReviewer}); otherwise 409 appeal-reviewer naming the rule. ` +
          'The outcome notice goes over the channels the platform allows for a second message (Facebook and Instagram allow one private reply per comment: none), ' +
          "by e-mail to the appellant's contact when it is an address, and is recorded in the ledger like the notice.",
        params: S.AppealParams,
        body: S.AppealDecisionInput,
        response: { 200: S.Appeal, 409: Problem, ...errors },
      },
    },
    async (request) => appealBody(await inTransaction(prisma, (tx) => decideAppeal(tx, actor(request), request.params.id, request.body, deps()))),
  )
}
