import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { decodeSeqCursor, encodeCursor } from '../http/cursor.js'
import type { Role } from '../plugins/auth.js'
import { NotFoundError, Problem } from '../plugins/errors.js'
import { getComment, listComments, toEvent, toSummary } from './queries.js'
import * as S from './schemas.js'

const READERS: readonly Role[] = ['tst_moderator', 'tst_admin', 'records_clerk']

export const commentRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/comments',
    {
      config: { access: READERS },
      schema: {
        tags: ['comments'],
        summary: 'Comments received from every platform, newest first',
        querystring: S.CommentListQuery,
        response: { 200: S.CommentList, 400: Problem, 401: Problem, 403: Problem },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query
      const afterSeq = cursor ? decodeSeqCursor(cursor) : undefined
      const page = await listComments(app.db.prisma, filter, { limit, ...(afterSeq !== undefined ? { afterSeq } : {}) })
      return { items: page.items.map(toSummary), nextCursor: page.next === null ? null : encodeCursor({ seq: page.next.toString() }) }
    },
  )

  app.get(
    '/comments/:id',
    {
      config: { access: READERS },
      schema: {
        tags: ['comments'],
        summary: 'One comment with every version, every platform event and its thread',
        params: S.CommentParams,
        response: { 200: S.CommentDetail, 400: Problem, 401: Problem, 403: Problem, 404: Problem },
      },
    },
    async (request) => {
      const comment = await getComment(app.db.prisma, request.params.id)
      if (!comment) throw new NotFoundError(`No comment ${request.params.id}.`)
      const events = comment.events.map(toEvent)
      return {
        ...toSummary(comment),
        authorEmail: comment.authorEmail,
        versions: events.filter((e) => e.kind === 'created' || e.kind === 'edited'),
        events,
        thread: { parent: comment.parent ? toSummary(comment.parent) : null, replies: comment.replies.map(toSummary) },
      }
    },
  )
}
