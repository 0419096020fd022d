import type { FastifyReply, FastifyRequest } from 'fastify'
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import type { z } from 'zod'
import { accessFrom, loggedRead } from '../audit/access-log.js'
import { effectivePlatformConfig } from '../connections/connections.js'
import type { AccountBlockAction, PrismaClient } from '../generated/prisma/client.js'
import { csv } from '../http/csv.js'
import { decodeSeqCursor, encodeCursor } from '../http/cursor.js'
import { instantOf, optionalInstant } from '../http/dates.js'
import type { Tx } from '../db/tx.js'
import { actorOf, type Role } from '../plugins/auth.js'
import { Problem } from '../plugins/errors.js'
import { blockHistory, changeBlock, currentBlocks, type BlockFilter, type BlockPage } from './blocks.js'
import * as S from './block-schemas.js'

/**
 * Who may block: tst_admin only. A block shuts a person out of a public forum for every future
 * comment, a heavier act than removing one comment, so it takes the role that decides appeals.
 */
const BLOCKERS: readonly Role[] = ['tst_admin']
/** Who may read the list: it is a public record a clerk produces on request. */
const READERS: readonly Role[] = ['tst_moderator', 'tst_admin', 'records_clerk', 'auditor']
const errors = { 400: Problem, 401: Problem, 403: Problem }
type View = z.infer<typeof S.BlockAction>

const CSV_COLUMNS = ['platform', 'account', 'authorId', 'authorName', 'action', 'method', 'policyVersion', 'ruleCodes', 'reason', 'actor', 'occurredAt', 'recordedAt', 'id', 'ledgerEntryId']

async function views(tx: Tx | PrismaClient, rows: AccountBlockAction[]): Promise<View[]> {
  const ids = [...new Set(rows.map((r) => r.policyVersionId).filter((v): v is string => v !== null))]
  const numbers = new Map((await tx.policyVersion.findMany({ where: { id: { in: ids } }, select: { id: true, version: true } })).map((v) => [v.id, v.version]))
  return rows.map((r) => ({
    id: r.id,
    platform: r.platform as View['platform'],
    account: r.account,
    authorId: r.authorId,
    authorName: r.authorName,
    action: r.action as View['action'],
    method: r.method as View['method'],
    policyVersionId: r.policyVersionId,
    policyVersion: r.policyVersionId ? (numbers.get(r.policyVersionId) ?? null) : null,
    ruleCodes: r.ruleCodes,
    reason: r.reason,
    commentId: r.commentId,
    actor: r.actor,
    occurredAt: r.occurredAt.toISOString(),
    recordedAt: r.recordedAt.toISOString(),
    ledgerEntryId: r.ledgerEntryId,
  }))
}

function csvOf(items: View[]): string {
  return csv(
    CSV_COLUMNS,
    items.map((v) => [v.platform, v.account, v.authorId, v.authorName ?? '', v.action, v.method, v.policyVersion === null ? '' : String(v.policyVersion), v.ruleCodes.join(' '), v.reason, v.actor, v.occurredAt, v.recordedAt, v.id, v.ledgerEntryId]),
  )
}

export const blockRoutes: FastifyPluginAsyncZod = async (app) => {
  const prisma = app.db.prisma
  const actor = (request: FastifyRequest) => `user:${actorOf(request).sub}`
  const deps = () => ({ clock: app.clock, resolver: app.policy.resolver, platforms: () => effectivePlatformConfig(prisma, app.config) })
  const zone = app.config.cityTimeZone

  const change = (action: 'block' | 'unblock') => async (request: FastifyRequest<{ Body: z.infer<typeof S.BlockInput> | z.infer<typeof S.UnblockInput> }>, reply: FastifyReply) => {
    const { occurredAt, ...rest } = request.body
    const row = await changeBlock(prisma, actor(request), action, { ...rest, ...(occurredAt ? { occurredAt: instantOf(occurredAt, zone) } : {}) }, deps())
    const [view] = await views(prisma, [row])
    return reply.status(201).send(view)
  }

  app.post(
    '/blocks',
    {
      config: { access: BLOCKERS, idempotent: true },
      schema: {
        tags: ['moderation'],
        summary: 'Block (ban) an account from a city page, through the platform API or as done in its app; recorded in the ledger',
        description:
          'method api blocks through the platform (Facebook: the Page blocked edge; the website: its API) and records it only once the platform said yes (502 otherwise, nothing recorded). ' +
          "method manual records a block done in the platform's app (Instagram, X and LinkedIn have no API for it), with when it was done (occurredAt, never in the future). " +
          'Either way the block cites rules of the policy in force and a reason, and its ledger entry (account.block) says who did it. 409 when the account is already blocked there. tst_admin only.',
        body: S.BlockInput,
        response: { 201: S.BlockAction, 404: Problem, 409: Problem, 422: Problem, 502: Problem, ...errors },
      },
    },
    change('block'),
  )

  app.post(
    '/blocks/unblock',
    {
      config: { access: BLOCKERS, idempotent: true },
      schema: {
        tags: ['moderation'],
        summary: 'Unblock an account, through the platform API or as done in its app; recorded in the ledger',
        description: 'Like a block: method api unblocks through the platform, manual records an unblock done in the app. 409 when the account is not blocked there. tst_admin only.',
        body: S.UnblockInput,
        response: { 201: S.BlockAction, 404: Problem, 409: Problem, 422: Problem, 502: Problem, ...errors },
      },
    },
    change('unblock'),
  )

  const list = (which: 'current' | 'history') => async (request: FastifyRequest<{ Querystring: z.infer<typeof S.BlockQuery> }>, reply: FastifyReply) => {
    const q = request.query
    const filter: BlockFilter = { platform: q.platform, q: q.q, from: optionalInstant(q.from, zone, 'start'), to: optionalInstant(q.to, zone, 'end') }
    const csvWanted = q.format === 'csv'
    const page: BlockPage = { limit: csvWanted ? 100_000 : q.limit, ...(q.cursor && !csvWanted ? { afterSeq: decodeSeqCursor(q.cursor) } : {}) }
    const found = await loggedRead(prisma, accessFrom(request, which === 'current' ? 'blocks.list' : 'blocks.history', q, app.clock()), async (tx) => {
      const result = which === 'current' ? await currentBlocks(tx, filter, page) : await blockHistory(tx, filter, page)
      // The ledger entries read (the access log's record ids are what was read).
      return { value: { items: await views(tx, result.items), next: result.next }, recordIds: result.items.map((r) => r.id) }
    })
    if (csvWanted) {
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${which === 'current' ? 'blocked-accounts' : 'block-history'}.csv"`)
        .serializer((payload: unknown) => payload as string)
        .send(csvOf(found.items) as never)
    }
    return { items: found.items, nextCursor: found.next === null ? null : encodeCursor({ seq: found.next.toString() }) }
  }

  app.get(
    '/blocks',
    {
      config: { access: READERS },
      schema: {
        tags: ['moderation'],
        summary: 'The accounts blocked now, newest first, as JSON or CSV (format=csv): the public record of blocked users',
        description:
          "Each account whose latest block action is a block, with who blocked it, under which rules and why. Searchable by platform, words (q) and dates (from/to: a plain date is a day in the city's time zone). " +
          "Illinois' Public Access Counselor has treated a city's list of blocked users as a public record: format=csv is the list a clerk produces. Reading it is logged.",
        querystring: S.BlockQuery,
        produces: ['application/json', 'text/csv'],
        response: { 200: S.BlockList.describe('format=json; format=csv answers text/csv, one row per account'), ...errors },
      },
    },
    list('current'),
  )

  app.get(
    '/blocks/history',
    {
      config: { access: READERS },
      schema: {
        tags: ['moderation'],
        summary: 'Every block and unblock, newest first, as JSON or CSV (format=csv)',
        description: 'The whole history, including unblocked accounts, with the same filters as GET /blocks. Reading it is logged.',
        querystring: S.BlockQuery,
        produces: ['application/json', 'text/csv'],
        response: { 200: S.BlockList.describe('format=json; format=csv answers text/csv, one row per action'), ...errors },
      },
    },
    list('history'),
  )
}
