import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod'
import { decodeSeqCursor, encodeCursor } from '../http/cursor.js'
import { Problem } from '../plugins/errors.js'
import { accessFrom, listAccess, loggedRead, toAccessView } from './access-log.js'
import * as S from './schemas.js'
import { resolveRange } from '../http/dates.js'

export const auditRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/audit/access',
    {
      config: { access: ['auditor'] },
      schema: {
        tags: ['audit'],
        summary: 'The access log: every read of retained records by a person, newest first',
        description: 'Reading the log is itself logged (action audit.access, with the entry ids returned).',
        querystring: S.AccessQuery,
        response: { 200: S.AccessLogPage, 400: Problem, 401: Problem, 403: Problem },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = resolveRange(request.query, app.config.cityTimeZone)
      const afterSeq = cursor ? decodeSeqCursor(cursor) : undefined
      return loggedRead(app.db.prisma, accessFrom(request, 'audit.access', request.query, app.clock()), async (tx) => {
        const page = await listAccess(tx, filter, { limit, afterSeq })
        return {
          value: { items: page.items.map(toAccessView), nextCursor: page.next === null ? null : encodeCursor({ seq: page.next.toString() }) },
          recordIds: page.items.map((e) => e.id),
        }
      })
    },
  )
}
