import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { accessFrom, loggedRead } from '../audit/access-log.js'
import { decodeSeqCursor, encodeCursor } from '../http/cursor.js'
import type { Role } from '../plugins/auth.js'
import { NotFoundError, Problem } from '../plugins/errors.js'
import { eventCheckView, ledgerCheckView, reconcileComments } from '../records/reconcile.js'
import { getComment, listComments, toEvent, toSummary } from './queries.js'
import * as S from './schemas.js'
import { resolveRange } from '../http/dates.js'

const READERS: readonly Role[] = ['tst_moderator', 'tst_admin', 'records_clerk']

export const commentRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/comments',
    {
      config: { access: READERS },
      schema: {
        tags: ['comments'],
        summary: 'Comments received from every platform, newest first',
        description: 'Filter by platform, status and dates of latest activity (from/to: a plain date is a day in CITY_TIME_ZONE); pages with nextCursor. Each read is recorded in the access log.',
        querystring: S.CommentListQuery,
        response: { 200: S.CommentList, 400: Problem, 401: Problem, 403: Problem },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = resolveRange(request.query, app.config.cityTimeZone)
      const afterSeq = cursor ? decodeSeqCursor(cursor) : undefined
      return loggedRead(app.db.prisma, accessFrom(request, 'comments.list', request.query, app.clock()), async (tx) => {
        const page = await listComments(tx, filter, { limit, ...(afterSeq !== undefined ? { afterSeq } : {}) })
        return {
          value: { items: page.items.map(toSummary), nextCursor: page.next === null ? null : encodeCursor({ seq: page.next.toString() }) },
          recordIds: page.items.map((c) => c.id),
        }
      })
    },
  )

  app.get(
    '/comments/:id',
    {
      config: { access: READERS },
      schema: {
        tags: ['comments'],
        summary: 'One comment with every version, every platform event and its thread',
        description: 'Every version the platform sent, each platform event (edits, deletions, hides), the thread around it, and its moderation status. The read is recorded in the access log.',
        params: S.CommentParams,
        response: { 200: S.CommentDetail, 400: Problem, 401: Problem, 403: Problem, 404: Problem },
      },
    },
    async (request) => {
      // The comment, then its parent and replies (their text is returned too); a miss is logged.
      // Checked against the ledger in the read's snapshot (src/records/reconcile.ts).
      const read = await loggedRead(app.db.prisma, accessFrom(request, 'comments.read', request.params, app.clock()), async (tx) => {
        const found = await getComment(tx, request.params.id)
        const check = found ? (await reconcileComments(tx, [found.id])).get(found.id)! : null
        return { value: found && check ? { comment: found, check } : null, recordIds: found ? [found.id, ...(found.parent ? [found.parent.id] : []), ...found.replies.map((r) => r.id)] : [] }
      })
      if (!read) throw new NotFoundError(`No comment ${request.params.id}.`)
      const { comment, check } = read
      const events = comment.events.map((e) => ({ ...toEvent(e), ...eventCheckView(check, e.id) }))
      return {
        ...toSummary(comment),
        ledger: ledgerCheckView(check),
        authorEmail: comment.authorEmail,
        versions: events.filter((e) => e.kind === 'created' || e.kind === 'edited'),
        events,
        thread: { parent: comment.parent ? toSummary(comment.parent) : null, replies: comment.replies.map(toSummary) },
      }
    },
  )
}
